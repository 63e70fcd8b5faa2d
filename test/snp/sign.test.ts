// signIgvm / prepareIdBlock / idBlockToSign: igvmgen vectors re-signed byte for byte, exact changed byte ranges (replace,
// insert, policy), offline import (DER and raw) checked with node:crypto as an independent ECDSA implementation, errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS, assertSameBytes, storedVectors } from '../helpers.js';
import { parseIgvm } from '../../src/format/index.js';
import { serializeIgvm } from '../../src/format/serialize.js';
import { IgvmBuilder } from '../../src/builder.js';
import { buildIgvm } from '../../src/build/index.js';
import { bzImage } from '../build/helpers.js';
import { parseEcPrivateKey, parseEcPublicKey, type EcPublicKey } from '../../src/crypto/ec-key.js';
import { measureSnp } from '../../src/measure/snp/index.js';
import type { IgvmFile, SnpIdBlock } from '../../src/model.js';
import { IgvmError } from '../../src/errors.js';
import { verifyIdBlocks } from '../../src/snp/verify.js';
import {
  idBlockToSign, idKeyStructure, parseEcdsaSignature, parseIdBlockMessage, prepareIdBlock, signIgvm, verifyAuthorSignature,
} from '../../src/snp/sign.js';

const KEY_PEM = readFileSync(join(VECTORS, 'inputs', 'sign_key.pem'), 'utf8');
const KEY = parseEcPrivateKey(KEY_PEM, 'sign_key.pem');
const ID01 = Uint8Array.from([1, ...new Array<number>(15).fill(0)]);
const ID02 = Uint8Array.from([2, ...new Array<number>(15).fill(0)]);
const IGVMGEN_FIELDS = { familyId: ID01, imageId: ID02, version: 1, guestSvn: 2 };

function p384(): { priv: KeyObject; pub: EcPublicKey; privPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { priv: privateKey, pub: parseEcPublicKey(pubPem), privPem: privateKey.export({ type: 'sec1', format: 'pem' }).toString() };
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');
const le48ToBe = (field: Uint8Array, at: number): Uint8Array => {
  for (let i = 48; i < 72; i++) assert.equal(field[at + i], 0, 'component padding is zero');
  return Uint8Array.from(field.subarray(at, at + 48)).reverse();
};

/** node:crypto verification of a 144-byte IGVM signature field by a 152-byte IGVM public key field over `message`. */
function nodeVerifies(message: Uint8Array, sigField: Uint8Array, keyField: Uint8Array): boolean {
  assert.equal(new DataView(keyField.buffer, keyField.byteOffset).getUint32(0, true), 2, 'curve 2 (P-384)');
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: b64url(le48ToBe(keyField, 8)), y: b64url(le48ToBe(keyField, 80)) }, format: 'jwk' });
  const sig = Buffer.concat([le48ToBe(sigField, 0), le48ToBe(sigField, 72)]);
  return nodeVerify('sha384', message, { key, dsaEncoding: 'ieee-p1363' }, sig);
}

function idBlockOf(bytes: Uint8Array): { file: IgvmFile; h: SnpIdBlock; index: number } {
  const file = parseIgvm(bytes);
  const index = file.directives.findIndex((d) => d.type === 'SNP_ID_BLOCK');
  assert.ok(index >= 0, 'has an SNP_ID_BLOCK');
  return { file, h: file.directives[index] as SnpIdBlock, index };
}

/** Offsets of the bytes that differ (same-length inputs), as [start, end) ranges. */
function changedRanges(a: Uint8Array, b: Uint8Array): [number, number][] {
  assert.equal(a.length, b.length);
  const out: [number, number][] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    const last = out[out.length - 1];
    if (last && last[1] === i) last[1] = i + 1;
    else out.push([i, i + 1]);
  }
  return out;
}

function within(ranges: [number, number][], allowed: [number, number][]): void {
  for (const [s, e] of ranges) {
    assert.ok(allowed.some(([as, ae]) => s >= as && e <= ae), `changed bytes 0x${s.toString(16)}..0x${e.toString(16)} outside ${JSON.stringify(allowed.map(([x, y]) => [x.toString(16), y.toString(16)]))}`);
  }
}

