// SNP ID block signing (IGVMGEN.md §9): the reference vectors' signatures are reproduced exactly and verify with node:crypto.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgvmError } from '../../src/errors.js';
import { parseIgvm } from '../../src/format/index.js';
import type { GuestPolicy, SnpIdBlock } from '../../src/model.js';
import { parseEcPrivateKey } from '../../src/crypto/ec-key.js';
import {
  idBlockHeader,
  idBlockMessage,
  idSignatureFromHeader,
  randomP384Key,
  signIdBlock,
  verifyIdBlockSignature,
  type IdSignature,
  type SnpIdBlockFields,
} from '../../src/snp/id-block.js';
import { EXPECTED, VECTORS, storedVectors } from '../helpers.js';

const KEY = parseEcPrivateKey(readFileSync(join(VECTORS, 'inputs', 'sign_key.pem'), 'latin1'), 'sign_key.pem');
const N384 = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
const HIGH_S = new Set(['T_bzImage2', 'T_bzImage_svme0_vtl0']);

const id = (first: number) => Uint8Array.from({ length: 16 }, (_, i) => (i === 0 ? first : 0));

/** 72-byte little-endian component → bigint (asserting the 24 padding bytes are zero). */
function leValue(c: Uint8Array): bigint {
  assert.equal(c.length, 72);
  assert.ok(c.subarray(48).every((b) => b === 0), 'padding bytes are zero');
  let v = 0n;
  for (let i = 47; i >= 0; i--) v = (v << 8n) | BigInt(c[i]!);
  return v;
}

const be48 = (c: Uint8Array) => Uint8Array.from(c.subarray(0, 48)).reverse();

/** Verify with node:crypto: IEEE P1363 signature r ‖ s (big-endian) over the 96-byte message, SHA-384. */
function nodeVerifies(f: SnpIdBlockFields, sig: IdSignature): boolean {
  const key = createPublicKey({
    key: { kty: 'EC', crv: 'P-384', x: Buffer.from(be48(sig.qx)).toString('base64url'), y: Buffer.from(be48(sig.qy)).toString('base64url') },
    format: 'jwk',
  });
  const p1363 = Buffer.concat([be48(sig.r), be48(sig.s)]);
  return nodeVerify('sha384', idBlockMessage(f), { key, dsaEncoding: 'ieee-p1363' }, p1363);
}

function vectorIdBlock(bytes: Uint8Array): { header: SnpIdBlock; fields: SnpIdBlockFields } {
  const file = parseIgvm(bytes);
  const blocks = file.directives.filter((d): d is SnpIdBlock => d.type === 'SNP_ID_BLOCK');
  assert.equal(blocks.length, 1, 'one SNP_ID_BLOCK');
  const policy = file.initializations.find((h): h is GuestPolicy => h.type === 'GUEST_POLICY');
  assert.equal(policy?.policy, 0x3001fn, 'GUEST_POLICY is 0x3001F');
  const header = blocks[0]!;
  return { header, fields: { ld: header.ld, familyId: id(1), imageId: id(2), version: 1, guestSvn: 2, policy: 0x3001fn } };
}

test('idBlockMessage lays out ld ‖ family ‖ image ‖ version ‖ guest_svn ‖ policy little-endian', () => {
  const f: SnpIdBlockFields = { ld: new Uint8Array(48).fill(0xaa), familyId: id(1), imageId: id(2), version: 0x01020304, guestSvn: 2, policy: 0x3001fn };
  const m = idBlockMessage(f);
  assert.equal(m.length, 96);
  assert.ok(m.subarray(0, 48).every((b) => b === 0xaa));
  assert.deepEqual([...m.subarray(48, 50)], [1, 0]);
  assert.deepEqual([...m.subarray(64, 66)], [2, 0]);
  assert.deepEqual([...m.subarray(80, 96)], [4, 3, 2, 1, 2, 0, 0, 0, 0x1f, 0, 3, 0, 0, 0, 0, 0]);
  assert.throws(() => idBlockMessage({ ...f, ld: new Uint8Array(47) }), (e: unknown) => e instanceof IgvmError && e.code === 'id-block-bad-field' && e.path === 'ld');
  assert.throws(() => idBlockMessage({ ...f, guestSvn: -1 }), (e: unknown) => e instanceof IgvmError && e.path === 'guestSvn');
  assert.throws(() => idBlockMessage({ ...f, policy: 1n << 64n }), (e: unknown) => e instanceof IgvmError && e.path === 'policy');
});

