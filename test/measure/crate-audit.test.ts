// Audit against the microsoft/igvm crate's measurement module (igvm/src/measurement/{snp,tdx,vbs}.rs): the behaviours
// where our SNP (--vmm igvm), TDX and VBS rules used to differ. Expected values come from independent node:crypto
// re-implementations written here, not from src/measure.
import '../helpers.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';
import type { DirectiveHeader, IgvmFile } from '../../src/model.js';
import { measureSnpIgvm } from '../../src/measure/snp/igvm.js';
import { measureTdx } from '../../src/measure/tdx.js';
import { measureVbs } from '../../src/measure/vbs.js';
import { HV } from '../raw-igvm.js';
import { tdxOracle as tdxRecords, vbsOracle, type VbsRec } from './oracles.js';

const tdxOracle = (pages: Parameters<typeof tdxRecords>[0]): string => tdxRecords(pages).digest;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const UNMEASURED = 2;
const SHARED = 4;
const fill = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (i * seed + 11) & 0xff);
const isErr = (code: string, crate?: string) => (e: unknown): boolean =>
  e instanceof IgvmError && e.code === code && (crate === undefined || e.crate === crate);

function directive<T extends DirectiveHeader['type']>(file: IgvmFile, i: number, type: T): Extract<DirectiveHeader, { type: T }> {
  const d = file.directives[i];
  assert.ok(d !== undefined && d.type === type, `directive ${i} is a ${type}`);
  return d as Extract<DirectiveHeader, { type: T }>;
}

// ---- SEV-SNP oracle: PAGE_INFO chain (digest ‖ contents ‖ len 0x70 ‖ type ‖ imi ‖ vmpl ‖ gpa), SHA-384
interface SnpStep { gpa: bigint; type: number; page?: Uint8Array }
function snpOracle(steps: readonly SnpStep[]): string {
  let ld: Buffer = Buffer.alloc(48);
  for (const s of steps) {
    const info = Buffer.alloc(112);
    ld.copy(info, 0);
    if (s.type === 1 || s.type === 2) {
      const full = Buffer.alloc(4096);
      if (s.page) Buffer.from(s.page).copy(full);
      createHash('sha384').update(full).digest().copy(info, 48);
    }
    info.writeUInt16LE(112, 96);
    info.writeUInt8(s.type, 98);
    info.writeBigUInt64LE(s.gpa, 104);
    ld = createHash('sha384').update(info).digest();
  }
  return ld.toString('hex');
}

function snpBuilder(): { b: IgvmBuilder; m: number } {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, m);
  return { b, m };
}


// ======================================================================== SEV-SNP (snp.rs)

test('snp: a PARAMETER_INSERT before its PARAMETER_AREA → InvalidParameterAreaIndex (the table is filled in file order)', () => {
  const { b, m } = snpBuilder();
  b.parameterArea(0, 0x2000n);
  b.parameterInsert(0x10000n, m, 0);
  const file = b.build();
  file.directives.reverse(); // insert first, then the area (only an in-memory model can say this)
  assert.throws(() => measureSnpIgvm(file), isErr('measure-parameter-area', 'InvalidParameterAreaIndex'));
});

test('snp: an area index declared again after an insert: the insert uses the size declared before it', () => {
  const { b, m } = snpBuilder();
  b.parameterArea(0, 0x1000n);
  b.parameterInsert(0x10000n, m, 0);
  const file = b.build();
  file.directives.push({ type: 'PARAMETER_AREA', number_of_bytes: 0x3000n, parameter_area_index: 0, file_offset: 0, data: undefined });
  assert.equal(hex(measureSnpIgvm(file).digest), snpOracle([{ gpa: 0x10000n, type: 4 }]));
});

