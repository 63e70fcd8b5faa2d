// SEV-SNP launch digest by the microsoft/igvm crate rule (MEASUREMENT.md §1.4), and helpers the other models share (§3.1).
import { firstPlatformOfType } from '../platform.js';
import { IgvmError } from '../../errors.js';
import { PAGE_DATA_FLAGS, PAGE_DATA_TYPE, PLATFORM_TYPE } from '../../spec/constants.js';
import type { IgvmFile, PageData, SupportedPlatform } from '../../model.js';
import { SNP_PAGE, SnpLaunchDigest, type SnpPageType } from '../snp-digest.js';
import type { SnpMeasureFn, SnpMeasureOptions, SnpMeasurement, SnpVmm } from './types.js';

export const PAGE_SIZE = 0x1000;
/** PAGE_DATA flag bits (FORMAT.md §6), by the names the measurement code uses. */
export const PAGE_FLAG = { LARGE_2MB: PAGE_DATA_FLAGS.IS_2MB_PAGE, UNMEASURED: PAGE_DATA_FLAGS.UNMEASURED, SHARED: PAGE_DATA_FLAGS.SHARED } as const;
export { PAGE_DATA_TYPE };

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** `mask & M == M` (unsigned). */
export function covers(mask: number, m: number): boolean {
  return (mask & m) >>> 0 === m >>> 0;
}

/** `mask & M != 0`. */
export function intersects(mask: number, m: number): boolean {
  return (mask & m) !== 0;
}

/** The first SEV_SNP platform header; IgvmError 'measure-no-snp' when the file declares none. */
export function firstSnpPlatform(file: IgvmFile, vmm: SnpVmm): SupportedPlatform {
  return firstPlatformOfType(file, PLATFORM_TYPE.SEV_SNP, 'measure-no-snp', `it has no SEV-SNP launch digest (model ${vmm})`);
}

/**
 * The SNP page type of a PAGE_DATA by its data type, then its `unmeasured` flag (the order every tool uses):
 * SECRETS → 5, CPUID_DATA / CPUID_XF → 6, NORMAL + unmeasured → 4, NORMAL → 1. Other data types: IgvmError.
 */
export function pageDataType(d: PageData, index: number): SnpPageType {
  if (d.data_type > PAGE_DATA_TYPE.CPUID_XF) {
    throw new IgvmError('measure-page-data-type', `PAGE_DATA #${index} at ${hex(d.gpa)} has data type ${d.data_type}, which has no SEV-SNP page type`, {
      path: `directives[${index}].data_type`,
    });
  }
  return crateSnpPageType(d);
}

/** number_of_bytes of every PARAMETER_AREA, by parameter_area_index. */
export function parameterAreaSizes(file: IgvmFile): Map<number, bigint> {
  const sizes = new Map<number, bigint>();
  for (const d of file.directives) if (d.type === 'PARAMETER_AREA') sizes.set(d.parameter_area_index, d.number_of_bytes);
  return sizes;
}

/** The size of the area a PARAMETER_INSERT names; IgvmError when no PARAMETER_AREA declares it. */
export function insertAreaSize(sizes: ReadonlyMap<number, bigint>, areaIndex: number, index: number): bigint {
  const size = sizes.get(areaIndex);
  if (size === undefined) {
    throw new IgvmError('measure-parameter-area', `PARAMETER_INSERT #${index} names parameter area ${areaIndex}, which no PARAMETER_AREA declares`, {
      path: `directives[${index}].parameter_area_index`,
    });
  }
  return size;
}

/** Validated vCPU count (default 1). */
export function vcpuCount(opts: SnpMeasureOptions): number {
  const n = opts.vcpus ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > 0x10000) throw new IgvmError('measure-vcpus', `the vCPU count must be an integer from 1 to 65536, got ${n}`);
  return n;
}

/** "N things" with the plural when N ≠ 1. */
export function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** The measurement result from a finished digest. */
export function result(vmm: SnpVmm, mask: number, ld: SnpLaunchDigest, notes: string[]): SnpMeasurement {
  return { vmm, digest: ld.digest(), mask, steps: ld.steps, notes };
}

/**
 * The parameter-area table the crate's measurement code keeps (igvm/src/measurement/{snp,tdx,vbs}.rs): filled as
 * PARAMETER_AREA directives are visited in file order (they have no compatibility mask, so every one counts) and read
 * by the PARAMETER_INSERTs that come after them. An area declared again replaces the size for later inserts (SEV-SNP,
 * TDX) or is an error (VBS, `rejectRedeclared`).
 */
export class ParameterAreaTable {
  private readonly sizes = new Map<number, bigint>();

  constructor(private readonly opts: { rejectRedeclared?: boolean } = {}) {}

  declare(areaIndex: number, numberOfBytes: bigint, index: number): void {
    if (this.opts.rejectRedeclared === true && this.sizes.has(areaIndex)) {
      throw new IgvmError('measure-parameter-area-redeclared', `PARAMETER_AREA #${index} declares parameter area ${areaIndex} again; the igvm crate's VBS measurement rejects this (InvalidParameterAreaIndex(${areaIndex}))`, {
        path: `directives[${index}].parameter_area_index`,
        crate: 'InvalidParameterAreaIndex',
      });
    }
    this.sizes.set(areaIndex, numberOfBytes);
  }