test('T_bzImage: the deterministic signature and the whole ID block header are reproduced exactly', () => {
  const { header, fields } = vectorIdBlock(new Uint8Array(readFileSync(join(EXPECTED, 'T_bzImage.igvm'))));
  const stored = idSignatureFromHeader(header);
  const sig = signIdBlock(fields, KEY, { deterministic: true });
  assert.deepEqual(sig, stored);
  const rebuilt = idBlockHeader(fields, sig, 1);
  assert.deepEqual(rebuilt, { ...header });
  assert.ok(verifyIdBlockSignature(fields, sig));
  assert.ok(nodeVerifies(fields, sig));
});

test('every stored vector: signature, public key and header reproduced; T_bzImage2 / T_bzImage_svme0_vtl0 keep s > n/2', () => {
  const vectors = storedVectors();
  assert.ok(vectors.length >= 10, `found ${vectors.length} stored vectors`);
  const highS: string[] = [];
  for (const v of vectors) {
    const { header, fields } = vectorIdBlock(v.bytes);
    const sig = signIdBlock(fields, KEY, { deterministic: true });
    assert.deepEqual(sig, idSignatureFromHeader(header), `${v.name}: r, s, qx, qy`);
    assert.deepEqual(idBlockHeader(fields, sig, 1), { ...header }, `${v.name}: header`);
    assert.ok(nodeVerifies(fields, sig), `${v.name}: node:crypto verifies`);
    assert.ok(verifyIdBlockSignature(fields, sig), `${v.name}: verifyIdBlockSignature`);
    const s = leValue(sig.s);
    assert.ok(s > 0n && s < N384);
    if (s > N384 / 2n) highS.push(v.name);
    if (HIGH_S.has(v.name)) {
      assert.ok(s > N384 / 2n, `${v.name}: s > n/2 (no low-S normalisation)`);
      // The low-S twin n - s is also a valid ECDSA signature, but not the one igvmgen stores.
      const twin = { ...sig, s: leBytes(N384 - s) };
      assert.notDeepEqual(twin.s, sig.s);
      assert.ok(nodeVerifies(fields, twin));
    }
  }
  assert.deepEqual(highS.filter((n) => HIGH_S.has(n)).sort(), [...HIGH_S].filter((n) => vectors.some((v) => v.name === n)).sort());
});

