// node:crypto implementation of the hash interface (src/crypto/hash.ts); installed by the Node entry points.
import * as nodeCrypto from 'node:crypto';
import { createHash } from 'node:crypto';
import { setHashProvider, type HashProvider, type Hasher } from '../crypto/hash.js';

/** crypto.hash (Node ≥ 20.12): a one-shot digest without a Hash object, much cheaper for 4 KiB pages. */
const oneShot = (nodeCrypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;

const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export const NODE_HASH: HashProvider = {
  name: 'node:crypto',
  sha256: (d) => view(createHash('sha256').update(d).digest()),
  sha384: oneShot ? (d) => view(oneShot('sha384', d, 'buffer')) : (d) => view(createHash('sha384').update(d).digest()),
  createSha384: () => {
    const h = createHash('sha384');
    const wrap: Hasher = {
      update(d) { h.update(d); return wrap; },
      digest: () => view(h.digest()),
    };
    return wrap;
  },
};

/** Make the library hash with node:crypto (faster than the pure-JS default). */
export function installNodeHash(): void {
  setHashProvider(NODE_HASH);
}
