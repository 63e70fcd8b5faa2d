// `igvm measure FILE`: the SEV-SNP launch digest per VMM model, its PAGE_INFO trace and the model comparison (MEASUREMENT.md §1–§3).
import type { CommandSpec } from '../framework.js';
import { SNP_VMMS } from '../../measure/snp/types.js';

export const measureCommand: CommandSpec = {
  name: 'measure',
  summary: 'compute the SEV-SNP launch digest of a file as a given tool or VMM would',
  usage: 'FILE [--platform sev-snp|sev-es|sev|tdx|vbs] [--all] [--vmm MODEL] [--vcpus N] [--native-zero] [--json | --format text|json|igvmgen] [--trace] [--compare-vmms] [--mnonce HEX --tik HEX --api-version M.m --build N [--policy HEX]]',
  description:
    'SEV-SNP (default): the SNP_LAUNCH_UPDATE PAGE_INFO chain (the MEASUREMENT of the attestation report). A digest is only meaningful together with the VMM that launches the file: ' +
    'igvm = the microsoft/igvm crate rule (default); qemu = QEMU 10.2 + KVM (late page-region flush, one KVM VMSA per vCPU at 0xfffffffff000); ' +
    'clh-kvm = Cloud Hypervisor + KVM (pages without data as ZERO pages, KVM VMSAs); clh-mshv = Cloud Hypervisor + MSHV (pages sorted by GPA, one page per parameter insert); ' +
    'igvmmeasure = coconut-svsm igvmmeasure (mask & M != 0, one page per parameter insert, --native-zero). ' +
    "KVM-built VMSAs are modelled as the file's VMSA page for each vCPU with a VP context and a reset-state VMSA (RDX = 0) for the others. " +
    "When the file has an SNP_ID_BLOCK, reports whether its ld equals each model's digest (reported only; the exit code is 0). " +
    '--platform tdx (MRTD), vbs (boot digest): the crate rules; sev, sev-es: igvmmeasure\'s SHA-256, and with --mnonce/--tik/--api-version/--build the LAUNCH_MEASURE HMAC the PSP returns. ' +
    '--format json prints reference values (schema igvmkit.reference-values.v1) for --platform or, with --all, every platform; --format igvmgen the original igvmgen measurement file. ' +
    'Exit 1 when the file is invalid, lacks the platform, or the model cannot measure it (e.g. the crate rule without a GUEST_POLICY).',
  positionals: [{ name: 'FILE', description: 'IGVM file (- for standard input)' }],
  options: [
    { name: 'platform', type: 'string', default: 'sev-snp', valueName: 'PLATFORM', description: 'platform to measure: sev-snp (every --vmm model), sev-es, sev (igvmmeasure SHA-256), tdx (MRTD), vbs (boot digest)' },
    { name: 'vmm', type: 'choice', choices: SNP_VMMS, default: 'igvm', valueName: 'MODEL', description: 'tool or VMM whose measurement to reproduce (sev-snp: every model; sev, sev-es: igvmmeasure or qemu)' },
    { name: 'vcpus', type: 'number', default: 1, description: 'vCPU count: KVM-based models measure one VMSA per vCPU' },
    { name: 'native-zero', type: 'boolean', description: "igvmmeasure's --native-zero: pages without data as ZERO pages" },
    { name: 'json', type: 'boolean', description: 'print {file, platform, vmm, mask, digest, notes, id_blocks, steps?, compare?} as JSON' },
    { name: 'trace', type: 'boolean', description: 'print every step: SEV-SNP PAGE_INFO (gpa, page type, contents hash, running digest, source directive); TDX/SEV one row per page, VBS one per record' },
    { name: 'all', type: 'boolean', description: 'measure every platform the file declares (SEV-SNP with --vmm, SEV-ES/SEV igvmmeasure, TDX, VBS)' },
    { name: 'compare-vmms', type: 'boolean', description: 'measure with every model and explain where each departs from the crate rule' },
    { name: 'format', type: 'choice', choices: ['text', 'json', 'igvmgen'], default: 'text', valueName: 'FORMAT', description: 'text; json = reference values (schema igvmkit.reference-values.v1: per platform digest, policy, svn, family/image id, key digests); igvmgen = the original igvmgen measurement file' },
    { name: 'svn', type: 'string', valueName: 'STR', description: "--format igvmgen: the x-ms-sevsnpvm-guestsvn string (igvmgen's -svn, default 0)" },
    { name: 'mnonce', type: 'string', valueName: 'HEX', description: 'SEV/SEV-ES: the 16-byte MNONCE LAUNCH_MEASURE returned; with --tik prints the HMAC the PSP reports' },
    { name: 'tik', type: 'string', valueName: 'HEX', description: 'SEV/SEV-ES: the 16-byte transport integrity key of the launch' },
    { name: 'api-version', type: 'string', valueName: 'M.m', description: "SEV/SEV-ES with --mnonce: the firmware's API_MAJOR.API_MINOR" },
    { name: 'build', type: 'number', valueName: 'N', description: "SEV/SEV-ES with --mnonce: the firmware's BUILD" },
    { name: 'policy', type: 'string', valueName: 'HEX', description: "SEV/SEV-ES with --mnonce: the launch policy (default: the file's GUEST_POLICY)" },
  ],
  examples: [
    { command: 'igvm measure guest.igvm', description: 'the crate-rule digest' },
    { command: 'igvm measure guest.igvm --vmm clh-kvm --vcpus 4', description: 'what Cloud Hypervisor on KVM measures for a 4-vCPU guest' },
    { command: 'igvm measure guest.igvm --trace > igvm.txt && igvm measure guest.igvm --trace --vmm clh-mshv > mshv.txt', description: 'two traces to diff' },
    { command: 'igvm measure guest.igvm --compare-vmms', description: 'all models side by side, with the directive that makes each differ' },
    { command: 'igvm measure guest.igvm --all --format json > reference.json', description: 'reference values of every platform for an attestation verifier' },
    { command: 'igvm measure guest.igvm --format igvmgen --svn 5', description: "igvmgen's -measurement_file JSON" },
    { command: 'igvm measure guest.igvm --platform tdx --trace', description: 'the MRTD with one row per page' },
    { command: 'igvm measure guest.igvm --platform sev-es --mnonce 00…00 --tik 00…00 --api-version 1.55 --build 21', description: 'the LAUNCH_MEASURE value the PSP returns' },
  ],
  async run(ctx) {
    // The implementation (models, loader, worker pool) is loaded only when the command runs.
    const { runMeasure } = await import('./measure-run.js');
    return runMeasure(ctx);
  },
};
