// Hash interface for SHA-256/SHA-384 (FIPS 180-4): pure-JS @noble/hashes by default (browsers), node:crypto when the Node I/O layer installs it.
import { sha256 as nobleSha256, sha384 as nobleSha384 } from '@noble/hashes/sha2.js';

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

/** @noble/hashes: runs anywhere (browsers included). */
export const NOBLE_HASH: HashProvider = {
  name: 'noble',
  sha256: (d) => nobleSha256(d),
  sha384: (d) => nobleSha384(d),
  createSha384: () => {
    const h = nobleSha384.create();
    const wrap: Hasher = {
      update(d) { h.update(d); return wrap; },
      digest: () => h.digest(),
    };
    return wrap;
  },
};

let current: HashProvider = NOBLE_HASH;

/** Replace the hash implementation (the Node entry points install node:crypto, see src/io/node-hash.ts). */
export function setHashProvider(p: HashProvider): void {
  current = p;
}

export function hashProvider(): HashProvider {
  return current;
}

export function sha256(data: Uint8Array): Uint8Array {
  return current.sha256(data);
}

export function sha384(data: Uint8Array): Uint8Array {
  return current.sha384(data);
}

export function createSha384(): Hasher {
  return current.createSha384();
}
