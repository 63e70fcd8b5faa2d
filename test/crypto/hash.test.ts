// The hash providers (src/crypto/noble-hash.ts, src/io/node-hash.ts): one-shot and incremental SHA-256/384 against node:crypto createHash.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { NOBLE_HASH } from '../../src/crypto/noble-hash.js';
import { NODE_HASH } from '../../src/io/node-hash.js';
import { rng } from '../helpers.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('noble and node:crypto providers equal createHash, one-shot and incremental in uneven pieces', () => {
  const next = rng(6);
  for (const size of [0, 1, 55, 64, 4096, 10_000]) {
    const data = new Uint8Array(size).map(() => Math.floor(next() * 256));
    for (const p of [NOBLE_HASH, NODE_HASH]) {
      for (const alg of ['sha256', 'sha384'] as const) {
        const want = createHash(alg).update(data).digest('hex');
        assert.equal(hex(p[alg](data)), want, `${p.name} ${alg} ${size}`);
        const h = alg === 'sha256' ? p.createSha256() : p.createSha384();
        for (let at = 0; at < size; at += 777) h.update(data.subarray(at, Math.min(size, at + 777)));
        assert.equal(hex(h.digest()), want, `${p.name} create ${alg} ${size}`);
      }
    }
  }
});
