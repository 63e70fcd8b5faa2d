// Hash interface for SHA-256/SHA-384 (FIPS 180-4), installed by the entry points: @noble/hashes (src/crypto/noble-hash.ts, browsers) or node:crypto (src/io/node-hash.ts).
import { IgvmError } from '../errors.js';

/** An incremental hash. */
export interface Hasher {
  update(data: Uint8Array): Hasher;
  digest(): Uint8Array;
}

/** What the library needs from a hash implementation; every function is synchronous. */
export interface HashProvider {
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  sha384(data: Uint8Array): Uint8Array;
  createSha384(): Hasher;
}

let current: HashProvider | undefined;

/** Replace the hash implementation (the Node entry points install node:crypto, see src/io/node-hash.ts). */
export function setHashProvider(p: HashProvider): void {
  current = p;
}

/** Install `p` only when no provider is set yet. */
export function setDefaultHashProvider(p: HashProvider): void {
  current ??= p;
}

export function hashProvider(): HashProvider {
  if (current === undefined) {
    throw new IgvmError('no-hash-provider', "no hash provider is installed: import 'igvmkit' (installs @noble/hashes) or call setHashProvider()");
  }
  return current;
}

export function sha256(data: Uint8Array): Uint8Array {
  return hashProvider().sha256(data);
}

export function sha384(data: Uint8Array): Uint8Array {
  return (current ?? hashProvider()).sha384(data);
}

export function createSha384(): Hasher {
  return hashProvider().createSha384();
}
