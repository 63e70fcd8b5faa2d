// Elliptic-curve primitives behind one small interface (SEC 1 §2.2–2.3, FIPS 186-5): installed by the entry points — @noble/curves (src/crypto/noble-ec.ts) or node:crypto (src/io/node-ec.ts).
import { IgvmError } from '../errors.js';

export type NistCurve = 'P-256' | 'P-384' | 'P-521';

/** What signing and key handling need; every function is synchronous. */
export interface EcBackend {
  readonly name: string;
  /** d·G as an uncompressed point 04 ‖ x ‖ y; `d` is a big-endian scalar in 1..n−1. */
  publicKey(curve: NistCurve, d: Uint8Array): Uint8Array;
  /** Decode and validate a SEC 1 point (uncompressed or compressed) to 04 ‖ x ‖ y; throws on a point not on the curve. */
  decodePoint(curve: NistCurve, point: Uint8Array): Uint8Array;
  hmacSha384(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** ECDSA P-384/SHA-384 verification of `message` (hashed here) with r, s and the public point (big-endian); high S accepted. */
  verifyP384(message: Uint8Array, r: Uint8Array, s: Uint8Array, x: Uint8Array, y: Uint8Array): boolean;
}

let current: EcBackend | undefined;

/** Install the backend (the library entry installs noble unless one is set; the CLIs install node:crypto). */
export function setEcBackend(b: EcBackend): void {
  current = b;
}

/** Install `b` only when no backend is set yet. */
export function setDefaultEcBackend(b: EcBackend): void {
  current ??= b;
}

export function ecBackend(): EcBackend {
  if (current === undefined) {
    throw new IgvmError('no-ec-backend', "no elliptic-curve backend is installed: import 'igvmkit' (installs @noble/curves) or call setEcBackend()");
  }
  return current;
}