test('snp: measured page data longer than 4096 bytes → UnsupportedPageSize; unmeasured, SECRETS and CPUID pages carry no data', () => {
  const { b, m } = snpBuilder();
  b.pageData(0x1000n, m, fill(4096, 3));
  const file = b.build();
  directive(file, 0, 'PAGE_DATA').data = fill(8192, 3);
  assert.throws(() => measureSnpIgvm(file), isErr('measure-page-size', 'UnsupportedPageSize'));

  const w = snpBuilder();
  w.b.pageData(0x1000n, w.m, fill(4096, 5), { flags: UNMEASURED });
  w.b.pageData(0x2000n, w.m, fill(4096, 5), { dataType: 1 });
  w.b.pageData(0x3000n, w.m, fill(4096, 5), { dataType: 2 });
  const f2 = w.b.build();
  for (let i = 0; i < 3; i++) directive(f2, i, 'PAGE_DATA').data = fill(2 * 4096 + 1, 5);
  assert.equal(hex(measureSnpIgvm(f2).digest), snpOracle([{ gpa: 0x1000n, type: 4 }, { gpa: 0x2000n, type: 5 }, { gpa: 0x3000n, type: 6 }]));
});

test('snp: a data type outside 0–3 (in-memory model) takes the crate\'s default arm: NORMAL, or UNMEASURED with the flag', () => {
  const { b, m } = snpBuilder();
  const a = fill(4096, 7);
  b.pageData(0x1000n, m, a);
  b.pageData(0x2000n, m, a, { flags: UNMEASURED });
  const file = b.build();
  directive(file, 0, 'PAGE_DATA').data_type = 9;
  directive(file, 1, 'PAGE_DATA').data_type = 9;
  assert.equal(hex(measureSnpIgvm(file).digest), snpOracle([{ gpa: 0x1000n, type: 1, page: a }, { gpa: 0x2000n, type: 4 }]));
});

// ======================================================================== TDX (tdx.rs)

test('tdx: a PARAMETER_INSERT before its PARAMETER_AREA → InvalidParameterAreaIndex; a later redeclaration does not resize an earlier insert', () => {
  const b = new IgvmBuilder();
  const m = b.platform('TDX');
  b.parameterArea(0, 0x1000n);
  b.parameterInsert(0x10000n, m, 0);
  const file = b.build();
  file.directives.push({ type: 'PARAMETER_AREA', number_of_bytes: 0x3000n, parameter_area_index: 0, file_offset: 0, data: undefined });
  assert.equal(hex(measureTdx(file).digest), tdxOracle([{ gpa: 0x10000n, measured: false }]));
  file.directives.shift(); // the insert now comes before any area with its index
  assert.throws(() => measureTdx(file), isErr('measure-parameter-area', 'InvalidParameterAreaIndex'));
});

test('tdx: measured page data longer than 4096 bytes → UnsupportedPageSize; an unmeasured page is only PAGE.ADD whatever its data', () => {
  const b = new IgvmBuilder();
  const m = b.platform('TDX');
  b.pageData(0x1000n, m, fill(4096, 3), { flags: UNMEASURED });
  b.pageData(0x2000n, m, fill(4096, 3));
  const file = b.build();
  directive(file, 0, 'PAGE_DATA').data = fill(8192, 3);
  const two = fill(4096, 9);
  directive(file, 1, 'PAGE_DATA').data = two;
  assert.equal(hex(measureTdx(file).digest), tdxOracle([{ gpa: 0x1000n, measured: false }, { gpa: 0x2000n, measured: true, data: two }]));
  directive(file, 1, 'PAGE_DATA').data = fill(4097, 3);
  assert.throws(() => measureTdx(file), isErr('measure-page-size', 'UnsupportedPageSize'));
});

// ======================================================================== VBS (vbs.rs)

test('vbs: the NORMAL data-type check comes before the shared check (a shared SECRETS page still fails)', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION');
  b.pageData(0x1000n, m, undefined, { flags: SHARED });
  const file = b.build();
  assert.equal(measureVbs(file).records, 0, 'a shared NORMAL page is skipped');
  directive(file, 0, 'PAGE_DATA').data_type = 1;
  assert.throws(() => measureVbs(file), isErr('measure-vbs-data-type'));
});

test('vbs: a PARAMETER_INSERT records floor(area size / 4096) pages', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION');
  b.parameterArea(0, 0x2000n);
  b.parameterInsert(0x10000n, m, 0);
  const file = b.build();
  directive(file, 0, 'PARAMETER_AREA').number_of_bytes = 0x1800n; // not page-aligned: only an in-memory model
  const r = measureVbs(file);
  assert.equal(r.records, 1);
  assert.equal(hex(r.digest), vbsOracle([{ kind: 'page', gpa: 0x10000n, acceptance: 0, unmeasured: true }]));
  directive(file, 0, 'PARAMETER_AREA').number_of_bytes = 0xfffn;
  assert.equal(measureVbs(file).records, 0);
});

