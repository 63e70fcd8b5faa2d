// Check the SNP ID blocks of a file: signature (ECDSA P-384/SHA-384 over the 96-byte ID block), ld against the launch
// digest of a VMM model, ID/author key digests as the attestation report shows them (MEASUREMENT.md §7).
import { sha384 } from '../crypto/hash.js';
import type { IgvmFile, SnpIdBlock } from '../model.js';
import { idSignatureFromHeader, verifyIdBlockSignature } from './id-block.js';
import { measureSnp } from '../measure/snp/index.js';
import type { SnpVmm } from '../measure/snp/types.js';
import { IgvmError } from '../errors.js';
import { verifyAuthorSignature } from './id-signature.js';

/** The 1028-byte SEV-SNP public key structure: curve u32 ‖ qx (72) ‖ qy (72), zero-padded (the IGVM form's reserved u32 dropped). */
export function snpPublicKeyStructure(publicKey152: Uint8Array): Uint8Array {
  const out = new Uint8Array(1028);
  out.set(publicKey152.subarray(0, 4), 0);
  out.set(publicKey152.subarray(8, 152), 4);
  return out;
}

export interface IdBlockVerification {
  /** Index of the SNP_ID_BLOCK in IgvmFile.directives. */
  directive: number;
  mask: number;
  /** The GUEST_POLICY for the block's mask (signed as part of the ID block), or undefined when the file has none. */
  policy: bigint | undefined;
  signatureValid: boolean;
  /** SHA-384 of the 1028-byte ID key structure (ID_KEY_DIGEST in the attestation report). */
  idKeyDigest: Uint8Array;
  /** AUTHOR_KEY_DIGEST when an author key is enabled. */
  authorKeyDigest: Uint8Array | undefined;
  /** Whether the author key's signature over the 1028-byte ID key structure verifies; undefined without an author key. */
  authorSignatureValid: boolean | undefined;
  /** The model's launch digest and whether ld equals it. */
  vmm: SnpVmm;
  digest: Uint8Array | undefined;
  ldMatches: boolean;
  /** Everything that makes the block unusable, in words. */
  problems: string[];
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Verify every SNP_ID_BLOCK of `file` against the launch digest of `vmm` (default: the crate rule). */
export function verifyIdBlocks(file: IgvmFile, opts: { vmm?: SnpVmm; vcpus?: number } = {}): IdBlockVerification[] {
  const vmm = opts.vmm ?? 'igvm';
  const out: IdBlockVerification[] = [];
  let measured: { digest: Uint8Array } | { error: string } | undefined;
  file.directives.forEach((d, i) => {
    if (d.type !== 'SNP_ID_BLOCK') return;
    const h = d as SnpIdBlock;
    const problems: string[] = [];
    const policy = file.initializations.find((x) => x.type === 'GUEST_POLICY' && (x.compatibility_mask & h.compatibility_mask) !== 0);
    const policyValue = policy && policy.type === 'GUEST_POLICY' ? policy.policy : undefined;
    if (policyValue === undefined) problems.push('no GUEST_POLICY for the ID block\'s mask: the signed policy is unknown (QEMU uses 0)');
    if (h.id_key_algorithm !== 1) problems.push(`IdKeyAlgorithm is ${h.id_key_algorithm}; the firmware accepts 1 (ECDSA P-384 with SHA-384)`);
    const curve = new DataView(h.id_public_key.buffer, h.id_public_key.byteOffset, 4).getUint32(0, true);
    if (curve !== 2) problems.push(`IdPublicKey curve is ${curve}; expected 2 (P-384)`);
    if (h.version !== 1) problems.push(`version is ${h.version}; the firmware requires 1 (QEMU forces 1, which invalidates this signature)`);
    const signatureValid = verifyIdBlockSignature(
      { ld: h.ld, familyId: h.family_id, imageId: h.image_id, version: h.version, guestSvn: h.guest_svn, policy: policyValue ?? 0n },
      idSignatureFromHeader(h),
    );
    if (!signatureValid) problems.push('the ID key signature does not verify over the ID block (ld, family_id, image_id, version, guest_svn, policy)');
    if (measured === undefined) {
      try {
        measured = { digest: measureSnp(file, vmm, opts.vcpus !== undefined ? { vcpus: opts.vcpus } : {}).digest };
      } catch (e) {
        if (!(e instanceof IgvmError)) throw e;
        measured = { error: e.message };
      }
    }
    const digest = 'digest' in measured ? measured.digest : undefined;
    const ldMatches = digest !== undefined && equal(digest, h.ld);
    if ('error' in measured) problems.push(`the ${vmm} model cannot measure the file: ${measured.error}`);
    else if (!ldMatches) problems.push(`ld differs from the ${vmm} launch digest`);
    const authorEnabled = h.author_key_enabled !== 0;
    const authorSignatureValid = authorEnabled ? verifyAuthorSignature(h) : undefined;
    if (authorEnabled && h.author_key_algorithm !== 1) problems.push(`AuthorKeyAlgorithm is ${h.author_key_algorithm}; the firmware accepts 1 (ECDSA P-384 with SHA-384) when an author key is enabled`);
    if (authorSignatureValid === false) problems.push('the author key signature does not verify over the ID key structure');
    out.push({
      directive: i, mask: h.compatibility_mask, policy: policyValue, signatureValid,
      idKeyDigest: sha384(snpPublicKeyStructure(h.id_public_key)),
      authorKeyDigest: authorEnabled ? sha384(snpPublicKeyStructure(h.author_public_key)) : undefined,
      authorSignatureValid,
      vmm, digest, ldMatches, problems,
    });
  });
  return out;
}
