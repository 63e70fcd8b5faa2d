// The pure-JS hash provider (@noble/hashes SHA-256/SHA-384, FIPS 180-4): runs in browsers.
import { sha256 as nobleSha256, sha384 as nobleSha384 } from '@noble/hashes/sha2.js';
import { setDefaultHashProvider, type HashProvider, type Hasher } from './hash.js';

export const NOBLE_HASH: HashProvider = {
  name: 'noble',
  sha256: (d) => nobleSha256(d),
  sha384: (d) => nobleSha384(d),
  createSha256: () => wrap(nobleSha256.create()),
  createSha384: () => wrap(nobleSha384.create()),
};

function wrap(h: { update(d: Uint8Array): unknown; digest(): Uint8Array }): Hasher {
  const w: Hasher = {
    update(d) { h.update(d); return w; },
    digest: () => h.digest(),
  };
  return w;
}

/** Make noble the hash provider unless another one is installed. */
export function installNobleHashDefault(): void {
  setDefaultHashProvider(NOBLE_HASH);
}
