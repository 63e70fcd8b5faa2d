// `igvm sign FILE -o OUT`: add or replace the SEV-SNP ID block, online (--id-key) or offline (--export-id-block, then --id-signature) (MEASUREMENT.md §7).
import type { CommandSpec } from '../framework.js';
import { SNP_VMMS } from '../../measure/snp/types.js';

/** IgvmError codes that are mistakes in the options or the key/signature files given (exit 2); everything else found in the file is exit 1. */
const USAGE_CODES = new Set(['sign-bad-signature-file', 'sign-bad-id-block-file', 'sign-id-block-conflict', 'sign-bad-field', 'id-block-bad-field']);

export const signCommand: CommandSpec = {
  name: 'sign',
  summary: 'add or replace the SEV-SNP ID block of a file (online key, or export + import of an HSM signature)',
  usage:
    'FILE -o OUT (--id-key P384.pem | --id-signature SIG --id-public-key PUB.pem) [--author-key P384.pem | --author-signature SIG --author-public-key PUB.pem] ' +
    '[--family-id HEX] [--image-id HEX] [--version N] [--svn N] [--policy HEX] [--vmm MODEL] [--vcpus N] [--deterministic] [--id-block BLOCK]\n' +
    '       igvm sign --export-id-block FILE -o block.bin [field options]\n' +
    '       igvm sign --export-id-key PUB.pem -o idkey.bin',
  description:
    'Computes ld, the SEV-SNP launch digest of FILE for --vmm (default igvm, the crate rule; the first SEV_SNP platform), builds the 96-byte ID block ' +
    '(ld, family_id, image_id, version, guest_svn, and the GUEST_POLICY of the platform, or --policy which also replaces or adds that GUEST_POLICY), ' +
    'signs it with ECDSA P-384/SHA-384, and writes FILE with the SNP_ID_BLOCK replaced in place (or appended as the last directive) and every other byte kept. ' +
    'With an author key, the author signature covers the 1028-byte ID key structure (author_key_enabled 1, AuthorKeyAlgorithm 1). ' +
    'Offline: --export-id-block writes the 96 bytes for an HSM to sign; --id-signature imports its signature (DER ECDSA-Sig-Value or raw 96-byte r‖s big-endian), ' +
    'which must verify over the same block, so give the same field options; --id-block imports the exported block itself. ' +
    '--export-id-key writes the 1028-byte ID key structure an offline author key signs. Every signature of the output is verified before it is written. ' +
    'HEX ids are bytes in file order, zero-padded on the right to 16 bytes (01 → 01 00 … 00). ' +
    'Exit 0 written; 1 the file cannot be signed or a signature does not verify; 2 bad options, keys or signature files; 3 I/O. Nothing is written on error.',
  positionals: [{ name: 'FILE', description: 'IGVM file to sign (absent with --export-id-key)', optional: true }],
  options: [
    { name: 'output', short: 'o', type: 'string', valueName: 'FILE', description: 'file to write (required): the signed IGVM file, the ID block or the ID key structure' },
    { name: 'id-key', type: 'string', valueName: 'FILE', description: 'P-384 private key (PEM or DER, SEC1 or PKCS#8) that signs the ID block' },
    { name: 'author-key', type: 'string', valueName: 'FILE', description: 'P-384 private key that signs the ID key (author key)' },
    { name: 'id-signature', type: 'string', valueName: 'FILE', description: 'ID block signature made elsewhere: DER ECDSA-Sig-Value or raw 96-byte r‖s (needs --id-public-key)' },
    { name: 'id-public-key', type: 'string', valueName: 'FILE', description: 'P-384 public key (PEM "PUBLIC KEY" or DER SPKI) of --id-signature' },
    { name: 'author-signature', type: 'string', valueName: 'FILE', description: 'author signature over the 1028-byte ID key structure (needs --author-public-key)' },
    { name: 'author-public-key', type: 'string', valueName: 'FILE', description: 'P-384 public key of --author-signature' },
    { name: 'id-block', type: 'string', valueName: 'FILE', description: 'the exported 96-byte ID block: fields taken from it (its ld must be the digest of FILE)' },
    { name: 'export-id-block', type: 'boolean', description: 'write the 96-byte ID block to sign (ECDSA P-384 with SHA-384) to -o instead of signing' },
    { name: 'export-id-key', type: 'string', valueName: 'PUB.pem', description: 'write the 1028-byte ID key structure of this public key (what the author key signs) to -o' },
    { name: 'family-id', type: 'string', valueName: 'HEX', description: 'FAMILY_ID, up to 16 bytes (default zero)' },
    { name: 'image-id', type: 'string', valueName: 'HEX', description: 'IMAGE_ID, up to 16 bytes (default zero)' },
    { name: 'version', type: 'number', valueName: 'N', description: 'ID block version (default 1; the firmware requires 1)' },
    { name: 'svn', type: 'number', valueName: 'N', description: 'guest SVN (default 0)' },
    { name: 'policy', type: 'string', valueName: 'HEX', description: "guest policy to sign and to store in the platform's GUEST_POLICY (default: the file's)" },
    { name: 'vmm', type: 'choice', choices: SNP_VMMS, default: 'igvm', valueName: 'MODEL', description: 'model whose launch digest becomes ld' },
    { name: 'vcpus', type: 'number', default: 1, valueName: 'N', description: 'vCPU count for the KVM-based models' },
    { name: 'deterministic', type: 'boolean', description: 'RFC 6979 nonces (reproducible output) instead of random ones' },
  ],
  examples: [
    { command: 'igvm sign guest.igvm --id-key id-p384.pem -o signed.igvm', description: 'sign for the crate-rule digest' },
    { command: 'igvm sign guest.igvm --id-key id.pem --author-key author.pem --family-id 01 --image-id 02 --svn 2 --vmm qemu --vcpus 4 -o signed.igvm', description: 'ID and author key, for what QEMU+KVM measures with 4 vCPUs' },
    { command: 'igvm sign --export-id-block guest.igvm --svn 2 -o block.bin', description: 'offline, step 1: the 96 bytes for the HSM' },
    { command: 'igvm sign guest.igvm --svn 2 --id-signature block.sig --id-public-key hsm-pub.pem -o signed.igvm', description: 'offline, step 2: import the HSM signature (same field options)' },
  ],
  mapError: (e) => (e.code.startsWith('key-') || USAGE_CODES.has(e.code) ? 2 : e.code === 'sign-output-invalid' ? 3 : 1),
  async run(ctx) {
    // Keys, measurement and the serializer are loaded only when the command runs.
    const { runSign } = await import('./sign-run.js');
    return runSign(ctx);
  },
};