  /** number_of_bytes of the area a PARAMETER_INSERT names; IgvmError when no PARAMETER_AREA before it declares it. */
  sizeFor(areaIndex: number, index: number): bigint {
    const size = this.sizes.get(areaIndex);
    if (size === undefined) {
      throw new IgvmError('measure-parameter-area', `PARAMETER_INSERT #${index} names parameter area ${areaIndex}, which no PARAMETER_AREA before it declares (InvalidParameterAreaIndex(${areaIndex}))`, {
        path: `directives[${index}].parameter_area_index`,
        crate: 'InvalidParameterAreaIndex',
      });
    }
    return size;
  }
}

/** The crate refuses measured page data (or a VMSA) longer than one 4 KiB page: MeasurementError::UnsupportedPageSize. */
export function checkCratePageSize(data: Uint8Array | undefined, what: string, index: number): void {
  if (data !== undefined && data.length > PAGE_SIZE) {
    throw new IgvmError('measure-page-size', `${what} #${index} has ${data.length} bytes of data; the igvm crate measures at most 4096 bytes per page (UnsupportedPageSize(${data.length}))`, {
      path: `directives[${index}].data`,
      crate: 'UnsupportedPageSize',
    });
  }
}

/**
 * The crate's SNP page type: SECRETS → 5 and CPUID_DATA / CPUID_XF → 6 whatever the flags; any other data type
 * (NORMAL, and values the file format rejects but an in-memory model can hold) → 4 with `unmeasured`, else 1.
 */
function crateSnpPageType(d: PageData): SnpPageType {
  switch (d.data_type) {
    case PAGE_DATA_TYPE.SECRETS:
      return SNP_PAGE.SECRETS;
    case PAGE_DATA_TYPE.CPUID_DATA:
    case PAGE_DATA_TYPE.CPUID_XF:
      return SNP_PAGE.CPUID;
    default:
      return d.flags & PAGE_FLAG.UNMEASURED ? SNP_PAGE.UNMEASURED : SNP_PAGE.NORMAL;
  }
}

/** microsoft/igvm crate (HEAD) rule, MEASUREMENT.md §1.4 (igvm/src/measurement/snp.rs). */
export const measureSnpIgvm: SnpMeasureFn = (file, opts = {}) => {
  const platform = firstSnpPlatform(file, 'igvm');
  const m = platform.compatibility_mask;
  if (!file.initializations.some((h) => h.type === 'GUEST_POLICY' && covers(h.compatibility_mask, m))) {
    throw new IgvmError(
      'measure-missing-guest-policy',
      `no GUEST_POLICY covers the SEV_SNP platform mask ${hex(m)}; the igvm crate refuses to measure such a file (MissingGuestPolicy)`,
      { crate: 'MissingGuestPolicy' },
    );
  }
  const ld = new SnpLaunchDigest({ trace: opts.trace === true });
  const areas = new ParameterAreaTable();
  let shared = 0;
  let large = 0;
  let otherContexts = 0;
  const directives = file.directives;
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!;
    switch (d.type) {
      case 'PARAMETER_AREA':
        areas.declare(d.parameter_area_index, d.number_of_bytes, i);
        break;
      case 'PAGE_DATA': {
        if (!covers(d.compatibility_mask, m)) break;
        if (d.flags & PAGE_FLAG.SHARED) {
          shared++;
          break;
        }
        if (d.flags & PAGE_FLAG.LARGE_2MB) large++;
        const type = crateSnpPageType(d);
        if (type === SNP_PAGE.NORMAL) {
          checkCratePageSize(d.data, 'PAGE_DATA', i);
          ld.addPage(d.gpa, type, d.data, i);
        } else ld.addPage(d.gpa, type, undefined, i);
        break;
      }
      case 'PARAMETER_INSERT': {
        if (!covers(d.compatibility_mask, m)) break;
        const size = areas.sizeFor(d.parameter_area_index, i);
        for (let off = 0n; off < size; off += BigInt(PAGE_SIZE)) ld.addPage(d.gpa + off, SNP_PAGE.UNMEASURED, undefined, i);
        break;
      }
      case 'VP_CONTEXT': {
        if (!covers(d.compatibility_mask, m)) break;
        if (d.context.kind === 'vmsa') {
          checkCratePageSize(d.context.data, 'VP_CONTEXT', i);
          ld.addPage(d.gpa, SNP_PAGE.VMSA, d.context.data, i);
        } else otherContexts++;
        break;
      }
      default:
        break;
    }
  }
  const notes: string[] = [];
  if (shared) notes.push(`${count(shared, 'shared page')} skipped (flag bit 2)`);
  if (large) notes.push(`2 MiB flag ignored on ${count(large, 'page')}: one 4 KiB page each`);
  if (otherContexts) notes.push(`${count(otherContexts, 'VP context')} without a VMSA not measured`);
  return result('igvm', m, ld, notes);
};