/** bigint → 72-byte little-endian component. */
function leBytes(v: bigint): Uint8Array {
  const out = new Uint8Array(72);
  for (let i = 0; i < 48; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

test('deterministic signatures repeat, random ones differ, and both verify with node:crypto', () => {
  const fields: SnpIdBlockFields = { ld: Uint8Array.from({ length: 48 }, (_, i) => i), familyId: id(1), imageId: id(2), version: 1, guestSvn: 2, policy: 0x3001fn };
  for (const key of [KEY, randomP384Key(), parseEcPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string)]) {
    const d1 = signIdBlock(fields, key, { deterministic: true });
    const d2 = signIdBlock(fields, key, { deterministic: true });
    assert.deepEqual(d1, d2);
    const r1 = signIdBlock(fields, key, { deterministic: false });
    const r2 = signIdBlock(fields, key, { deterministic: false });
    assert.notDeepEqual(r1.r, r2.r);
    assert.notDeepEqual(r1.r, d1.r);
    assert.deepEqual([r1.qx, r1.qy], [d1.qx, d1.qy]);
    for (const sig of [d1, r1, r2]) {
      assert.ok(nodeVerifies(fields, sig));
      assert.ok(verifyIdBlockSignature(fields, sig));
      assert.ok(!verifyIdBlockSignature({ ...fields, guestSvn: 3 }, sig), 'another message does not verify');
      assert.ok(!nodeVerifies({ ...fields, policy: 0x3001en }, sig));
    }
    const bad = { ...d1, r: d1.r.slice() };
    bad.r[60] = 1; // non-zero padding
    assert.ok(!verifyIdBlockSignature(fields, bad));
  }
  // Many random-key deterministic signatures: about half have s > n/2, and all verify (no normalisation either way).
  let high = 0;
  for (let i = 0; i < 24; i++) {
    const sig = signIdBlock({ ...fields, version: i }, randomP384Key(), { deterministic: true });
    if (leValue(sig.s) > N384 / 2n) high++;
    assert.ok(nodeVerifies({ ...fields, version: i }, sig));
  }
  assert.ok(high > 0 && high < 24, `${high} of 24 signatures have a high s`);
});

test('keys on other curves are rejected with key-unsupported-curve naming the curve (documented divergence)', () => {
  const fields: SnpIdBlockFields = { ld: new Uint8Array(48), familyId: id(1), imageId: id(2), version: 1, guestSvn: 2, policy: 0x3001fn };
  const cases = [
    { curve: 'P-256', text: /P-256 \(1\.2\.840\.10045\.3\.1\.7\); the SNP ID block needs P-384 \(secp384r1, 1\.3\.132\.0\.34\)/ },
    { curve: 'secp256k1', text: /secp256k1 \(1\.3\.132\.0\.10\)/ },
    { curve: 'P-521', text: /P-521 \(1\.3\.132\.0\.35\)/ },
  ];
  for (const c of cases) {
    const pem = generateKeyPairSync('ec', { namedCurve: c.curve }).privateKey.export({ type: 'sec1', format: 'pem' }) as string;
    const key = parseEcPrivateKey(pem, 'sign_key.pem');
    assert.throws(() => signIdBlock(fields, key, { deterministic: true }), (e: unknown) => {
      assert.ok(e instanceof IgvmError);
      assert.equal(e.code, 'key-unsupported-curve');
      assert.match(e.message, c.text);
      assert.match(e.describe(), /^sign_key\.pem: the key is on curve /);
      return true;
    });
  }
});

test('idBlockHeader fills the fixed igvmgen values and zero author fields', () => {
  const fields: SnpIdBlockFields = { ld: new Uint8Array(48).fill(7), familyId: id(1), imageId: id(2), version: 1, guestSvn: 2, policy: 0x3001fn };
  const sig = signIdBlock(fields, KEY, { deterministic: true });
  const h = idBlockHeader(fields, sig, 1);
  assert.equal(h.type, 'SNP_ID_BLOCK');
  assert.equal(h.id_key_algorithm, 1);
  assert.equal(h.author_key_algorithm, 0);
  assert.equal(h.author_key_enabled, 0);
  assert.equal(h.id_key_signature.length, 144);
  assert.equal(h.id_public_key.length, 152);
  assert.deepEqual([...h.id_public_key.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(h.id_key_signature.subarray(0, 72), sig.r);
  assert.deepEqual(h.id_key_signature.subarray(72), sig.s);
  assert.deepEqual(h.id_public_key.subarray(8, 80), sig.qx);
  assert.deepEqual(h.id_public_key.subarray(80), sig.qy);
  assert.ok(h.author_key_signature.every((b) => b === 0) && h.author_public_key.every((b) => b === 0));
  assert.equal(h.author_key_signature.length, 144);
  assert.equal(h.author_public_key.length, 152);
});
