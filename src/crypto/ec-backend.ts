// Elliptic-curve primitives behind one small interface (SEC 1 §2.2, FIPS 186-5): pure-JS @noble/curves by default, node:crypto when the Node I/O layer installs it.
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha384 } from '@noble/hashes/sha2.js';

export type NistCurve = 'P-256' | 'P-384' | 'P-521';

/** What signing and key handling need; every function is synchronous. */
export interface EcBackend {
  readonly name: string;
  /** d·G as an uncompressed point 04 ‖ x ‖ y; `d` is a big-endian scalar in 1..n−1. */
  publicKey(curve: NistCurve, d: Uint8Array): Uint8Array;
  hmacSha384(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** ECDSA P-384/SHA-384 verification of `message` (hashed here) with r, s and the public point (big-endian); high S accepted. */
  verifyP384(message: Uint8Array, r: Uint8Array, s: Uint8Array, x: Uint8Array, y: Uint8Array): boolean;
}

const NOBLE_CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

export const NOBLE_EC: EcBackend = {
  name: 'noble',
  publicKey: (curve, d) => NOBLE_CURVES[curve].getPublicKey(d, false),
  hmacSha384: (key, data) => hmac(sha384, key, data),
  verifyP384: (message, r, s, x, y) => {
    const sig = new Uint8Array(96);
    sig.set(r, 0);
    sig.set(s, 48);
    const pub = new Uint8Array(97);
    pub[0] = 4;
    pub.set(x, 1);
    pub.set(y, 49);
    try {
      return p384.verify(sig, sha384(message), pub, { prehash: false, lowS: false, format: 'compact' });
    } catch {
      return false;
    }
  },
};

let current: EcBackend = NOBLE_EC;

export function setEcBackend(b: EcBackend): void {
  current = b;
}

export function ecBackend(): EcBackend {
  return current;
}

/** Noble's point decoding (compressed or uncompressed) and validation, for the rare paths that need it. */
export function nobleCurve(curve: NistCurve): (typeof NOBLE_CURVES)[NistCurve] {
  return NOBLE_CURVES[curve];
}
