// Hyper-V VBS boot digest by the microsoft/igvm crate rule (MEASUREMENT.md §6): a SHA-256 chain over page and register records.
import { IgvmError } from '../errors.js';
import type { IgvmFile, SupportedPlatform, VbsRegister } from '../model.js';
import { ARCHITECTURE, PLATFORM_TYPE } from '../spec/constants.js';
import { VBS_ARM64_REGISTERS, VBS_X64_REGISTERS } from '../spec/vbs-context.js';
import { firstPlatformOfType } from './platform.js';
import { sha256 } from '../crypto/hash.js';
import type { MeasureStep } from './trace.js';
import { PAGE_DATA_TYPE, PAGE_FLAG, PAGE_SIZE, ParameterAreaTable, covers } from './snp/igvm.js';

export interface VbsMeasureOptions {
  /** Record only the registers of VBS VP contexts of this VTL (default: every VBS context, as the crate does). */
  vtl?: number;
  /** Record one MeasureStep per record, with the running digest. */
  trace?: boolean;
}

export interface VbsMeasurementResult {
  /** The 32-byte boot digest. */
  digest: Uint8Array;
  /** Compatibility mask of the VSM_ISOLATION platform measured. */
  mask: number;
  /** Number of page and register records chained. */
  records: number;
  /** One step per record when `trace` was asked for. */
  steps: MeasureStep[] | undefined;
}

/** VBS record types and page acceptance values. */
export const VBS_RECORD = { VP_REGISTER: 0, VP_GPA_PAGE: 2 } as const;
export const VBS_ACCEPTANCE = { NONE: 0, READ_WRITE: 3 } as const;
const PAGE_RECORD_SIZE = 4128;
const REGISTER_RECORD_SIZE = 48;
const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** The first VSM_ISOLATION platform header; IgvmError 'measure-no-vbs-platform' when the file declares none. */
export function firstVbsPlatform(file: IgvmFile): SupportedPlatform {
  return firstPlatformOfType(file, PLATFORM_TYPE.VSM_ISOLATION, 'measure-no-vbs-platform', 'it has no VBS boot digest');
}

/** x64 table registers (HvX64TableRegister: 6 pad bytes, limit u16, base u64). */
const X64_TABLE_REGISTERS: ReadonlySet<number> = new Set([0x70000 /* Idtr */, 0x70001 /* Gdtr */]);
/** x64 segment registers (HvX64SegmentRegister: base u64, limit u32, selector u16, attributes u16: all 16 bytes). */
const X64_SEGMENT_REGISTERS: ReadonlySet<number> = new Set([0x60000, 0x60001, 0x60002, 0x60003, 0x60004, 0x60005, 0x60007]);

/**
 * The 16 value bytes the crate measures for a register. The crate holds VBS registers as typed values (X86Register /
 * AArch64Register, igvm/src/registers.rs) and re-encodes them for the record, so only what the type keeps survives:
 * table registers lose their 6 pad bytes, 64-bit registers their upper 8 bytes, segment registers keep all 16.
 * Register names the crate does not accept (it refuses such files) are measured as they are.
 */
export function crateRegisterValue(architecture: number, name: number, value: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  const v = value.subarray(0, 16);
  const known = architecture === ARCHITECTURE.AARCH64 ? VBS_ARM64_REGISTERS.has(name) : VBS_X64_REGISTERS.has(name);
  if (!known || (architecture !== ARCHITECTURE.AARCH64 && X64_SEGMENT_REGISTERS.has(name))) out.set(v);
  else if (architecture !== ARCHITECTURE.AARCH64 && X64_TABLE_REGISTERS.has(name)) out.set(v.subarray(6), 6);
  else out.set(v.subarray(0, 8));
  return out;
}

/** The chain d = SHA-256(d ‖ record), d₀ = 32 zero bytes. */
class VbsChain {
  private d: Uint8Array = new Uint8Array(32);
  private readonly page = new Uint8Array(32 + PAGE_RECORD_SIZE);
  private readonly pageView = new DataView(this.page.buffer);
  private readonly reg = new Uint8Array(32 + REGISTER_RECORD_SIZE);
  private readonly regView = new DataView(this.reg.buffer);
  records = 0;
  /** Directive the next records come from (for the trace). */
  source: number | undefined;

  constructor(readonly steps: MeasureStep[] | undefined) {
    this.pageView.setUint32(32, PAGE_RECORD_SIZE, true);
    this.pageView.setUint32(36, VBS_RECORD.VP_GPA_PAGE, true);
    this.regView.setUint32(32, REGISTER_RECORD_SIZE, true);
    this.regView.setUint32(36, VBS_RECORD.VP_REGISTER, true);
  }

