// `igvm verify FILE [--vmm MODEL] [--vcpus N] [--json]`: check the file's SNP ID blocks (MEASUREMENT.md §7).
import type { CommandSpec } from '../framework.js';
import { SNP_VMMS } from '../../measure/snp/types.js';

export const verifyCommand: CommandSpec = {
  name: 'verify',
  summary: 'check the SNP ID block: signature, ld against the launch digest, key digests',
  usage: 'FILE [--vmm igvm|qemu|clh-kvm|clh-mshv|igvmmeasure] [--vcpus N] [--json]',
  description:
    'For every SNP_ID_BLOCK: verifies the ECDSA P-384/SHA-384 ID key signature over the 96-byte ID block (with the GUEST_POLICY of its mask), ' +
    'compares ld with the launch digest of the chosen model (default igvm, the crate rule), checks the algorithm, curve and version fields, ' +
    'checks the author key signature over the ID key when an author key is enabled, and prints ID_KEY_DIGEST (and AUTHOR_KEY_DIGEST) as the attestation report will show them. Exit 0 when every block is usable, 1 otherwise (also when there is none).',
  positionals: [{ name: 'FILE', description: 'IGVM file' }],
  options: [
    { name: 'vmm', type: 'choice', choices: SNP_VMMS, default: 'igvm', valueName: 'MODEL', description: 'model whose launch digest ld must equal' },
    { name: 'vcpus', type: 'number', default: 1, valueName: 'N', description: 'vCPU count for the KVM-based models' },
    { name: 'json', type: 'boolean', description: 'print the verification of each block as JSON' },
  ],
  examples: [
    { command: 'igvm verify guest.igvm', description: 'signature and ld (crate rule)' },
    { command: 'igvm verify guest.igvm --vmm qemu --vcpus 4', description: 'ld against what QEMU+KVM will measure for 4 vCPUs' },
  ],
  async run(ctx) {
    const [{ readInput }, { parseIgvm }, { verifyIdBlocks }, { toJson, bytesToHex }, { namingFile }] = await Promise.all([
      import('../../io/files.js'), import('../../format/index.js'), import('../../snp/verify.js'), import('../json.js'), import('../../errors.js'),
    ]);
    const path = ctx.args.positionals[0]!;
    const bytes = readInput(path);
    const file = namingFile(path, () => parseIgvm(bytes));
    const vmm = (ctx.args.options['vmm'] as string | undefined ?? 'igvm') as (typeof SNP_VMMS)[number];
    const vcpus = (ctx.args.options['vcpus'] as number | undefined) ?? 1;
    const results = verifyIdBlocks(file, { vmm, vcpus });
    if (ctx.args.options['json']) ctx.out(toJson({ file: path, blocks: results }));
    else if (results.length === 0) ctx.out(`${path}: no SNP_ID_BLOCK\n`);
    else {
      const lines: string[] = [];
      for (const r of results) {
        lines.push(`${path}: SNP_ID_BLOCK #${r.directive} (mask 0x${r.mask.toString(16)}): ${r.problems.length === 0 ? 'ok' : 'NOT usable'}`);
        lines.push(`  signature       ${r.signatureValid ? 'valid' : 'INVALID'} (policy ${r.policy === undefined ? 'none' : `0x${r.policy.toString(16)}`})`);
        lines.push(`  ld              ${r.ldMatches ? 'matches' : 'differs from'} the ${r.vmm} launch digest${r.digest ? ` ${bytesToHex(r.digest)}` : ''}`);
        lines.push(`  id key digest   ${bytesToHex(r.idKeyDigest)}`);
        if (r.authorKeyDigest) lines.push(`  author key dig. ${bytesToHex(r.authorKeyDigest)} (signature over the ID key ${r.authorSignatureValid ? 'valid' : 'INVALID'})`);
        for (const p of r.problems) lines.push(`  problem: ${p}`);
      }
      ctx.out(lines.join('\n') + '\n');
    }
    return results.length > 0 && results.every((r) => r.problems.length === 0) ? 0 : 1;
  },
};
