// SEV / SEV-ES (MEASUREMENT.md §4): igvmmeasure's SHA-256 vs an independent node:crypto hash, and the LAUNCH_MEASURE HMAC vs createHmac.
import '../helpers.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';
import { hmacSha256, measureSevIgvmmeasure, sevLaunchMeasure } from '../../src/measure/sev.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const UNMEASURED = 2;
const SHARED = 4;
const bytes = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (seed * 17 + i * 29 + 5) & 0xff);
const padded = (d: Uint8Array): Buffer => {
  const p = Buffer.alloc(4096);
  Buffer.from(d).copy(p);
  return p;
};

test('§4.1 sev-es mixed file: matches an independent node:crypto SHA-256', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_ES');
  const snp = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, snp);
  const short = bytes(700, 1);
  const full = bytes(4096, 2);
  const other = bytes(4096, 3);
  const shared = bytes(4096, 4);
  b.pageData(0x1000n, m | snp, short); // hashed (zero-padded)
  b.pageData(0x2000n, m); // no data: nothing
  b.pageData(0x3000n, m, full, { flags: UNMEASURED }); // unmeasured with data: hashed
  b.pageData(0x4000n, m, shared, { flags: SHARED }); // flags ignored: hashed
  b.pageData(0x5000n, snp, other); // other platform only: excluded
  b.parameterArea(0, 0x2000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  b.parameterInsert(0x10000n, m, 0); // nothing
  b.vmsa(0xf000n, m, 0, { rip: 0xfff0n });
  const file = b.build();
  const ctx = file.directives.find((d) => d.type === 'VP_CONTEXT');
  assert.ok(ctx !== undefined && ctx.type === 'VP_CONTEXT' && ctx.context.kind === 'vmsa');
  const want = createHash('sha256').update(padded(short)).update(full).update(shared).update(ctx.context.data).digest('hex');
  const r = measureSevIgvmmeasure(file, 'sev-es');
  assert.equal(hex(r.digest), want);
  assert.equal(r.digest.length, 32);
  assert.equal(r.mask, m);
  assert.equal(r.records, 4);
});

test('§4.1 sev: data pages only (no SNP VP context on SEV); no pages → SHA-256 of nothing', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV');
  const data = bytes(4096, 9);
  b.pageData(0x1000n, m, data);
  b.pageData(0x2000n, m);
  const r = measureSevIgvmmeasure(b.build(), 'sev');
  assert.equal(hex(r.digest), createHash('sha256').update(data).digest('hex'));
  assert.equal(r.records, 1);
  const e = new IgvmBuilder();
  e.platform('SEV');
  assert.equal(hex(measureSevIgvmmeasure(e.build(), 'sev').digest), createHash('sha256').digest('hex'));
});

test('§4.1 platform missing → measure-no-sev-platform', () => {
  const b = new IgvmBuilder();
  b.platform('SEV');
  assert.throws(() => measureSevIgvmmeasure(b.build(), 'sev-es'), (e: unknown) => e instanceof IgvmError && e.code === 'measure-no-sev-platform');
});

test('HMAC-SHA-256 matches node:crypto createHmac (short, block-size and long keys)', () => {
  for (const [klen, mlen] of [[0, 0], [16, 56], [64, 100], [65, 3], [200, 1000]] as const) {
    const key = bytes(klen, klen + 1);
    const msg = bytes(mlen, mlen + 2);
    assert.equal(hex(hmacSha256(key, msg)), createHmac('sha256', key).update(msg).digest('hex'), `key ${klen}, message ${mlen}`);
  }
});

test('§4.2 LAUNCH_MEASURE: HMAC(TIK, 0x04 ‖ major ‖ minor ‖ build ‖ policy ‖ LD ‖ MNONCE) vs createHmac', () => {
  const ld = bytes(32, 11);
  const mnonce = bytes(16, 12);
  const tik = bytes(16, 13);
  const opts = { apiMajor: 1, apiMinor: 55, build: 21, policy: 0x00050001, mnonce, tik };
  const msg = Buffer.alloc(56);
  msg[0] = 0x04;
  msg[1] = 1;
  msg[2] = 55;
  msg[3] = 21;
  msg.writeUInt32LE(0x00050001, 4);
  Buffer.from(ld).copy(msg, 8);
  Buffer.from(mnonce).copy(msg, 40);
  const got = sevLaunchMeasure(ld, opts);
  assert.equal(got.length, 32);
  assert.equal(hex(got), createHmac('sha256', tik).update(msg).digest('hex'));
  assert.throws(() => sevLaunchMeasure(ld.subarray(0, 31), opts), (e: unknown) => e instanceof IgvmError && e.code === 'measure-sev-launch');
  assert.throws(() => sevLaunchMeasure(ld, { ...opts, tik: bytes(15, 1) }), (e: unknown) => e instanceof IgvmError);
  assert.throws(() => sevLaunchMeasure(ld, { ...opts, policy: 2 ** 32 }), (e: unknown) => e instanceof IgvmError);
});

test('trace: one step per page hashed (VMSA of any mask included), contents = SHA-256 of the page, in digest order', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_ES');
  const snp = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, snp);
  const a = bytes(100, 7);
  b.pageData(0x1000n, m, a);
  b.pageData(0x2000n, m); // nothing
  b.vmsa(0xf000n, snp, 0, { rip: 0x1234n }); // other mask: igvmmeasure hashes it anyway
  const file = b.build();
  const r = measureSevIgvmmeasure(file, 'sev-es', { trace: true });
  const steps = r.steps ?? [];
  assert.deepEqual(steps.map((s) => [s.kind, s.gpa, file.directives[s.source ?? -1]?.type]), [['PAGE', 0x1000n, 'PAGE_DATA'], ['VMSA', 0xf000n, 'VP_CONTEXT']]);
  const ctx = file.directives.find((d) => d.type === 'VP_CONTEXT');
  assert.ok(ctx !== undefined && ctx.type === 'VP_CONTEXT' && ctx.context.kind === 'vmsa');
  const pages = [padded(a), padded(ctx.context.data)];
  steps.forEach((s, i) => assert.equal(hex(s.contents), createHash('sha256').update(pages[i]!).digest('hex')));
  assert.equal(hex(r.digest), createHash('sha256').update(Buffer.concat(pages)).digest('hex'));
  assert.match(steps[1]?.detail ?? '', /other mask/);
});