test('vbs: an area index declared twice → InvalidParameterAreaIndex (even without an insert); an insert before its area too', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION');
  b.parameterArea(0, 0x1000n);
  b.parameterInsert(0x10000n, m, 0);
  const file = b.build();
  const twice: IgvmFile = { ...file, directives: [directive(file, 0, 'PARAMETER_AREA'), { ...directive(file, 0, 'PARAMETER_AREA') }] };
  assert.throws(() => measureVbs(twice), isErr('measure-parameter-area-redeclared', 'InvalidParameterAreaIndex'));
  const early: IgvmFile = { ...file, directives: [...file.directives].reverse() };
  assert.throws(() => measureVbs(early), isErr('measure-parameter-area', 'InvalidParameterAreaIndex'));
});

// x64: the crate turns each register into X86Register and back, so only the bytes that type keeps are measured
// (u64 registers: bytes 0–7; GDTR/IDTR: limit at 6–7 and base at 8–15, the 6 pad bytes become zero; segments: all 16).
function x64Normalized(name: number, v: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  if (name === HV.Gdtr || name === 0x70000) out.set(v.subarray(6, 16), 6);
  else if (name >= 0x60000 && name <= 0x60007) out.set(v);
  else out.set(v.subarray(0, 8));
  return out;
}

test('vbs: x64 register values are measured as the crate re-encodes them (u64 upper half, table pad bytes cleared)', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION', { highestVtl: 2 });
  const regs = [
    { register_name: HV.Rip, value: fill(16, 3) },
    { register_name: HV.Cr3, value: fill(16, 5) },
    { register_name: HV.Gdtr, value: fill(16, 7) },
    { register_name: 0x70000 /* Idtr */, value: fill(16, 9) },
    { register_name: 0x60001 /* Cs */, value: fill(16, 13) },
    { register_name: 0x80001 /* Efer */, value: fill(16, 17) },
  ];
  b.vbsContext(m, 2, regs);
  const file = b.build();
  const want = vbsOracle(regs.map((r): VbsRec => ({ kind: 'reg', vtl: 2, name: r.register_name, value: x64Normalized(r.register_name, r.value) })));
  const got = measureVbs(file, { trace: true });
  assert.equal(hex(got.digest), want);
  assert.equal(got.steps?.length, regs.length, 'trace still has one step per register');
});

test('vbs: AArch64 register values keep only their low 8 bytes', () => {
  const b = new IgvmBuilder({ formatVersion: 2, architecture: 'AARCH64' });
  const m = b.platform('VSM_ISOLATION');
  const regs = [
    { register_name: HV.ArmPc, value: fill(16, 3) },
    { register_name: HV.ArmX0, value: fill(16, 5) },
  ];
  b.vbsContext(m, 0, regs);
  const low = (v: Uint8Array): Uint8Array => {
    const out = new Uint8Array(16);
    out.set(v.subarray(0, 8));
    return out;
  };
  assert.equal(hex(measureVbs(b.build()).digest), vbsOracle(regs.map((r): VbsRec => ({ kind: 'reg', vtl: 0, name: r.register_name, value: low(r.value) }))));
});

test('vbs: every register of a context is recorded with the context\'s VTL (in-memory model whose register VTLs disagree)', () => {
  const b = new IgvmBuilder();
  const m = b.platform('VSM_ISOLATION', { highestVtl: 2 });
  const v = new Uint8Array(16);
  v[0] = 0x42;
  b.vbsContext(m, 2, [{ register_name: HV.Rip, value: v }]);
  const file = b.build();
  const vp = directive(file, 0, 'VP_CONTEXT');
  assert.ok(vp.context.kind === 'vbs');
  const reg = vp.context.registers[0];
  assert.ok(reg !== undefined);
  reg.vtl = 0;
  const want = vbsOracle([{ kind: 'reg', vtl: 2, name: HV.Rip, value: v }]);
  assert.equal(hex(measureVbs(file).digest), want);
  assert.equal(hex(measureVbs(file, { vtl: 2 }).digest), want, 'the VTL option selects by the context VTL');
  assert.equal(measureVbs(file, { vtl: 0 }).records, 0);
});
