// SNP ID block signing per IGVMGEN.md §9 (ECDSA P-384/SHA-384, no low-S normalisation) and the IGVM_VHS_SNP_ID_BLOCK model (FORMAT.md §6).
import { ecBackend } from '../crypto/ec-backend.js';
import { signP384Digest, isValidP384Scalar } from '../crypto/ecdsa-p384.js';
import { ByteReader, ByteWriter } from '../bytes.js';
import { sha384 } from '../crypto/hash.js';
import { describeCurve } from '../crypto/ec-key.js';
import type { EcPrivateKey } from '../crypto/ec-key.js';
import { IgvmError } from '../errors.js';
import type { SnpIdBlock } from '../model.js';
import {
  IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY,
  IGVM_VHS_SNP_ID_BLOCK_SIGNATURE,
  SNP_ALGORITHM_ECDSA_P384_SHA384,
  SNP_CURVE_P384,
} from '../spec/snp-id-block.js';

/** The signed SEV-SNP ID block values (the policy is signed but not stored in the IGVM structure). */
export interface SnpIdBlockFields {
  ld: Uint8Array;
  familyId: Uint8Array;
  imageId: Uint8Array;
  version: number;
  guestSvn: number;
  policy: bigint;
}

/** r, s, Qx, Qy: each a 48-byte little-endian integer followed by 24 zero bytes (72 bytes). */
export interface IdSignature {
  r: Uint8Array;
  s: Uint8Array;
  qx: Uint8Array;
  qy: Uint8Array;
}

const P384_BYTES = 48;
const COMPONENT_BYTES = 72;
export const ID_BLOCK_MESSAGE_BYTES = 96;

function badField(path: string, message: string): never {
  throw new IgvmError('id-block-bad-field', message, { path });
}

function checkBytes(b: Uint8Array, size: number, path: string): void {
  if (!(b instanceof Uint8Array) || b.length !== size) badField(path, `expected ${size} bytes, got ${b instanceof Uint8Array ? b.length : typeof b}`);
}

function checkU32(v: number, path: string): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) badField(path, `expected an integer 0..4294967295, got ${String(v)}`);
}

/** The 96 bytes that are signed: ld ‖ family_id ‖ image_id ‖ version u32 ‖ guest_svn u32 ‖ policy u64 (little-endian). */
export function idBlockMessage(f: SnpIdBlockFields): Uint8Array {
  checkBytes(f.ld, 48, 'ld');
  checkBytes(f.familyId, 16, 'familyId');
  checkBytes(f.imageId, 16, 'imageId');
  checkU32(f.version, 'version');
  checkU32(f.guestSvn, 'guestSvn');
  if (typeof f.policy !== 'bigint' || f.policy < 0n || f.policy > 0xffffffffffffffffn) {
    badField('policy', `expected a 64-bit unsigned bigint, got ${String(f.policy)}`);
  }
  const w = new ByteWriter(ID_BLOCK_MESSAGE_BYTES);
  w.put(0, f.ld);
  w.put(48, f.familyId);
  w.put(64, f.imageId);
  w.u32(80, f.version);
  w.u32(84, f.guestSvn);
  w.u64(88, f.policy);
  return w.bytes;
}

/** Big-endian bytes → 72-byte field: little-endian value then zero padding. */
export function toComponent(be: Uint8Array): Uint8Array {
  const out = new Uint8Array(COMPONENT_BYTES);
  for (let i = 0; i < be.length; i++) out[i] = be[be.length - 1 - i]!;
  return out;
}

/** 72-byte field → 48 big-endian bytes, or undefined when the padding is not zero. */
export function fromComponent(c: Uint8Array): Uint8Array | undefined {
  if (c.length !== COMPONENT_BYTES) return undefined;
  for (let i = P384_BYTES; i < COMPONENT_BYTES; i++) if (c[i] !== 0) return undefined;
  const out = new Uint8Array(P384_BYTES);
  for (let i = 0; i < P384_BYTES; i++) out[i] = c[P384_BYTES - 1 - i]!;
  return out;
}

/**
 * Sign the ID block with a P-384 key: ECDSA over SHA-384(message), RFC 6979 (HMAC-SHA-384) nonce when `deterministic`,
 * else a hedged random nonce; `s` is used as produced (no low-S normalisation, IGVMGEN.md §9.2).
 * Divergence from igvmgen: keys on other curves are rejected ('key-unsupported-curve') instead of producing an ID block
 * that does not verify (IGVMGEN.md §9.3).
 */
