// Intel TDX MRTD by the microsoft/igvm crate rule (MEASUREMENT.md §5): one SHA-384 over MEM.PAGE.ADD / MR.EXTEND records.
import type { IgvmFile, SupportedPlatform } from '../model.js';
import { PLATFORM_TYPE } from '../spec/constants.js';
import { firstPlatformOfType } from './platform.js';
import { createSha384, sha384, type Hasher } from '../crypto/hash.js';
import type { MeasureStep } from './trace.js';
import { PAGE_FLAG, PAGE_SIZE, ParameterAreaTable, checkCratePageSize, covers } from './snp/igvm.js';

export interface TdxMeasurement {
  /** The 48-byte MRTD. */
  digest: Uint8Array;
  /** Compatibility mask of the TDX platform measured. */
  mask: number;
  /** Number of 128-byte MEM.PAGE.ADD plus 384-byte MR.EXTEND records hashed. */
  records: number;
  /** One step per page (PAGE.ADD+EXTEND or PAGE.ADD) when `trace` was asked for. */
  steps: MeasureStep[] | undefined;
}

export interface TdxMeasureOptions {
  /** Record one MeasureStep per page. */
  trace?: boolean;
}

const PAGE_ADD_SIZE = 128;
const EXTEND_SIZE = 384;
const CHUNK = 256;
const CHUNKS_PER_PAGE = PAGE_SIZE / CHUNK;

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
const PAGE_ADD_TAG = ascii('MEM.PAGE.ADD');
const EXTEND_TAG = ascii('MR.EXTEND');

/** The first TDX platform header; IgvmError 'measure-no-tdx-platform' when the file declares none. */
export function firstTdxPlatform(file: IgvmFile): SupportedPlatform {
  return firstPlatformOfType(file, PLATFORM_TYPE.TDX, 'measure-no-tdx-platform', 'it has no MRTD');
}

/** `data` zero-padded (or cut) to the 4096 bytes the 16 MR.EXTEND records cover. */
function page4k(data: Uint8Array | undefined): Uint8Array {
  const out = new Uint8Array(PAGE_SIZE);
  if (data !== undefined) out.set(data.subarray(0, PAGE_SIZE));
  return out;
}

/** Builds the record stream into a running SHA-384. */
class MrtdBuilder {
  private readonly h: Hasher = createSha384();
  private readonly add = new Uint8Array(PAGE_ADD_SIZE);
  private readonly ext = new Uint8Array(EXTEND_SIZE);
  private readonly addView = new DataView(this.add.buffer);
  private readonly extView = new DataView(this.ext.buffer);
  records = 0;

  constructor() {
    this.add.set(PAGE_ADD_TAG, 0);
    this.ext.set(EXTEND_TAG, 0);
  }

  pageAdd(gpa: bigint): void {
    this.addView.setBigUint64(16, BigInt.asUintN(64, gpa), true);
    this.h.update(this.add);
    this.records++;
  }

  /** 16 MR.EXTEND records over the page (data zero-padded to 4096; undefined = zeros). */
  extendPage(gpa: bigint, data: Uint8Array | undefined): void {
    for (let k = 0; k < CHUNKS_PER_PAGE; k++) {
      this.extView.setBigUint64(16, BigInt.asUintN(64, gpa + BigInt(k * CHUNK)), true);
      const chunk = this.ext.subarray(128);
      chunk.fill(0);
      if (data !== undefined && data.length > k * CHUNK) chunk.set(data.subarray(k * CHUNK, Math.min((k + 1) * CHUNK, data.length)));
      this.h.update(this.ext);
      this.records++;
    }
  }

  digest(): Uint8Array {
    return this.h.digest();
  }
}

/**
 * MRTD of the file's first TDX platform (mask M), as igvm/src/measurement/tdx.rs computes it: directives included when
 * `mask & M == M`. PAGE_DATA: `shared` skipped, `unmeasured` → PAGE.ADD only, otherwise PAGE.ADD + 16 EXTENDs (data
 * type and the 2 MiB flag ignored: one 4 KiB page; more than 4096 bytes of measured data is an IgvmError
 * 'measure-page-size', the crate's UnsupportedPageSize); PARAMETER_INSERT → PAGE.ADD per 4 KiB page of its area, the
 * area being the one declared by the last PARAMETER_AREA before the insert (none: 'measure-parameter-area'); VP
 * contexts and other directives ignored.
 */
export function measureTdx(file: IgvmFile, opts: TdxMeasureOptions = {}): TdxMeasurement {
  const m = firstTdxPlatform(file).compatibility_mask;
  const areas = new ParameterAreaTable();
  const b = new MrtdBuilder();
  const steps: MeasureStep[] | undefined = opts.trace ? [] : undefined;
  const NONE = new Uint8Array(0);
  const directives = file.directives;
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!;
    switch (d.type) {
      case 'PARAMETER_AREA':
        areas.declare(d.parameter_area_index, d.number_of_bytes, i);
        break;
      case 'PAGE_DATA': {
        if (!covers(d.compatibility_mask, m) || d.flags & PAGE_FLAG.SHARED) break;
        const measured = !(d.flags & PAGE_FLAG.UNMEASURED);
        if (measured) checkCratePageSize(d.data, 'PAGE_DATA', i);
        b.pageAdd(d.gpa);
        if (measured) b.extendPage(d.gpa, d.data);
        steps?.push({
          kind: measured ? 'PAGE.ADD+EXTEND' : 'PAGE.ADD', gpa: d.gpa, contents: measured ? sha384(page4k(d.data)) : NONE, digest: undefined, source: i,
          detail: measured ? (d.data === undefined || d.data.length === 0 ? 'zeros (no data)' : '') : 'unmeasured',
        });
        break;
      }
      case 'PARAMETER_INSERT': {
        if (!covers(d.compatibility_mask, m)) break;
        const size = areas.sizeFor(d.parameter_area_index, i);
        for (let off = 0n; off < size; off += BigInt(PAGE_SIZE)) {
          b.pageAdd(d.gpa + off);
          steps?.push({ kind: 'PAGE.ADD', gpa: d.gpa + off, contents: NONE, digest: undefined, source: i, detail: `parameter area ${d.parameter_area_index}` });
        }
        break;
      }
      default:
        break;
    }
  }
  return { digest: b.digest(), mask: m, records: b.records, steps };
}