function recordOffset(file: IgvmFile, h: object): number {
  const rec = file.source!.records.get(h as never);
  assert.ok(rec);
  return rec.offset;
}

const VECS = storedVectors();

test('every igvmgen vector re-signed with its key, --deterministic and igvmgen fields reproduces the file byte for byte', () => {
  const signed = VECS.filter((v) => parseIgvm(v.bytes).directives.some((d) => d.type === 'SNP_ID_BLOCK'));
  assert.ok(signed.length >= 10, `${signed.length} vectors`);
  for (const v of signed) {
    const r = signIgvm(v.bytes, { ...IGVMGEN_FIELDS, id: { key: KEY, deterministic: true } });
    assert.equal(r.replaces, r.directive);
    assert.equal(r.policyChange, 'none');
    assertSameBytes(r.bytes, v.bytes, v.name);
  }
});

test('insert: a vector with its ID block removed (preserve mode), signed again, is the original file (ID block appended last)', () => {
  for (const v of VECS.slice(0, 4)) {
    const { file, index } = idBlockOf(v.bytes);
    assert.equal(index, file.directives.length - 1, 'igvmgen writes the ID block last');
    const stripped = serializeIgvm({ ...file, directives: file.directives.slice(0, -1) }, { mode: 'preserve' });
    assert.equal(stripped.length, v.bytes.length - 704);
    const r = signIgvm(stripped, { ...IGVMGEN_FIELDS, id: { key: KEY, deterministic: true } });
    assert.equal(r.replaces, undefined);
    assertSameBytes(r.bytes, v.bytes, `${v.name} re-inserted`);
  }
});

test('replace: only the checksum and the ID block record change; node:crypto verifies the new signature', () => {
  const v = VECS.find((x) => x.name === 'T_bzImage')!;
  const k = p384();
  const r = signIgvm(v.bytes, { familyId: ID02, guestSvn: 9, id: { key: parseEcPrivateKey(k.privPem) } });
  const { file, h } = idBlockOf(v.bytes);
  const at = recordOffset(file, h);
  const ranges = changedRanges(v.bytes, r.bytes);
  within(ranges, [[0x14, 0x18], [at + 8, at + 8 + 696]]);
  assert.ok(ranges.some(([s]) => s >= at + 8), 'the record changed');
  const out = idBlockOf(r.bytes).h;
  assert.equal(out.guest_svn, 9);
  assert.equal(out.author_key_enabled, 0);
  assert.equal(out.author_key_algorithm, 0);
  assert.ok(nodeVerifies(r.message, out.id_key_signature, out.id_public_key));
  // The message is exactly ld ‖ family ‖ image ‖ version ‖ svn ‖ GUEST_POLICY.
  assert.deepEqual(parseIdBlockMessage(r.message), { ld: h.ld, familyId: ID02, imageId: new Uint8Array(16), version: 1, guestSvn: 9, policy: 0x3001fn });
});

