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
  createSha256(): Hasher;
  createSha384(): Hasher;
  /**
   * Optional batch form of `sha384` for pages (usually 4096 bytes each): one 48-byte digest per input, same order.
   * Providers that can hash pages in parallel (src/io/parallel-hash.ts) implement it; see `sha384Pages` below.
   */
  sha384Pages?(pages: readonly Uint8Array[]): Uint8Array[];
  /**
   * Optional: start `sha384Pages(pages)` and return at once; the returned function blocks until the digests are ready
   * and returns them. The caller keeps working meanwhile; the pages' bytes must not change until it has been called.
   */
  startSha384Pages?(pages: readonly Uint8Array[]): () => Uint8Array[];
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

export function createSha256(): Hasher {
  return hashProvider().createSha256();
}

export function createSha384(): Hasher {
  return hashProvider().createSha384();
}

/** SHA-384 of every page, one 48-byte digest each in order: the provider's batch method, else one `sha384` per page. */
export function sha384Pages(pages: readonly Uint8Array[]): Uint8Array[] {
  const p = current ?? hashProvider();
  if (p.sha384Pages !== undefined) return p.sha384Pages(pages);
  return pages.map((page) => p.sha384(page));
}
