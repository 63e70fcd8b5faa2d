// Hyper-V VBS boot digest by the microsoft/igvm crate rule (MEASUREMENT.md §6): a SHA-256 chain over page and register records.
import { IgvmError } from '../errors.js';
import type { IgvmFile, SupportedPlatform, VbsRegister } from '../model.js';
import { PLATFORM_TYPE } from '../spec/constants.js';
import { firstPlatformOfType } from './platform.js';
import { sha256 } from '../crypto/hash.js';
import type { MeasureStep } from './trace.js';
import { PAGE_DATA_TYPE, PAGE_FLAG, PAGE_SIZE, covers, insertAreaSize, parameterAreaSizes } from './snp/igvm.js';

export interface VbsMeasureOptions {
  /** Record only the registers of VBS VP contexts for this VTL (default: every VBS context). */
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

  addRegister(r: VbsRegister): void {
    const b = this.reg;
    b.set(this.d, 0);
    b.fill(0, 40);
    b[52] = r.vtl & 0xff;
    this.regView.setUint32(60, r.register_name >>> 0, true);
    b.set(r.register_value.subarray(0, 16), 64);
    this.d = sha256(b);
    this.records++;
    this.steps?.push({
      kind: 'VP_REGISTER', gpa: undefined, contents: sha256(b.subarray(32)), digest: this.d, source: this.source,
      detail: `vtl ${r.vtl} register 0x${(r.register_name >>> 0).toString(16).padStart(8, '0')}`,
    });
  }

  digest(): Uint8Array {
    return this.d.slice();
  }
}

/**
 * VBS boot digest of the file's first VSM_ISOLATION platform (mask M): directives included when `mask & M == M`.
 * PAGE_DATA: `shared` skipped; a data type other than NORMAL is an IgvmError 'measure-vbs-data-type' (the crate panics);
 * acceptance 0, data_unmeasured = the `unmeasured` flag. PARAMETER_INSERT: one unmeasured page per 4 KiB of its area.
 * ERROR_RANGE: ceil(size / 4096) unmeasured pages with acceptance 3. VBS VP context registers after all pages, in
 * context order (only contexts of `opts.vtl` when given).
 */
export function measureVbs(file: IgvmFile, opts: VbsMeasureOptions = {}): VbsMeasurementResult {
  const m = firstVbsPlatform(file).compatibility_mask;
  const sizes = parameterAreaSizes(file);
  const chain = new VbsChain(opts.trace ? [] : undefined);
  const registers: { r: VbsRegister; source: number }[] = [];
  const step = BigInt(PAGE_SIZE);
  const directives = file.directives;
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!;
    chain.source = i;
    switch (d.type) {
      case 'PAGE_DATA': {
        if (!covers(d.compatibility_mask, m) || d.flags & PAGE_FLAG.SHARED) break;
        if (d.data_type !== PAGE_DATA_TYPE.NORMAL) {
          throw new IgvmError(
            'measure-vbs-data-type',
            `PAGE_DATA #${i} at ${hex(d.gpa)} has data type ${d.data_type}; the igvm crate's VBS measurement accepts only NORMAL pages (it panics)`,
            { path: `directives[${i}].data_type` },
          );
        }
        chain.addPage(d.gpa, VBS_ACCEPTANCE.NONE, (d.flags & PAGE_FLAG.UNMEASURED) !== 0, d.data);
        break;
      }
      case 'PARAMETER_INSERT': {
        if (!covers(d.compatibility_mask, m)) break;
        const size = insertAreaSize(sizes, d.parameter_area_index, i);
        for (let off = 0n; off < size; off += step) chain.addPage(d.gpa + off, VBS_ACCEPTANCE.NONE, true, undefined);
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
        for (const r of d.context.registers) if (opts.vtl === undefined || r.vtl === opts.vtl) registers.push({ r, source: i });
        break;
      }
      default:
        break;
    }
  }
  for (const { r, source } of registers) {
    chain.source = source;
    chain.addRegister(r);
  }
  return { digest: chain.digest(), mask: m, records: chain.records, steps: chain.steps };
}
