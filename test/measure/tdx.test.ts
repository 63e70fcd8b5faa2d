// Intel TDX MRTD (MEASUREMENT.md §5): the spec vectors and an independent node:crypto record stream over a mixed file.
import '../helpers.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';
import { measureTdx } from '../../src/measure/tdx.js';
import { tdxOracle as oracle, type TdxPage as Page } from './oracles.js';


const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const UNMEASURED = 2;
const SHARED = 4;

test('§5 vector: nothing → SHA-384 of the empty string', () => {
  const b = new IgvmBuilder();
  const m = b.platform('TDX');
  const r = measureTdx(b.build());
  assert.equal(hex(r.digest), '38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b');
  assert.equal(r.mask, m);
  assert.equal(r.records, 0);
});

test('§5 vector: one measured zero page at GPA 0', () => {
  const b = new IgvmBuilder();
  const m = b.platform('TDX');
  b.pageData(0n, m);
  const r = measureTdx(b.build());
  assert.equal(hex(r.digest), '236f0efa607ff8843f1855d7ef80dc3dda8fb455787a186b8787212951eab0096e3193bb26f817c2b63c21f5e10f9938');
  assert.equal(r.records, 17);
});

test('§5 vector: one unmeasured page at GPA 0', () => {
  const b = new IgvmBuilder();
  const m = b.platform('TDX');
  b.pageData(0n, m, undefined, { flags: UNMEASURED });
  const r = measureTdx(b.build());
  assert.equal(hex(r.digest), '8f3e9a8aca6784eab874f7aa4dda5d49104a88047f1f86695ef2a88f5691a90e34aac48ce45ffa1f5a23c7d62980d570');
  assert.equal(r.records, 1);
});

test('mixed file: matches an independent node:crypto record stream', () => {
  const b = new IgvmBuilder();
  const snp = b.platform('SEV_SNP');
  const m = b.platform('TDX');
  const both = snp | m;
  const data = new Uint8Array(1000).map((_, i) => (i * 7 + 3) & 0xff); // shorter than a page: zero-padded
  const full = new Uint8Array(4096).map((_, i) => (i * 13 + 1) & 0xff);
  b.guestPolicy(0x30000n, snp);
  b.pageData(0x1000n, both, data);
  b.pageData(0x2000n, m, full, { flags: SHARED }); // skipped
  b.pageData(0x3000n, m, full, { flags: UNMEASURED }); // PAGE.ADD only
  b.pageData(0x4000n, snp, full); // another platform only: excluded
  b.parameterArea(0, 0x2000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  b.parameterInsert(0x10000n, m, 0); // two PAGE.ADDs
  b.pageData(0x5000n, m); // zero page, measured
  b.pageData(0x6000n, both, full);
  const r = measureTdx(b.build());
  const want = oracle([
    { gpa: 0x1000n, measured: true, data },
    { gpa: 0x3000n, measured: false },
    { gpa: 0x10000n, measured: false },
    { gpa: 0x11000n, measured: false },
    { gpa: 0x5000n, measured: true },
    { gpa: 0x6000n, measured: true, data: full },
  ]);
  assert.equal(hex(r.digest), want.digest);
  assert.equal(r.records, want.records);
  assert.equal(r.mask, m);
});

test('no TDX platform → measure-no-tdx-platform', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION');
  b.pageData(0n, m);
  assert.throws(() => measureTdx(b.build()), (e: unknown) => e instanceof IgvmError && e.code === 'measure-no-tdx-platform');
});

test('trace: one step per page with its directive; the steps re-create the MRTD through the independent record stream', () => {
  const b = new IgvmBuilder();
  const m = b.platform('TDX');
  const full = new Uint8Array(4096).map((_, i) => (i * 11 + 5) & 0xff);
  b.pageData(0x1000n, m, full.subarray(0, 900));
  b.pageData(0x2000n, m, full, { flags: UNMEASURED });
  b.pageData(0x3000n, m, full, { flags: SHARED }); // skipped: no step
  b.parameterArea(0, 0x2000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  b.parameterInsert(0x10000n, m, 0);
  b.pageData(0x5000n, m);
  const file = b.build();
  const r = measureTdx(file, { trace: true });
  assert.equal(measureTdx(file).steps, undefined);
  const steps = r.steps ?? [];
  assert.deepEqual(steps.map((s) => [s.kind, s.gpa, file.directives[s.source ?? -1]?.type]), [
    ['PAGE.ADD+EXTEND', 0x1000n, 'PAGE_DATA'],
    ['PAGE.ADD', 0x2000n, 'PAGE_DATA'],
    ['PAGE.ADD', 0x10000n, 'PARAMETER_INSERT'],
    ['PAGE.ADD', 0x11000n, 'PARAMETER_INSERT'],
    ['PAGE.ADD+EXTEND', 0x5000n, 'PAGE_DATA'],
  ]);
  const pages: Page[] = steps.map((s) => {
    const d = file.directives[s.source ?? -1];
    const data = d?.type === 'PAGE_DATA' ? d.data : undefined;
    return data === undefined ? { gpa: s.gpa ?? 0n, measured: s.kind !== 'PAGE.ADD' } : { gpa: s.gpa ?? 0n, measured: s.kind !== 'PAGE.ADD', data };
  });
  assert.equal(oracle(pages).digest, hex(r.digest));
  for (const [i, s] of steps.entries()) {
    if (s.kind === 'PAGE.ADD') assert.equal(s.contents.length, 0);
    else assert.equal(hex(s.contents), createHash('sha384').update(Buffer.concat([Buffer.from(pages[i]?.data ?? []), Buffer.alloc(4096 - (pages[i]?.data?.length ?? 0))])).digest('hex'));
  }
});