test('insert into a built file (native + SEV-SNP): header section grows by one record, data shifts, file offsets follow', () => {
  const built = buildIgvm({ kernel: { name: 'bz', bytes: bzImage() }, cmdline: 'console=ttyS0', platforms: ['native', 'sev-snp'], memory: 512n << 20n, vcpus: 2, target: 'qemu' }).bytes;
  const k = p384();
  const r = signIgvm(built, { vmm: 'qemu', vcpus: 2, id: { key: parseEcPrivateKey(k.privPem) } });
  const delta = 704;
  assert.equal(r.bytes.length, built.length + delta);
  const inFile = parseIgvm(built);
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
  const vho = dv(built).getUint32(8, true);
  const vhs = dv(built).getUint32(12, true);
  const end = vho + vhs;
  assert.deepEqual(r.bytes.subarray(0, 12), built.subarray(0, 12), 'magic, version, header offset');
  assert.equal(dv(r.bytes).getUint32(12, true), vhs + delta);
  assert.equal(dv(r.bytes).getUint32(16, true), built.length + delta);
  // Headers: identical except each file_offset (at body offset 0xc of PAGE_DATA / PARAMETER_AREA / VP_CONTEXT), + delta when non-zero.
  const offsetFields = new Set<number>();
  for (const h of [...inFile.initializations, ...inFile.directives]) {
    if ((h.type === 'PAGE_DATA' || h.type === 'PARAMETER_AREA' || h.type === 'VP_CONTEXT') && dv(built).getUint32(recordOffset(inFile, h) + 8 + 0xc, true) !== 0) {
      offsetFields.add(recordOffset(inFile, h) + 8 + 0xc);
    }
  }
  assert.ok(offsetFields.size > 10);
  for (let o = vho; o < end; o += 4) {
    const a = dv(built).getUint32(o, true);
    const b = dv(r.bytes).getUint32(o, true);
    if (offsetFields.has(o)) assert.equal(b, a + delta, `file_offset at 0x${o.toString(16)}`);
    else assert.equal(b, a, `header word at 0x${o.toString(16)}`);
  }
  // The new record, then the data section unchanged.
  assert.equal(dv(r.bytes).getUint32(end, true), 0x30b);
  assert.equal(dv(r.bytes).getUint32(end + 4, true), 696);
  assertSameBytes(r.bytes.subarray(end + delta), built.subarray(end), 'data section');
  const out = idBlockOf(r.bytes);
  assert.equal(out.index, out.file.directives.length - 1, 'appended as the last directive');
  assert.equal(out.h.compatibility_mask, r.platformMask);
  assert.deepEqual(out.h.ld, measureSnp(parseIgvm(built), 'qemu', { vcpus: 2 }).digest);
  assert.ok(nodeVerifies(r.message, out.h.id_key_signature, out.h.id_public_key));
});

test('--policy replaces the GUEST_POLICY value (8 bytes) and is signed; without a GUEST_POLICY it is required and then added', () => {
  const v = VECS.find((x) => x.name === 'T_bzImage')!;
  const r = signIgvm(v.bytes, { policy: 0x30000n, id: { key: KEY, deterministic: true } });
  assert.equal(r.policyChange, 'replaced');
  const { file, h } = idBlockOf(v.bytes);
  const gp = file.initializations.find((x) => x.type === 'GUEST_POLICY')!;
  const gpAt = recordOffset(file, gp) + 8;
  const at = recordOffset(file, h);
  within(changedRanges(v.bytes, r.bytes), [[0x14, 0x18], [gpAt, gpAt + 8], [at + 8, at + 8 + 696]]);
  const out = idBlockOf(r.bytes);
  const policy = out.file.initializations.find((x) => x.type === 'GUEST_POLICY');
  assert.ok(policy && policy.type === 'GUEST_POLICY' && policy.policy === 0x30000n);
  assert.equal(new DataView(r.message.buffer).getBigUint64(88, true), 0x30000n);
  assert.ok(nodeVerifies(r.message, out.h.id_key_signature, out.h.id_public_key));
  assert.equal(prepareIdBlock(v.bytes, { policy: 0x3001fn }).policyChange, 'unchanged');

  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x1000n, m, new Uint8Array(4096).fill(7));
  const noPolicy = b.toBytes();
  assert.throws(() => prepareIdBlock(noPolicy), (e: IgvmError) => e.code === 'sign-no-policy' && /--policy/.test(e.message));
  const added = signIgvm(noPolicy, { policy: 0x30000n, id: { key: KEY } });
  assert.equal(added.policyChange, 'added');
  const parsed = parseIgvm(added.bytes);
  assert.deepEqual(parsed.initializations.map((x) => x.type === 'GUEST_POLICY' && [x.policy, x.compatibility_mask]), [[0x30000n, m]]);
  assert.equal(added.bytes.length, noPolicy.length + 24 + 704);
});

