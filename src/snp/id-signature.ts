// ECDSA P-384 signatures and public keys in the SNP ID block's forms: 144-byte {r, s}, 152-byte key, 1028-byte ID key structure, DER/raw import (MEASUREMENT.md §7.1–§7.2).
import { ecBackend } from '../crypto/ec-backend.js';
import { isValidP384Scalar, signP384Digest, P384_N, bytesToBig } from '../crypto/ecdsa-p384.js';
import { sha384 } from '../crypto/hash.js';
import { describeCurve, ecPublicKeyOf, type EcPrivateKey, type EcPublicKey } from '../crypto/ec-key.js';
import { DER_SEQUENCE, parseEcdsaSigValue } from '../crypto/der.js';
import { IgvmError } from '../errors.js';
import type { SnpIdBlock } from '../model.js';
import { snpPublicKeyStructure } from './verify.js';
import { fromComponent, toComponent } from './id-block.js';
import { SNP_CURVE_P384 } from '../spec/snp-id-block.js';

const P384_BYTES = 48;
/** Raw (IEEE P1363) ECDSA P-384 signature: r ‖ s, 48 bytes each, big-endian. */
export const RAW_P384_SIGNATURE_BYTES = 96;
/** The SEV-SNP public key structure the author key signs (ID_KEY, MEASUREMENT.md §7.1). */
export const SNP_PUBLIC_KEY_STRUCTURE_BYTES = 1028;

/** An ECDSA P-384 signature: r and s as 48-byte big-endian integers. */
export interface P384Signature {
  r: Uint8Array;
  s: Uint8Array;
}

const where = (file: string | undefined): { file?: string } => (file !== undefined ? { file } : {});


/** Left-pad a big-endian magnitude to 48 bytes; undefined when it is longer. */
function fit48(v: Uint8Array): Uint8Array | undefined {
  if (v.length > P384_BYTES) return undefined;
  const out = new Uint8Array(P384_BYTES);
  out.set(v, P384_BYTES - v.length);
  return out;
}

/** Throws 'key-unsupported-curve' unless `pub` is a P-384 key. */
export function requireP384PublicKey(pub: EcPublicKey, file?: string): void {
  if (pub.curve !== 'P-384') {
    throw new IgvmError('key-unsupported-curve', `the public key is on curve ${describeCurve(pub.curve)}; the SNP ID block needs P-384 (secp384r1, 1.3.132.0.34)`, where(file));
  }
}

function requireP384PrivateKey(key: EcPrivateKey): void {
  if (key.curve !== 'P-384') {
    throw new IgvmError('key-unsupported-curve', `the key is on curve ${describeCurve(key.curve)}; the SNP ID block needs P-384 (secp384r1, 1.3.132.0.34)`, where(key.file));
  }
  if (!isValidP384Scalar(key.d)) throw new IgvmError('key-bad-scalar', 'the private scalar is not a 48-byte value in 1..n-1 for P-384', where(key.file));
}

/** The IGVM public key field (152 bytes): curve 2 ‖ reserved 0 ‖ Qx (72, LE) ‖ Qy (72, LE). */
export function igvmPublicKeyField(pub: EcPublicKey, file?: string): Uint8Array {
  requireP384PublicKey(pub, file);
  const out = new Uint8Array(152);
  new DataView(out.buffer).setUint32(0, SNP_CURVE_P384, true);
  out.set(toComponent(pub.x), 8);
  out.set(toComponent(pub.y), 80);
  return out;
}

/** The public key in an IGVM 152-byte field, or undefined when it is not a P-384 key with zero padding. */
export function publicKeyFromField(field: Uint8Array): EcPublicKey | undefined {
  if (field.length !== 152 || new DataView(field.buffer, field.byteOffset, 4).getUint32(0, true) !== SNP_CURVE_P384) return undefined;
  const x = fromComponent(field.subarray(8, 80));
  const y = fromComponent(field.subarray(80, 152));
  return x && y ? { curve: 'P-384', x, y } : undefined;
}

/** The 1028-byte SEV-SNP ID key structure of a P-384 public key (what the author key signs; SHA-384 of it is ID_KEY_DIGEST). */
export function idKeyStructure(pub: EcPublicKey, file?: string): Uint8Array {
  return snpPublicKeyStructure(igvmPublicKeyField(pub, file));
}

