// `igvm diff A B [--json]`: structural diff of two IGVM files for reproducible builds (FORMAT.md §2–§8, MEASUREMENT.md).
import type { CommandSpec } from '../framework.js';
import { SNP_VMMS } from '../../measure/snp/types.js';

export const diffCommand: CommandSpec = {
  name: 'diff',
  summary: 'structural diff of two files: headers, platforms, directives (pages as GPA ranges), VP registers, measurements',
  usage: 'A B [--json] [--limit N] [--no-measure] [--vmm MODEL] [--vcpus N]',
  description:
    'Parses both files as the microsoft/igvm crate does and compares their models, not their bytes: the fixed header, platforms, guest policies (decoded bits) and other ' +
    'initialization headers, then the directive lists aligned on a key that ignores data (type + GPA + mask, area index, VP index), so an added or changed header does not shift the rest. ' +
    'Runs of consecutive added, removed or changed PAGE_DATA are merged into GPA ranges, with the first differing byte of each changed page; VP contexts are compared register by register. ' +
    'For each platform with a measurement model (SEV-SNP: --vmm, default the crate rule; TDX, VBS, SEV-ES/SEV igvmmeasure) the digests of A and B are shown and, when they differ, the first step where the traces diverge with the directive behind it. ' +
    'Exit 0 when the files are structurally equal (also when their bytes differ, e.g. another data layout: the report says so), 1 when they differ, 2 on a usage error, 3 when a file cannot be read or is not a valid IGVM file.',
  positionals: [
    { name: 'A', description: 'first IGVM file (- for standard input)' },
    { name: 'B', description: 'second IGVM file' },
  ],
  options: [
    { name: 'json', type: 'boolean', description: 'print the diff as JSON (the library IgvmDiff object)' },
    { name: 'limit', type: 'number', default: 8, valueName: 'N', description: 'changed pages listed per PAGE_DATA range' },
    { name: 'measure', type: 'boolean', default: true, description: 'compare the launch measurements (--no-measure skips them)' },
    { name: 'vmm', type: 'choice', choices: SNP_VMMS, default: 'igvm', valueName: 'MODEL', description: 'SEV-SNP model of the measurements (as igvm measure --vmm)' },
    { name: 'vcpus', type: 'number', default: 1, valueName: 'N', description: 'vCPU count for the KVM-based SEV-SNP models' },
  ],
  examples: [
    { command: 'igvm diff old.igvm new.igvm', description: 'what changed, and where the SEV-SNP launch digest starts to differ' },
    { command: 'igvm diff a.igvm b.igvm --json | jq .summary', description: 'the one-line summary' },
    { command: 'igvm diff a.igvm b.igvm --vmm qemu --vcpus 4', description: 'where the digest QEMU + KVM measure for 4 vCPUs starts to differ' },
  ],
  // An invalid file means the files cannot be compared: 3, so that 1 always means "they differ".
  mapError: () => 3,
  async run(ctx) {
    const { runDiff } = await import('./diff-run.js');
    return runDiff(ctx);
  },
};
