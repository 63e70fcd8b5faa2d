// The two elliptic-curve backends agree, and our ECDSA P-384 (RFC 6979) equals noble's signer on random keys and digests.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { p384 } from '@noble/curves/nist.js';
import { setEcBackend, type NistCurve } from '../../src/crypto/ec-backend.js';
import { NOBLE_EC } from '../../src/crypto/noble-ec.js';
import { NODE_EC } from '../../src/io/node-ec.js';
import { signP384Digest, isValidP384Scalar } from '../../src/crypto/ecdsa-p384.js';
import { rng } from '../helpers.js';

function scalar(size: number, next: () => number): Uint8Array {
  const d = Uint8Array.from({ length: size }, () => Math.floor(next() * 256));
  d[0] = (d[0] ?? 0) & 0x7f; // below every NIST order
  if (size === 66) d[0] = (d[0] ?? 0) & 0x01;
  d[size - 1] = (d[size - 1] ?? 0) | 1;
  return d;
}

test('publicKey: node:crypto (OpenSSL) and noble give the same point on P-256, P-384 and P-521', () => {
  const next = rng(5);
  for (const [curve, size] of [['P-256', 32], ['P-384', 48], ['P-521', 66]] as [NistCurve, number][]) {
    for (let i = 0; i < 8; i++) {
      const d = scalar(size, next);
      assert.deepEqual(NODE_EC.publicKey(curve, d), NOBLE_EC.publicKey(curve, d), `${curve} #${i}`);
    }
  }
});

test('signP384Digest (RFC 6979, both backends) equals noble p384.sign without low-S on 40 random keys and digests', () => {
  const next = rng(99);
  let highS = 0;
  try {
    for (const backend of [NODE_EC, NOBLE_EC]) {
      setEcBackend(backend);
      for (let i = 0; i < 20; i++) {
        const d = scalar(48, next);
        assert.ok(isValidP384Scalar(d));
        const digest = createHash('sha384').update(Uint8Array.of(i, 1, 2)).digest();
        const ours = signP384Digest(digest, d);
        const theirs = p384.sign(digest, d, { prehash: false, lowS: false, format: 'compact' });
        assert.deepEqual(Buffer.concat([ours.r, ours.s]), Buffer.from(theirs), `${backend.name} #${i}`);
        if (BigInt('0x' + Buffer.from(ours.s).toString('hex')) > p384.Point.CURVE().n / 2n) highS++;
      }
    }
  } finally {
    setEcBackend(NOBLE_EC);
  }
  assert.ok(highS > 0, 'some signatures have s > n/2 and are kept as they are');
});

test('verifyP384: both backends accept valid signatures (high S too) and reject altered ones', () => {
  const d = scalar(48, rng(3));
  const pub = NODE_EC.publicKey('P-384', d);
  const x = pub.subarray(1, 49);
  const y = pub.subarray(49);
  for (let i = 0; i < 6; i++) {
    const msg = randomBytes(96);
    const sig = signP384Digest(createHash('sha384').update(msg).digest(), d, randomBytes(48));
    for (const b of [NODE_EC, NOBLE_EC]) {
      assert.equal(b.verifyP384(msg, sig.r, sig.s, x, y), true, b.name);
      const bad = Uint8Array.from(msg);
      bad[0] = (bad[0] ?? 0) ^ 1;
      assert.equal(b.verifyP384(bad, sig.r, sig.s, x, y), false, b.name);
    }
  }
});

test('hmacSha384: both backends agree', () => {
  const key = randomBytes(48);
  const data = randomBytes(200);
  assert.deepEqual(NODE_EC.hmacSha384(key, data), NOBLE_EC.hmacSha384(key, data));
});

test('decodePoint: both backends decompress points alike and reject points off the curve', () => {
  const next = rng(17);
  for (const [curve, size] of [['P-256', 32], ['P-384', 48], ['P-521', 66]] as [NistCurve, number][]) {
    const full = NODE_EC.publicKey(curve, scalar(size, next));
    const compressed = Uint8Array.of(2 + ((full[full.length - 1] ?? 0) & 1), ...full.subarray(1, 1 + size));
    for (const b of [NODE_EC, NOBLE_EC]) {
      assert.deepEqual(b.decodePoint(curve, full), full, `${b.name} ${curve} uncompressed`);
      assert.deepEqual(b.decodePoint(curve, compressed), full, `${b.name} ${curve} compressed`);
      const off = Uint8Array.from(full);
      off[off.length - 1] = (off[off.length - 1] ?? 0) ^ 1;
      assert.throws(() => b.decodePoint(curve, off), `${b.name} ${curve} rejects a point off the curve`);
    }
  }
});