/** The IGVM signature field (144 bytes): r (72, LE) ‖ s (72, LE). */
export function signatureField(sig: P384Signature): Uint8Array {
  const out = new Uint8Array(144);
  out.set(toComponent(sig.r), 0);
  out.set(toComponent(sig.s), 72);
  return out;
}

/** The signature in an IGVM 144-byte field, or undefined when the padding is not zero. */
export function signatureFromField(field: Uint8Array): P384Signature | undefined {
  const r = fromComponent(field.subarray(0, 72));
  const s = fromComponent(field.subarray(72, 144));
  return r && s ? { r, s } : undefined;
}

/**
 * Decode a signature made elsewhere (an HSM, a KMS, openssl): DER ECDSA-Sig-Value SEQUENCE { INTEGER r, INTEGER s }
 * (openssl dgst, AWS KMS, PKCS#11 wrappers), or the raw 96-byte r ‖ s big-endian form (IEEE P1363; Azure Key Vault,
 * WebCrypto, PKCS#11 CKM_ECDSA). r and s must be in 1..n−1. Errors: 'sign-bad-signature-file'.
 */
export function parseEcdsaSignature(bytes: Uint8Array, file?: string): P384Signature {
  const bad = (message: string): never => {
    throw new IgvmError('sign-bad-signature-file', message, where(file));
  };
  let sig: P384Signature | undefined;
  let derError: IgvmError | undefined;
  if (bytes.length > 0 && bytes[0] === DER_SEQUENCE) {
    try {
      const { r, s } = parseEcdsaSigValue(bytes, { code: 'sign-bad-signature-file', ...where(file), rawFile: true });
      const r48 = fit48(r);
      const s48 = fit48(s);
      if (!r48 || !s48) bad(`the DER signature's ${!r48 ? 'r' : 's'} is ${(!r48 ? r : s).length} bytes; a P-384 signature has values of at most 48 bytes`);
      sig = { r: r48!, s: s48! };
    } catch (e) {
      if (!(e instanceof IgvmError)) throw e;
      derError = e;
    }
  }
  if (sig === undefined && bytes.length === RAW_P384_SIGNATURE_BYTES) {
    sig = { r: bytes.slice(0, 48), s: bytes.slice(48) };
  }
  if (sig === undefined) {
    if (derError !== undefined) throw derError;
    bad(`expected a DER ECDSA-Sig-Value (SEQUENCE { INTEGER r, INTEGER s }, starting 0x30) or a raw 96-byte r ‖ s P-384 signature, found ${bytes.length} bytes${bytes.length > 0 ? ` starting 0x${bytes[0]!.toString(16).padStart(2, '0')}` : ''}`);
  }
  for (const [name, v] of [['r', sig!.r], ['s', sig!.s]] as const) {
    const n = bytesToBig(v);
    if (n === 0n || n >= P384_N) bad(`the signature's ${name} is not in 1..n-1 for P-384`);
  }
  return sig!;
}

/** ECDSA P-384/SHA-384 signature of `message`: RFC 6979 nonce when `deterministic`, else hedged random; no low-S normalisation. */
export function signP384Message(message: Uint8Array, key: EcPrivateKey, deterministic: boolean): P384Signature & { publicKey: EcPublicKey } {
  requireP384PrivateKey(key);
  const extra = deterministic ? undefined : crypto.getRandomValues(new Uint8Array(P384_BYTES));
  const sig = signP384Digest(sha384(message), key.d, extra);
  return { ...sig, publicKey: ecPublicKeyOf(key) };
}

/** ECDSA P-384/SHA-384 verification (high S accepted). */
export function verifyP384Message(message: Uint8Array, sig: P384Signature, pub: EcPublicKey): boolean {
  if (pub.curve !== 'P-384') return false;
  return ecBackend().verifyP384(message, sig.r, sig.s, pub.x, pub.y);
}

/** True when the SNP_ID_BLOCK's author signature verifies over the 1028-byte structure of its ID key. */
export function verifyAuthorSignature(h: SnpIdBlock): boolean {
  const pub = publicKeyFromField(h.author_public_key);
  const sig = signatureFromField(h.author_key_signature);
  if (!pub || !sig) return false;
  return verifyP384Message(snpPublicKeyStructure(h.id_public_key), sig, pub);
}