test('offline: the exported block signed by node:crypto (DER and raw) imports to the online result, except r and s', () => {
  const v = VECS.find((x) => x.name === 'T_bzImage64')!;
  const k = p384();
  const fields = { familyId: ID01, guestSvn: 5, vmm: 'igvmmeasure' as const };
  const block = idBlockToSign(v.bytes, fields);
  assert.equal(block.length, 96);
  const online = signIgvm(v.bytes, { ...fields, id: { key: parseEcPrivateKey(k.privPem) } });
  assert.deepEqual(online.message, block);
  const { file, h } = idBlockOf(v.bytes);
  const sigAt = recordOffset(file, h) + 8 + 0x68;
  for (const dsaEncoding of ['der', 'ieee-p1363'] as const) {
    const sig = nodeSign('sha384', block, { key: k.priv, dsaEncoding });
    const offline = signIgvm(v.bytes, { ...fields, id: { signature: new Uint8Array(sig), publicKey: k.pub } });
    within(changedRanges(online.bytes, offline.bytes), [[0x14, 0x18], [sigAt, sigAt + 144]]);
    const out = idBlockOf(offline.bytes).h;
    assert.ok(nodeVerifies(block, out.id_key_signature, out.id_public_key), dsaEncoding);
    // The exported block itself as input gives the same file.
    const viaBlock = signIgvm(v.bytes, { vmm: 'igvmmeasure', idBlock: block, id: { signature: new Uint8Array(sig), publicKey: k.pub } });
    assertSameBytes(viaBlock.bytes, offline.bytes, 'via --id-block');
  }
  // A signature by another key, over other fields, or tampered, does not verify: nothing is returned.
  const sig = new Uint8Array(nodeSign('sha384', block, { key: k.priv, dsaEncoding: 'ieee-p1363' }));
  const tampered = sig.slice();
  tampered[95]! ^= 1;
  const bad = (e: IgvmError) => e.code === 'sign-signature-invalid' && /--export-id-block/.test(e.message);
  assert.throws(() => signIgvm(v.bytes, { ...fields, id: { signature: tampered, publicKey: k.pub } }), bad);
  assert.throws(() => signIgvm(v.bytes, { ...fields, guestSvn: 6, id: { signature: sig, publicKey: k.pub } }), bad);
  assert.throws(() => signIgvm(v.bytes, { ...fields, id: { signature: sig, publicKey: p384().pub } }), bad);
  assert.throws(() => signIgvm(v.bytes, { ...fields, vmm: 'clh-kvm', idBlock: block, id: { signature: sig, publicKey: k.pub } }), (e: IgvmError) => e.code === 'sign-id-block-mismatch');
  assert.throws(() => signIgvm(v.bytes, { ...fields, guestSvn: 6, idBlock: block, id: { signature: sig, publicKey: k.pub } }), (e: IgvmError) => e.code === 'sign-id-block-conflict');
});

test('author key: online and offline, signature over the 1028-byte ID key structure, verified by node:crypto', () => {
  const v = VECS.find((x) => x.name === 'T_elf')!;
  const id = p384();
  const author = p384();
  const online = signIgvm(v.bytes, { id: { key: parseEcPrivateKey(id.privPem) }, author: { key: parseEcPrivateKey(author.privPem), deterministic: true } });
  const h = idBlockOf(online.bytes).h;
  assert.equal(h.author_key_enabled, 1);
  assert.equal(h.author_key_algorithm, 1);
  const structure = idKeyStructure(id.pub);
  assert.equal(structure.length, 1028);
  assert.ok(nodeVerifies(structure, h.author_key_signature, h.author_public_key));
  assert.ok(verifyAuthorSignature(h));
  assert.ok(online.authorKeyDigest);
  const sig = new Uint8Array(nodeSign('sha384', structure, { key: author.priv, dsaEncoding: 'der' }));
  const offline = signIgvm(v.bytes, { id: { key: parseEcPrivateKey(id.privPem), deterministic: true }, author: { signature: sig, publicKey: author.pub } });
  assert.ok(verifyAuthorSignature(idBlockOf(offline.bytes).h));
  assert.throws(() => signIgvm(v.bytes, { id: { key: KEY }, author: { signature: sig, publicKey: author.pub } }), (e: IgvmError) => e.code === 'sign-author-signature-invalid');
});

