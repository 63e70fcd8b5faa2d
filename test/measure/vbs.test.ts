// Hyper-V VBS boot digest (MEASUREMENT.md §6): the spec vectors and an independent node:crypto chain over a mixed file.
import '../helpers.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';
import { measureVbs } from '../../src/measure/vbs.js';
import { HV } from '../raw-igvm.js';
import { vbsOracle as oracle, type VbsRec as Rec } from './oracles.js';


const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const UNMEASURED = 2;
const SHARED = 4;

test('§6 vector: one measured zero page at GPA 0', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION');
  b.pageData(0n, m);
  const r = measureVbs(b.build());
  assert.equal(hex(r.digest), '128a556eb9836b87199e8e55107483c8280763deb5ecc8bae69ec717287840d2');
  assert.equal(r.mask, m);
  assert.equal(r.records, 1);
});

test('§6 vector: one unmeasured page at GPA 0', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION');
  b.pageData(0n, m, undefined, { flags: UNMEASURED });
  const r = measureVbs(b.build());
  assert.equal(hex(r.digest), 'b73acc6e9bbbe33a92d4e01a7a83bdb50f8b03ee8820d8ac0419ce31a7b1decd');
  assert.equal(r.records, 1);
});

/** A 64-bit register value (upper 8 bytes zero: the crate measures only the low half of such registers, see crate-audit.test.ts). */
function value(seed: number): Uint8Array {
  return new Uint8Array(16).map((_, i) => (i < 8 ? (seed * 31 + i * 5) & 0xff : 0));
}

test('mixed file: matches an independent node:crypto chain (registers after all pages)', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION', { highestVtl: 2 });
  const tdx = b.platform('TDX');
  const data = new Uint8Array(3000).map((_, i) => (i * 7 + 3) & 0xff); // shorter than a page: zero-padded
  const full = new Uint8Array(4096).map((_, i) => (i * 13 + 1) & 0xff);
  const regs = [
    { register_name: HV.Rip, value: value(1) },
    { register_name: HV.Rsp, value: value(2) },
    { register_name: HV.Cr3, value: value(3) },
  ];
  b.pageData(0x1000n, m | tdx, data);
  b.vbsContext(m, 0, regs); // before the remaining pages: still recorded last
  b.pageData(0x2000n, m, full, { flags: SHARED }); // skipped
  b.pageData(0x3000n, m, full, { flags: UNMEASURED }); // zeros, data_unmeasured
  b.pageData(0x4000n, tdx, full); // another platform only: excluded
  b.parameterArea(0, 0x2000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  b.parameterInsert(0x10000n, m, 0); // two unmeasured pages
  b.directive({ type: 'ERROR_RANGE', gpa: 0x20000n, compatibility_mask: m, size_bytes: 0x1800 }); // two pages, acceptance 3
  b.pageData(0x5000n, m); // zero page, measured
  const file = b.build();
  const r = measureVbs(file);
  const page = (gpa: bigint, unmeasured: boolean, d?: Uint8Array, acceptance = 0): Rec =>
    d === undefined ? { kind: 'page', gpa, acceptance, unmeasured } : { kind: 'page', gpa, acceptance, unmeasured, data: d };
  const want = oracle([
    page(0x1000n, false, data),
    page(0x3000n, true, full),
    page(0x10000n, true),
    page(0x11000n, true),
    page(0x20000n, true, undefined, 3),
    page(0x21000n, true, undefined, 3),
    page(0x5000n, false),
    ...regs.map((x): Rec => ({ kind: 'reg', vtl: 0, name: x.register_name, value: x.value })),
  ]);
  assert.equal(hex(r.digest), want);
  assert.equal(r.records, 10);
  // a VTL filter that matches no context leaves only the pages
  const pagesOnly = measureVbs(file, { vtl: 2 });
  assert.equal(pagesOnly.records, 7);
  assert.notEqual(hex(pagesOnly.digest), want);
});

test('non-NORMAL data type → measure-vbs-data-type (the crate panics)', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION');
  b.pageData(0n, m);
  const file = b.build();
  const d = file.directives[0];
  assert.ok(d !== undefined && d.type === 'PAGE_DATA');
  d.data_type = 1; // SECRETS
  assert.throws(() => measureVbs(file), (e: unknown) => e instanceof IgvmError && e.code === 'measure-vbs-data-type');
});

test('no VSM_ISOLATION platform → measure-no-vbs-platform', () => {
  const b = new IgvmBuilder();
  b.platform('TDX');
  assert.throws(() => measureVbs(b.build()), (e: unknown) => e instanceof IgvmError && e.code === 'measure-no-vbs-platform');
});

test('trace: every record with its directive and the running digest of the independent chain', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION', { highestVtl: 2 });
  const full = new Uint8Array(4096).map((_, i) => (i * 3 + 1) & 0xff);
  const regs = [{ register_name: HV.Rip, value: value(7) }];
  b.vbsContext(m, 0, regs);
  b.pageData(0x1000n, m, full);
  b.directive({ type: 'ERROR_RANGE', gpa: 0x20000n, compatibility_mask: m, size_bytes: 0x1000 });
  const file = b.build();
  const r = measureVbs(file, { trace: true });
  const steps = r.steps ?? [];
  const recs: Rec[] = [
    { kind: 'page', gpa: 0x1000n, acceptance: 0, unmeasured: false, data: full },
    { kind: 'page', gpa: 0x20000n, acceptance: 3, unmeasured: true },
    { kind: 'reg', vtl: 0, name: HV.Rip, value: value(7) },
  ];
  assert.deepEqual(steps.map((s) => [s.kind, s.gpa, s.source]), [['VP_GPA_PAGE', 0x1000n, 1], ['VP_GPA_PAGE', 0x20000n, 2], ['VP_REGISTER', undefined, 0]]);
  steps.forEach((s, i) => assert.equal(hex(s.digest ?? new Uint8Array()), oracle(recs.slice(0, i + 1)), `step ${i}`));
  assert.equal(hex(steps[2]?.digest ?? new Uint8Array()), hex(r.digest));
  assert.match(steps[1]?.detail ?? '', /acceptance 3 unmeasured/);
});