  /** A page record; `data` is zero-padded to 4096 (undefined = zeros) and ignored when `unmeasured`. */
  addPage(gpa: bigint, acceptance: number, unmeasured: boolean, data: Uint8Array | undefined): void {
    const p = this.page;
    p.set(this.d, 0);
    this.pageView.setBigUint64(48, BigInt((acceptance & 3) | (unmeasured ? 4 : 0)), true);
    this.pageView.setBigUint64(56, BigInt.asUintN(64, gpa) / BigInt(PAGE_SIZE), true);
    const body = p.subarray(64);
    body.fill(0);
    if (!unmeasured && data !== undefined) body.set(data.subarray(0, PAGE_SIZE));
    this.d = sha256(p);
    this.records++;
    this.steps?.push({
      kind: 'VP_GPA_PAGE', gpa, contents: sha256(p.subarray(32)), digest: this.d, source: this.source,
      detail: `acceptance ${acceptance & 3}${unmeasured ? ' unmeasured' : ''}`,
    });
  }

  /** A register record: `vtl` is the VTL of its context, `value` the 16 bytes to measure. */
  addRegister(vtl: number, name: number, value: Uint8Array): void {
    const b = this.reg;
    b.set(this.d, 0);
    b.fill(0, 40);
    b[52] = vtl & 0xff;
    this.regView.setUint32(60, name >>> 0, true);
    b.set(value.subarray(0, 16), 64);
    this.d = sha256(b);
    this.records++;
    this.steps?.push({
      kind: 'VP_REGISTER', gpa: undefined, contents: sha256(b.subarray(32)), digest: this.d, source: this.source,
      detail: `vtl ${vtl} register 0x${(name >>> 0).toString(16).padStart(8, '0')}`,
    });
  }

  digest(): Uint8Array {
    return this.d.slice();
  }
}

/**
 * VBS boot digest of the file's first VSM_ISOLATION platform (mask M), as igvm/src/measurement/vbs.rs computes it:
 * directives included when `mask & M == M`. PAGE_DATA: a data type other than NORMAL is an IgvmError
 * 'measure-vbs-data-type' (the crate panics, before looking at the flags); `shared` skipped; acceptance 0,
 * data_unmeasured = the `unmeasured` flag, the first 4096 bytes of data. PARAMETER_AREA: an index declared twice is
 * 'measure-parameter-area-redeclared'. PARAMETER_INSERT: floor(area size / 4096) unmeasured pages of the area declared
 * before it ('measure-parameter-area' when none). ERROR_RANGE: ceil(size / 4096) unmeasured pages with acceptance 3.
 * VBS VP context registers after all pages, in context order, each with its context's VTL and its value as the crate
 * re-encodes it (`crateRegisterValue`); only contexts of `opts.vtl` when given.
 */
export function measureVbs(file: IgvmFile, opts: VbsMeasureOptions = {}): VbsMeasurementResult {
  const m = firstVbsPlatform(file).compatibility_mask;
  const areas = new ParameterAreaTable({ rejectRedeclared: true });
  const chain = new VbsChain(opts.trace ? [] : undefined);
  const registers: { vtl: number; r: VbsRegister; source: number }[] = [];
  const step = BigInt(PAGE_SIZE);
  const arch = file.revision.architecture;
  const directives = file.directives;
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!;
    chain.source = i;
    switch (d.type) {
      case 'PAGE_DATA': {
        if (!covers(d.compatibility_mask, m)) break;
        if (d.data_type !== PAGE_DATA_TYPE.NORMAL) {
          throw new IgvmError(
            'measure-vbs-data-type',
            `PAGE_DATA #${i} at ${hex(d.gpa)} has data type ${d.data_type}; the igvm crate's VBS measurement accepts only NORMAL pages (it panics, even for shared pages)`,
            { path: `directives[${i}].data_type` },
          );
        }
        if (d.flags & PAGE_FLAG.SHARED) break;
        chain.addPage(d.gpa, VBS_ACCEPTANCE.NONE, (d.flags & PAGE_FLAG.UNMEASURED) !== 0, d.data);
        break;
      }
      case 'PARAMETER_AREA':
        areas.declare(d.parameter_area_index, d.number_of_bytes, i);
        break;
      case 'PARAMETER_INSERT': {
        if (!covers(d.compatibility_mask, m)) break;
        const pages = areas.sizeFor(d.parameter_area_index, i) / step;
        for (let k = 0n; k < pages; k++) chain.addPage(d.gpa + k * step, VBS_ACCEPTANCE.NONE, true, undefined);
        break;
      }
      case 'ERROR_RANGE': {
        if (!covers(d.compatibility_mask, m)) break;
        const pages = Math.ceil(d.size_bytes / PAGE_SIZE);
        for (let k = 0; k < pages; k++) chain.addPage(d.gpa + BigInt(k) * step, VBS_ACCEPTANCE.READ_WRITE, true, undefined);
        break;
      }
      case 'VP_CONTEXT': {
        if (!covers(d.compatibility_mask, m) || d.context.kind !== 'vbs') break;
        const vtl = d.context.vtl;
        if (opts.vtl !== undefined && vtl !== opts.vtl) break;
        for (const r of d.context.registers) registers.push({ vtl, r, source: i });
        break;
      }
      default:
        break;
    }
  }
  for (const { vtl, r, source } of registers) {
    chain.source = source;
    chain.addRegister(vtl, r.register_name, crateRegisterValue(arch, r.register_name, r.register_value));
  }
  return { digest: chain.digest(), mask: m, records: chain.records, steps: chain.steps };
}