test('errors: P-256 keys, no SEV-SNP platform, two ID blocks, bad signature encodings; version ≠ 1 warns', () => {
  const v = VECS.find((x) => x.name === 'T_bzImage')!;
  const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const p256Key = parseEcPrivateKey(p256.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), 'p256.pem');
  assert.throws(() => signIgvm(v.bytes, { id: { key: p256Key } }), (e: IgvmError) => e.code === 'key-unsupported-curve' && e.file === 'p256.pem' && /P-384/.test(e.message));
  const p256Pub = parseEcPublicKey(p256.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  assert.throws(() => signIgvm(v.bytes, { id: { signature: new Uint8Array(96).fill(1), publicKey: p256Pub } }), (e: IgvmError) => e.code === 'key-unsupported-curve');

  const native = new IgvmBuilder();
  native.pageData(0x1000n, native.platform('NATIVE'), new Uint8Array(4096));
  assert.throws(() => signIgvm(native.toBytes(), { id: { key: KEY } }), (e: IgvmError) => e.code === 'sign-no-snp' && /no SEV_SNP platform/.test(e.message));

  const two = new IgvmBuilder();
  const m = two.platform('SEV_SNP');
  two.guestPolicy(0x30000n, m).pageData(0x1000n, m, new Uint8Array(4096));
  two.snpIdBlock({ compatibility_mask: m }).snpIdBlock({ compatibility_mask: m });
  assert.throws(() => signIgvm(two.toBytes(), { id: { key: KEY } }), (e: IgvmError) => e.code === 'sign-multiple-id-blocks');

  for (const bytes of [new Uint8Array(0), new Uint8Array(95), Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x01)]) {
    assert.throws(() => parseEcdsaSignature(bytes, 'x.sig'), (e: IgvmError) => e.code === 'sign-bad-signature-file' && e.file === 'x.sig');
  }
  assert.throws(() => parseEcdsaSignature(new Uint8Array(96)), /not in 1\.\.n-1/);
  // DER with minimal (short) integers and a leading-zero integer both decode to 48-byte values.
  const der = Uint8Array.of(0x30, 0x07, 0x02, 0x01, 0x05, 0x02, 0x02, 0x00, 0x81);
  const s = parseEcdsaSignature(der);
  assert.equal(s.r[47], 5);
  assert.equal(s.s[47], 0x81);
  assert.equal(s.r.length, 48);

  const r = signIgvm(v.bytes, { version: 2, id: { key: KEY } });
  assert.ok(r.warnings.some((w) => /QEMU forces 1/.test(w)));
});

test('without deterministic the nonce is random: two signatures differ, both verify with node:crypto', () => {
  const v = VECS.find((x) => x.name === 'T_bzImage')!;
  const a = signIgvm(v.bytes, { id: { key: KEY } });
  const b = signIgvm(v.bytes, { id: { key: KEY } });
  const ha = idBlockOf(a.bytes).h;
  const hb = idBlockOf(b.bytes).h;
  assert.notDeepEqual(ha.id_key_signature, hb.id_key_signature);
  assert.deepEqual(ha.id_public_key, hb.id_public_key);
  for (const h of [ha, hb]) assert.ok(nodeVerifies(a.message, h.id_key_signature, h.id_public_key));
});

test('igvm verify (verifyIdBlocks) checks the author signature: valid when signed, a changed byte is a problem', () => {
  const v = VECS[0]!;
  const author = p384();
  const signed = signIgvm(v.bytes, { id: { key: KEY, deterministic: true }, author: { key: parseEcPrivateKey(author.privPem), deterministic: true } });
  const [ok] = verifyIdBlocks(parseIgvm(signed.bytes));
  assert.equal(ok?.authorSignatureValid, true);
  assert.deepEqual(ok?.problems, []);
  const { file, h } = idBlockOf(signed.bytes);
  h.author_key_signature = h.author_key_signature.slice();
  h.author_key_signature[5] = (h.author_key_signature[5] ?? 0) ^ 1;
  const [bad] = verifyIdBlocks(file);
  assert.equal(bad?.authorSignatureValid, false);
  assert.ok(bad?.problems.some((p) => /author key signature does not verify/.test(p)), bad?.problems.join('; '));
  assert.equal(bad?.signatureValid, true); // the ID signature itself is untouched
  const [none] = verifyIdBlocks(parseIgvm(v.bytes));
  assert.equal(none?.authorSignatureValid, undefined);
});