export function signIdBlock(f: SnpIdBlockFields, key: EcPrivateKey, opts: { deterministic: boolean }): IdSignature {
  const where = key.file !== undefined ? { file: key.file } : {};
  if (key.curve !== 'P-384') {
    throw new IgvmError(
      'key-unsupported-curve',
      `the key is on curve ${describeCurve(key.curve)}; the SNP ID block needs P-384 (secp384r1, 1.3.132.0.34)`,
      where,
    );
  }
  if (!isValidP384Scalar(key.d)) {
    throw new IgvmError('key-bad-scalar', 'the private scalar is not a 48-byte value in 1..n-1 for P-384', where);
  }
  const digest = sha384(idBlockMessage(f));
  const extra = opts.deterministic ? undefined : crypto.getRandomValues(new Uint8Array(P384_BYTES));
  const sig = signP384Digest(digest, key.d, extra);
  const pub = ecBackend().publicKey('P-384', key.d);
  return {
    r: toComponent(sig.r),
    s: toComponent(sig.s),
    qx: toComponent(pub.subarray(1, 1 + P384_BYTES)),
    qy: toComponent(pub.subarray(1 + P384_BYTES, 1 + 2 * P384_BYTES)),
  };
}

/** A fresh random P-384 key (the igvmgen behaviour without -sign_key). */
export function randomP384Key(): EcPrivateKey {
  for (;;) {
    const d = crypto.getRandomValues(new Uint8Array(P384_BYTES));
    if (isValidP384Scalar(d)) return { curve: 'P-384', d };
  }
}

/** True when `sig` is a valid P-384/SHA-384 signature of the ID block by the key Qx/Qy (high S accepted). */
export function verifyIdBlockSignature(f: SnpIdBlockFields, sig: IdSignature): boolean {
  const parts = [sig.r, sig.s, sig.qx, sig.qy].map(fromComponent);
  const [r, s, qx, qy] = parts;
  if (!r || !s || !qx || !qy) return false;
  return ecBackend().verifyP384(idBlockMessage(f), r, s, qx, qy);
}

/** The SNP_ID_BLOCK (0x30B) header model for the fields and signature, as igvmgen writes it (IGVMGEN.md §9.1). */
export function idBlockHeader(f: SnpIdBlockFields, sig: IdSignature, compatibilityMask: number): SnpIdBlock {
  idBlockMessage(f); // validates the fields
  checkU32(compatibilityMask, 'compatibilityMask');
  for (const name of ['r', 's', 'qx', 'qy'] as const) checkBytes(sig[name], COMPONENT_BYTES, name);
  const signature = new ByteWriter(IGVM_VHS_SNP_ID_BLOCK_SIGNATURE.size);
  IGVM_VHS_SNP_ID_BLOCK_SIGNATURE.write(signature, 0, { r_comp: sig.r, s_comp: sig.s });
  const publicKey = new ByteWriter(IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY.size);
  IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY.write(publicKey, 0, { curve: SNP_CURVE_P384, reserved: 0, qx: sig.qx, qy: sig.qy });
  return {
    type: 'SNP_ID_BLOCK',
    compatibility_mask: compatibilityMask,
    author_key_enabled: 0,
    reserved: new Uint8Array(3),
    ld: f.ld.slice(),
    family_id: f.familyId.slice(),
    image_id: f.imageId.slice(),
    version: f.version,
    guest_svn: f.guestSvn,
    id_key_algorithm: SNP_ALGORITHM_ECDSA_P384_SHA384,
    author_key_algorithm: 0,
    id_key_signature: signature.bytes,
    id_public_key: publicKey.bytes,
    author_key_signature: new Uint8Array(IGVM_VHS_SNP_ID_BLOCK_SIGNATURE.size),
    author_public_key: new Uint8Array(IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY.size),
  };
}

/** The signature and public key stored in an SNP_ID_BLOCK header (for checking or re-signing a parsed file). */
export function idSignatureFromHeader(h: SnpIdBlock): IdSignature {
  const sig = IGVM_VHS_SNP_ID_BLOCK_SIGNATURE.read(new ByteReader(h.id_key_signature), 0);
  const pub = IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY.read(new ByteReader(h.id_public_key), 0);
  return { r: sig.r_comp.slice(), s: sig.s_comp.slice(), qx: pub.qx.slice(), qy: pub.qy.slice() };
}
