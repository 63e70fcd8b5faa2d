// Every warning the validator can emit (FORMAT.md §9.3: spec rules the microsoft/igvm crate does not check):
// one hand-made file that triggers exactly that warning, and a passing sibling without it.
// Files are assembled byte by byte with test/raw-igvm.ts, so non-canonical layouts (gaps, padding,
// unreferenced data, mask-0 headers) can be expressed.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { validateIgvm } from '../../src/validate/index.js';
import type { Problem } from '../../src/format/problems.js';
import { REPO_ROOT, storedVectors } from '../helpers.js';
import {
  PLAT, T, assemble, assembleWith, ccaPolicy, checksumOf, concat, errorRange, guestPolicy, page, pageData, parameter,
  parameterArea, parameterInsert, platform, recordBytes, relocatableRegion, requiredMemory, struct, vbsRegisters, vpContext,
  HV, type RawRecord,
} from '../raw-igvm.js';

// ------------------------------------------------------------------------------------------ helpers

const ONE_BYTE = new Uint8Array(1); // the format needs at least one byte of file data
const NATIVE = platform({ mask: 1, type: PLAT.NATIVE });
const ZERO_PAGE = pageData(0x1000n, 1, 0);

/** Absolute offset of record `i` when the TLVs start at `vho`. */
function recordOffset(records: RawRecord[], i: number, vho = 24): number {
  return vho + records.slice(0, i).reduce((n, r) => n + recordBytes(r).length, 0);
}

/** A v1 file with the TLVs right after the fixed header and the given data section. */
const simple = (records: RawRecord[], data: Uint8Array = ONE_BYTE) => assemble({ records, data });

/** SNP_ID_BLOCK body (696 bytes) with the given fields. */
function idBlock(o: { mask?: number; authorKeyEnabled?: number; reserved0?: number; algorithm?: number } = {}): RawRecord {
  return {
    type: T.SNP_ID_BLOCK,
    body: struct(696, [[0, 4, o.mask ?? 1], [4, 1, o.authorKeyEnabled ?? 0], [5, 1, o.reserved0 ?? 0], [0x60, 4, o.algorithm ?? 1]]),
  };
}

/**
 * A complete warning-free SEV-SNP file: platform, GUEST_POLICY with bit 17, a VMSA at 0x10000, then `extra`
 * directives (records) after the VP context. `vmsa` patches the VMSA page.
 */
function snpFile(o: { policy?: bigint; extra?: RawRecord[]; vmsa?: (p: Uint8Array) => void } = {}): { bytes: Uint8Array; records: RawRecord[] } {
  let records: RawRecord[] = [];
  const bytes = assembleWith({}, (ds) => {
    const vmsa = new Uint8Array(4096);
    o.vmsa?.(vmsa);
    records = [
      platform({ mask: 1, type: PLAT.SNP }),
      guestPolicy(o.policy ?? 0x30000n, 1),
      vpContext(0x10000n, 1, ds),
      ...(o.extra ?? []),
    ];
    return { records, data: vmsa };
  });
  return { bytes, records };
}

/** A NATIVE file with one native VP context page at the data start. */
function nativeWithContext(build: (ds: number) => RawRecord[]): { bytes: Uint8Array; records: RawRecord[] } {
  let records: RawRecord[] = [];
  const bytes = assembleWith({}, (ds) => {
    records = [NATIVE, ...build(ds)];
    return { records, data: new Uint8Array(4096) };
  });
  return { bytes, records };
}

// --- CRC forging, for a header offset that overlaps the checksum field (see the overlap case).

/** Solve for 4 bytes at `at` so that checksumOf(bytes, …) === target (CRC-32 is affine over GF(2)). */
function forgeChecksum(bytes: Uint8Array, at: number, target: number, fsz: number, vho: number, vhs: number): void {
  const f = (x: number) => {
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, x >>> 0, true);
    return checksumOf(bytes, fsz, vho, vhs) >>> 0;
  };
  const base = f(0);
  // rows: [column vector as number, variable bit mask]
  const cols: { v: number; x: number }[] = [];
  for (let i = 0; i < 32; i++) cols.push({ v: (f((1 << i) >>> 0) ^ base) >>> 0, x: (1 << i) >>> 0 });
  // Gaussian elimination: build a basis keyed by leading bit.
  const basis = new Map<number, { v: number; x: number }>();
  for (let c of cols) {
    for (let b = 31; b >= 0 && c.v !== 0; b--) {
      if (((c.v >>> b) & 1) === 0) continue;
      const e = basis.get(b);
      if (!e) { basis.set(b, c); break; }
      c = { v: (c.v ^ e.v) >>> 0, x: (c.x ^ e.x) >>> 0 };
    }
  }
  let want = (target ^ base) >>> 0;
  let x = 0;
  for (let b = 31; b >= 0; b--) {
    if (((want >>> b) & 1) === 0) continue;
    const e = basis.get(b);
    if (!e) throw new Error('checksum cannot be forged with these bytes');
    want = (want ^ e.v) >>> 0;
    x = (x ^ e.x) >>> 0;
  }
  assert.equal(f(x), target >>> 0, 'forged checksum');
}

/**
 * A v1 file whose variable_header_offset is 20: the first TLV's type field is the fixed header's checksum
 * field, so the checksum must equal 1 (SUPPORTED_PLATFORM). The only way a header offset inside the fixed
 * header can give a file the crate accepts (vho 0/8/16 put magic/vho/total_file_size in the type field).
 * The checksum is forged through bits 16–47 of the PAGE_DATA gpa.
 */
function overlappingHeaderFile(): Uint8Array {
  const plat = recordBytes(NATIVE); // type(4) length(4) body(16)
  const pageRec = recordBytes(pageData(0x1000n, 1, 0));
  const vho = 20;
  const vhs = plat.length + pageRec.length;
  const bytes = concat(new Uint8Array(20), plat, pageRec, ONE_BYTE);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, 0x4d564749, true);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, vho, true);
  dv.setUint32(12, vhs, true);
  dv.setUint32(16, bytes.length, true);
  // bytes 20..24 are the platform TLV's type (1) = the checksum field.
  const gpaAt = vho + plat.length + 8; // PAGE_DATA body starts 8 bytes into its record
  forgeChecksum(bytes, gpaAt + 2, 1, 24, vho, vhs);
  return bytes;
}

// ------------------------------------------------------------------------------------------ the table

interface Where {
  offset: number;
  header_index?: number | undefined;
  path?: string | undefined;
}

interface Case {
  code: string;
  /** What the failing file does. */
  name: string;
  bad(): { bytes: Uint8Array; at: Where; message?: RegExp };
  good(): Uint8Array;
  /** Other warnings that necessarily come with this one (none unless the rule makes it impossible). */
  companions?: string[];
}

const at = (records: RawRecord[], i: number, path?: string): Where => ({ offset: recordOffset(records, i), header_index: i, path });

const CASES: Case[] = [
  // ---- layout rules (layout-rules.ts)
  {
    code: 'unaligned-header-offset',
    name: 'variable_header_offset 28 (4-byte gap)',
    companions: ['gap-before-headers'], // an unaligned offset past the 24-byte header always leaves a gap
    bad: () => ({ bytes: assemble({ records: [NATIVE, ZERO_PAGE], data: ONE_BYTE, gapBytes: new Uint8Array(4) }), at: { offset: 8 }, message: /0x1c/ }),
    good: () => simple([NATIVE, ZERO_PAGE]),
  },
  {
    code: 'header-offset-overlaps-fixed-header',
    name: 'variable_header_offset 20 (first TLV type = checksum field)',
    companions: ['unaligned-header-offset'], // 20 is the only offset inside the header the crate can accept
    bad: () => ({ bytes: overlappingHeaderFile(), at: { offset: 8 }, message: /0x14/ }),
    good: () => simple([NATIVE, ZERO_PAGE]),
  },
  {
    code: 'gap-before-headers',
    name: '8 zero bytes between the fixed header and the TLVs',
    bad: () => ({ bytes: assemble({ records: [NATIVE, ZERO_PAGE], data: ONE_BYTE, gapBytes: new Uint8Array(8) }), at: { offset: 24 }, message: /^8 bytes between/ }),
    good: () => simple([NATIVE, ZERO_PAGE]),
  },
  {
    code: 'gap-before-headers',
    name: '8 non-zero bytes between the fixed header and the TLVs',
    bad: () => ({ bytes: assemble({ records: [NATIVE, ZERO_PAGE], data: ONE_BYTE, gapBytes: new Uint8Array(8).fill(0x5a) }), at: { offset: 24 }, message: /not all zero/ }),
    good: () => simple([NATIVE, ZERO_PAGE]),
  },
  {
    code: 'nonzero-padding',
    name: "VP_CONTEXT padded with ASCII '0000' (as igvmgen does)",
    bad: () => {
      const { bytes, records } = nativeWithContext((ds) => [vpContext(0n, 1, ds, 0, 0, new Uint8Array([0x30, 0x30, 0x30, 0x30]))]);
      const first = recordOffset(records, 1) + 8 + 20;
      return { bytes, at: { offset: first, header_index: 1, path: 'directives[0]' }, message: new RegExp(`^1 record has .*first at 0x${first.toString(16)}`) };
    },
    good: () => nativeWithContext((ds) => [vpContext(0n, 1, ds, 0, 0, new Uint8Array(4))]).bytes,
  },
  {
    code: 'unreferenced-data',
    name: '32 trailing bytes after the only page',
    bad: () => {
      let ds = 0;
      const bytes = assembleWith({}, (d) => {
        ds = d;
        return { records: [NATIVE, pageData(0x1000n, 1, d)], data: concat(page(16), new Uint8Array(32).fill(7)) };
      });
      return { bytes, at: { offset: ds + 4096 }, message: /^32 bytes of file data in 1 range/ };
    },
    good: () => assembleWith({}, (d) => ({ records: [NATIVE, pageData(0x1000n, 1, d)], data: page(16) })),
  },
  {
    code: 'unreferenced-data',
    name: '8 bytes between two pages',
    bad: () => {
      let ds = 0;
      const bytes = assembleWith({}, (d) => {
        ds = d;
        return { records: [NATIVE, pageData(0x1000n, 1, d), pageData(0x2000n, 1, d + 4096 + 8)], data: concat(page(16), new Uint8Array(8), page(32)) };
      });
      return { bytes, at: { offset: ds + 4096 }, message: /^8 bytes of file data in 1 range/ };
    },
    good: () => assembleWith({}, (d) => ({ records: [NATIVE, pageData(0x1000n, 1, d), pageData(0x2000n, 1, d + 4096)], data: concat(page(16), page(32)) })),
  },
  // ---- header rules (header-rules.ts)
  {
    code: 'mask-zero-dropped',
    name: 'a PAGE_DATA with compatibility_mask 0',
    bad: () => {
      const r = [NATIVE, ZERO_PAGE, pageData(0x2000n, 0, 0)];
      return { bytes: simple(r), at: at(r, 2, 'directives[1].compatibility_mask') };
    },
    good: () => simple([NATIVE, ZERO_PAGE, pageData(0x2000n, 1, 0)]),
  },
  {
    code: 'mask-undeclared-platform',
    name: 'PAGE_DATA mask 0x3 with only platform mask 0x1',
    bad: () => {
      const r = [NATIVE, pageData(0x1000n, 3, 0)];
      return { bytes: simple(r), at: at(r, 1, 'directives[0].compatibility_mask'), message: /bits 0x2/ };
    },
    good: () => simple([NATIVE, pageData(0x1000n, 1, 0)]),
  },
  {
    code: 'duplicate-platform-mask',
    name: 'NATIVE and SEV both with mask 0x1',
    bad: () => {
      const r = [NATIVE, platform({ mask: 1, type: PLAT.SEV }), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 1, 'platforms[1].compatibility_mask'), message: /NATIVE and SEV/ };
    },
    good: () => simple([NATIVE, platform({ mask: 2, type: PLAT.SEV }), pageData(0x1000n, 3, 0)]),
  },
  {
    code: 'highest-vtl-unsupported',
    name: 'NATIVE with highest_vtl 2',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.NATIVE, vtl: 2 }), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 0, 'platforms[0].highest_vtl') };
    },
    good: () => simple([platform({ mask: 1, type: PLAT.VSM, vtl: 2 }), ZERO_PAGE]),
  },
  {
    code: 'shared-gpa-boundary-not-power-of-two',
    name: 'SEV with shared_gpa_boundary 0x6000000000',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.SEV, sharedGpa: 0x6000000000n }), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 0, 'platforms[0].shared_gpa_boundary'), message: /0x6000000000/ };
    },
    good: () => simple([platform({ mask: 1, type: PLAT.SEV, sharedGpa: 0x8000000000n }), ZERO_PAGE]),
  },
  {
    code: 'missing-guest-policy',
    name: 'TDX without GUEST_POLICY',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.TDX }), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 0, 'platforms[0]') };
    },
    good: () => simple([platform({ mask: 1, type: PLAT.TDX }), guestPolicy(0x10000000n, 1), ZERO_PAGE]),
  },
  {
    code: 'missing-guest-policy',
    name: 'SEV_SNP without GUEST_POLICY',
    bad: () => {
      let records: RawRecord[] = [];
      const bytes = assembleWith({}, (ds) => {
        records = [platform({ mask: 1, type: PLAT.SNP }), vpContext(0x10000n, 1, ds)];
        return { records, data: new Uint8Array(4096) };
      });
      return { bytes, at: at(records, 0, 'platforms[0]') };
    },
    good: () => snpFile().bytes,
  },
  {
    code: 'multiple-guest-policies',
    name: 'TDX covered by two GUEST_POLICY headers',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.TDX }), guestPolicy(0n, 1), guestPolicy(1n, 1), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 2, 'initializations[1]'), message: /2 GUEST_POLICY/ };
    },
    good: () => simple([platform({ mask: 1, type: PLAT.TDX }), guestPolicy(0n, 1), ZERO_PAGE]),
  },
  {
    code: 'guest-policy-unused',
    name: 'GUEST_POLICY for a NATIVE platform',
    bad: () => {
      const r = [NATIVE, guestPolicy(0x30000n, 1), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 1, 'initializations[0].compatibility_mask') };
    },
    good: () => simple([NATIVE, ZERO_PAGE]),
  },
  {
    code: 'snp-policy-bit17',
    name: 'SEV-SNP policy 0x1f',
    bad: () => {
      const { bytes, records } = snpFile({ policy: 0x1fn });
      return { bytes, at: at(records, 1, 'initializations[0].policy'), message: /0x1f/ };
    },
    good: () => snpFile({ policy: 0x3001fn }).bytes,
  },
  {
    code: 'page-flags-reserved',
    name: 'PAGE_DATA flags 0x8',
    bad: () => {
      const r = [NATIVE, pageData(0x1000n, 1, 0, 0x8)];
      return { bytes: simple(r), at: at(r, 1, 'directives[0].flags'), message: /^1 PAGE_DATA/ };
    },
    good: () => simple([NATIVE, pageData(0x1000n, 1, 0, 0x2 | 0x4)]),
  },
  {
    code: 'page-2mb-unsupported',
    name: 'PAGE_DATA with IS_2MB_PAGE',
    bad: () => {
      const r = [NATIVE, ZERO_PAGE, pageData(0x200000n, 1, 0, 0x1)];
      return { bytes: simple(r), at: at(r, 2, 'directives[1].flags') };
    },
    good: () => simple([NATIVE, ZERO_PAGE, pageData(0x200000n, 1, 0, 0)]),
  },
  {
    code: 'page-data-type-platform',
    name: 'a SECRETS page for a NATIVE platform',
    bad: () => {
      const r = [NATIVE, pageData(0x1000n, 1, 0, 0, 1)];
      return { bytes: simple(r), at: at(r, 1, 'directives[0].data_type'), message: /0x1\b/ };
    },
    good: () => snpFile({ extra: [pageData(0x20000n, 1, 0, 0, 1), pageData(0x21000n, 1, 0, 0, 2)] }).bytes,
  },
  {
    code: 'reserved-flags-dropped',
    name: 'REQUIRED_MEMORY flags 0x2',
    bad: () => {
      const r = [NATIVE, requiredMemory(0x100000n, 1, 0x2000, 0x2)];
      return { bytes: simple(r), at: at(r, 1, 'directives[0].flags') };
    },
    good: () => simple([NATIVE, requiredMemory(0x100000n, 1, 0x2000, 0x1)]),
  },
  {
    code: 'reserved-flags-dropped',
    name: 'RELOCATABLE_REGION flags 0x8',
    bad: () => {
      let records: RawRecord[] = [];
      const bytes = assembleWith({}, (ds) => {
        records = [platform({ mask: 1, type: PLAT.VSM }), relocatableRegion({ mask: 1, flags: 0x8 }), vpContext(0n, 1, ds)];
        return { records, data: vbsRegisters([{ name: HV.Rip, value: 0x100000n }]) };
      });
      return { bytes, at: at(records, 1, 'initializations[0].flags'), message: /RELOCATABLE_REGION flags 0x8/ };
    },
    good: () =>
      assembleWith({}, (ds) => ({
        records: [platform({ mask: 1, type: PLAT.VSM }), relocatableRegion({ mask: 1, flags: 0x2 }), vpContext(0n, 1, ds)],
        data: vbsRegisters([{ name: HV.Rip, value: 0x100000n }]),
      })),
  },
  {
    code: 'reserved-field-ignored',
    name: 'VP_CONTEXT reserved 5',
    bad: () => {
      const { bytes, records } = nativeWithContext((ds) => [vpContext(0n, 1, ds, 0, 5)]);
      return { bytes, at: at(records, 1, 'directives[0].reserved') };
    },
    good: () => nativeWithContext((ds) => [vpContext(0n, 1, ds, 0, 0)]).bytes,
  },
  {
    code: 'reserved-field-ignored',
    name: 'SNP_ID_BLOCK reserved byte 1',
    bad: () => {
      const { bytes, records } = snpFile({ extra: [idBlock({ reserved0: 1 })] });
      return { bytes, at: at(records, 3, 'directives[1].reserved') };
    },
    good: () => snpFile({ extra: [idBlock()] }).bytes,
  },
  {
    code: 'cca-policy-values',
    name: 'CCA_POLICY hash_algorithm 3',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.CCA }), ccaPolicy({ mask: 1, hash: 3, lfa: 0 })];
      return { bytes: assemble({ version: 2, architecture: 1, records: r, data: ONE_BYTE }), at: { offset: recordOffset(r, 1, 32), header_index: 1, path: 'initializations[0]' } };
    },
    good: () => assemble({ version: 2, architecture: 1, records: [platform({ mask: 1, type: PLAT.CCA }), ccaPolicy({ mask: 1, hash: 2, lfa: 1 })], data: ONE_BYTE }),
  },
  {
    code: 'cca-policy-values',
    name: 'CCA_POLICY lfa_policy 2',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.CCA }), ccaPolicy({ mask: 1, hash: 0, lfa: 2 })];
      return { bytes: assemble({ version: 2, architecture: 1, records: r, data: ONE_BYTE }), at: { offset: recordOffset(r, 1, 32), header_index: 1, path: 'initializations[0]' } };
    },
    good: () => assemble({ version: 2, architecture: 1, records: [platform({ mask: 1, type: PLAT.CCA }), ccaPolicy({ mask: 1, hash: 0, lfa: 0 })], data: ONE_BYTE }),
  },
  {
    code: 'error-range-not-serializable',
    name: 'an ERROR_RANGE directive',
    bad: () => {
      const r = [NATIVE, ZERO_PAGE, errorRange(0x100000n, 1, 0x1000)];
      return { bytes: simple(r), at: at(r, 2, 'directives[1]') };
    },
    good: () => simple([NATIVE, ZERO_PAGE, requiredMemory(0x100000n, 1, 0x1000)]),
  },
  {
    code: 'overlapping-pages',
    name: 'two PAGE_DATA at 0x1000 for the same platform',
    bad: () => {
      const r = [NATIVE, ZERO_PAGE, pageData(0x1000n, 1, 0)];
      return { bytes: simple(r), at: at(r, 2, 'directives[1]'), message: /^1 overlapping page range\(s\) for mask bit 0 \(NATIVE\)/ };
    },
    good: () => simple([NATIVE, ZERO_PAGE, pageData(0x2000n, 1, 0)]),
  },
  {
    code: 'overlapping-pages',
    name: 'a page inside an inserted 8 KiB parameter area',
    bad: () => {
      const r = [NATIVE, parameterArea(0x2000n, 0), parameter(T.VP_COUNT_PARAMETER, 0), parameterInsert(0x10000n, 1, 0), pageData(0x11000n, 1, 0)];
      return { bytes: simple(r), at: at(r, 4, 'directives[3]'), message: /PAGE_DATA at 0x11000 overlaps PARAMETER_INSERT at 0x10000/ };
    },
    // The same GPA for two different platforms is not an overlap.
    good: () =>
      simple([NATIVE, platform({ mask: 2, type: PLAT.SEV }), parameterArea(0x2000n, 0), parameter(T.VP_COUNT_PARAMETER, 0), parameterInsert(0x10000n, 1, 0), pageData(0x11000n, 2, 0)]),
  },
  {
    code: 'overlapping-pages',
    name: 'a PAGE_DATA at the VMSA address',
    bad: () => {
      const { bytes, records } = snpFile({ extra: [pageData(0x10000n, 1, 0)] });
      return { bytes, at: at(records, 3, 'directives[1]'), message: /PAGE_DATA at 0x10000 overlaps VP_CONTEXT at 0x10000/ };
    },
    good: () => snpFile({ extra: [pageData(0x11000n, 1, 0)] }).bytes,
  },
  {
    code: 'parameter-offset-beyond-area',
    name: 'VP_COUNT_PARAMETER at byte 0xffe of a 4 KiB area',
    bad: () => {
      const r = [NATIVE, parameterArea(0x1000n, 0), parameter(T.VP_COUNT_PARAMETER, 0, 0xffe), parameterInsert(0x10000n, 1, 0)];
      return { bytes: simple(r), at: at(r, 2, 'directives[1].byte_offset'), message: /0xffe/ };
    },
    good: () => simple([NATIVE, parameterArea(0x1000n, 0), parameter(T.VP_COUNT_PARAMETER, 0, 0xffc), parameterInsert(0x10000n, 1, 0)]),
  },
  {
    code: 'parameter-offset-beyond-area',
    name: 'MEMORY_MAP at byte 0xff0 of a 4 KiB area (entries are 24 bytes)',
    bad: () => {
      const r = [NATIVE, parameterArea(0x1000n, 0), parameter(T.MEMORY_MAP, 0, 0xff0), parameterInsert(0x10000n, 1, 0)];
      return { bytes: simple(r), at: at(r, 2, 'directives[1].byte_offset') };
    },
    good: () => simple([NATIVE, parameterArea(0x1000n, 0), parameter(T.MEMORY_MAP, 0, 0xfe8), parameterInsert(0x10000n, 1, 0)]),
  },
  {
    code: 'parameter-area-not-inserted',
    name: 'a parameter area that is never inserted',
    bad: () => {
      const r = [NATIVE, parameterArea(0x1000n, 0), parameter(T.VP_COUNT_PARAMETER, 0)];
      return { bytes: simple(r), at: at(r, 1, 'directives[0]'), message: /parameter area 0/ };
    },
    good: () => simple([NATIVE, parameterArea(0x1000n, 0), parameter(T.VP_COUNT_PARAMETER, 0), parameterInsert(0x10000n, 1, 0)]),
  },
  {
    code: 'duplicate-vp-context',
    name: 'two NATIVE contexts for vp_index 0',
    bad: () => {
      const { bytes, records } = nativeWithContext((ds) => [vpContext(0n, 1, ds, 0), vpContext(0n, 1, ds, 0)]);
      return { bytes, at: at(records, 2, 'directives[1]'), message: /vp_index 0/ };
    },
    good: () => nativeWithContext((ds) => [vpContext(0n, 1, ds, 0), vpContext(0n, 1, ds, 1)]).bytes,
  },
  {
    code: 'missing-vp-context',
    name: 'SEV_ES without a VMSA',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.SEV_ES }), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 0, 'platforms[0]') };
    },
    good: () =>
      assembleWith({}, (ds) => ({ records: [platform({ mask: 1, type: PLAT.SEV_ES }), ZERO_PAGE, vpContext(0x10000n, 1, ds)], data: new Uint8Array(4096) })),
  },
  {
    code: 'missing-vp-context',
    name: 'SEV_SNP without a VMSA',
    bad: () => {
      const r = [platform({ mask: 1, type: PLAT.SNP }), guestPolicy(0x30000n, 1), ZERO_PAGE];
      return { bytes: simple(r), at: at(r, 0, 'platforms[0]') };
    },
    good: () => snpFile().bytes,
  },
  {
    code: 'snp-id-block-algorithm',
    name: 'SNP_ID_BLOCK id_key_algorithm 0',
    bad: () => {
      const { bytes, records } = snpFile({ extra: [idBlock({ algorithm: 0 })] });
      return { bytes, at: at(records, 3, 'directives[1].id_key_algorithm') };
    },
    good: () => snpFile({ extra: [idBlock({ algorithm: 1 })] }).bytes,
  },
  {
    code: 'snp-id-block-author-flag',
    name: 'SNP_ID_BLOCK author_key_enabled 2',
    bad: () => {
      const { bytes, records } = snpFile({ extra: [idBlock({ authorKeyEnabled: 2 })] });
      return { bytes, at: at(records, 3, 'directives[1].author_key_enabled') };
    },
    good: () => snpFile({ extra: [idBlock({ authorKeyEnabled: 1 })] }).bytes,
  },
  // ---- decoder warnings (src/format/decode-vp-context.ts)
  {
    code: 'vmsa-tail-not-zero',
    name: 'VMSA byte 0x670 set',
    bad: () => {
      const { bytes, records } = snpFile({ vmsa: (p) => { p[0x670] = 1; } });
      const ds = recordOffset(records, records.length);
      return { bytes, at: { offset: ds + 0x670, header_index: 2, path: 'directives[0]' } };
    },
    good: () => snpFile({ vmsa: (p) => { p[0x66f] = 1; } }).bytes, // last byte of the defined fields
  },
];

// ------------------------------------------------------------------------------------------ tests

const codesOf = (ps: Problem[]) => ps.map((p) => p.code).sort();
const show = (ps: Problem[]) => ps.map((p) => `${p.severity}[${p.code}]@0x${p.offset.toString(16)} ${p.message}`).join('\n');

for (const c of CASES) {
  test(`${c.code}: ${c.name}`, () => {
    const { bytes, at: where, message } = c.bad();
    const r = validateIgvm(bytes);
    assert.equal(r.errors, 0, `no errors expected:\n${show(r.problems)}`);
    assert.equal(r.valid, true);
    assert.deepEqual(codesOf(r.problems), [c.code, ...(c.companions ?? [])].sort(), `exactly ${c.code} expected:\n${show(r.problems)}`);
    assert.equal(r.warnings, r.problems.length);
    const p = r.problems.find((x) => x.code === c.code)!;
    assert.equal(p.severity, 'warning');
    assert.deepEqual({ offset: p.offset, header_index: p.header_index, path: p.path }, { offset: where.offset, header_index: where.header_index, path: where.path }, show([p]));
    assert.ok(p.message.length > 0);
    if (message) assert.match(p.message, message);
    for (const other of r.problems) assert.equal(other.severity, 'warning');
  });

  test(`${c.code}: passing sibling of "${c.name}"`, () => {
    const r = validateIgvm(c.good());
    assert.deepEqual(r.problems, [], show(r.problems));
    assert.equal(r.valid, true);
    assert.equal(r.errors, 0);
    assert.equal(r.warnings, 0);
    assert.ok(r.file);
  });
}

test('mask-undeclared-platform: at most 10 per-header warnings plus one summary', () => {
  const pages = Array.from({ length: 13 }, (_, i) => pageData(BigInt(0x1000 * (i + 1)), 3, 0));
  const r = validateIgvm(simple([NATIVE, ...pages]));
  assert.equal(r.valid, true);
  const ws = r.problems.filter((p) => p.code === 'mask-undeclared-platform');
  assert.equal(ws.length, 11, show(r.problems));
  assert.equal(r.problems.length, 11);
  assert.deepEqual(ws.filter((p) => p.header_index !== undefined).map((p) => p.header_index), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  const summary = ws.find((p) => p.header_index === undefined)!;
  assert.equal(summary.severity, 'warning');
  assert.match(summary.message, /^3 more headers/);
});

test('aggregated warnings count every offending header but point at the first', () => {
  const r = [NATIVE, pageData(0x1000n, 1, 0, 0x10), pageData(0x2000n, 1, 0, 0x20), pageData(0x3000n, 1, 0, 0x1), pageData(0x4000n, 1, 0, 0x1)];
  const v = validateIgvm(simple(r));
  assert.deepEqual(codesOf(v.problems), ['page-2mb-unsupported', 'page-flags-reserved']);
  const reserved = v.problems.find((p) => p.code === 'page-flags-reserved')!;
  assert.match(reserved.message, /^2 PAGE_DATA/);
  assert.equal(reserved.header_index, 1);
  const large = v.problems.find((p) => p.code === 'page-2mb-unsupported')!;
  assert.match(large.message, /^2 PAGE_DATA/);
  assert.equal(large.header_index, 3);
  assert.equal(large.offset, recordOffset(r, 3));
});

test('warnings are sorted by offset and the model is returned', () => {
  const r = [platform({ mask: 1, type: PLAT.NATIVE, vtl: 2 }), guestPolicy(0n, 1), pageData(0x1000n, 0, 0)];
  const v = validateIgvm(assemble({ records: r, data: ONE_BYTE, gapBytes: new Uint8Array(8) }));
  assert.equal(v.valid, true);
  assert.deepEqual(v.problems.map((p) => p.code), ['gap-before-headers', 'highest-vtl-unsupported', 'guest-policy-unused', 'mask-zero-dropped']);
  const offsets = v.problems.map((p) => p.offset);
  assert.deepEqual(offsets, [...offsets].sort((a, b) => a - b));
  assert.equal(v.file?.platforms.length, 1);
});

test('no warning rules run on a file with errors', () => {
  // Non-zero padding and an undeclared mask, plus a wrong checksum.
  const bytes = assemble({ records: [NATIVE, pageData(0x1000n, 3, 0)], data: ONE_BYTE, gapBytes: new Uint8Array(8), checksum: 0x12345678 });
  const v = validateIgvm(bytes);
  assert.equal(v.valid, false);
  assert.deepEqual(v.problems.map((p) => `${p.severity}:${p.code}`), ['error:bad-checksum']);
});

test('igvmgen vectors: valid, no errors, exactly one warning (nonzero-padding: ASCII "0" padding)', () => {
  const vectors = storedVectors();
  assert.ok(vectors.length >= 5, `expected the stored vectors, found ${vectors.length}`);
  for (const v of vectors) {
    const r = validateIgvm(v.bytes);
    assert.equal(r.valid, true, v.name);
    assert.equal(r.errors, 0, `${v.name}:\n${show(r.problems)}`);
    assert.equal(r.warnings, 1, `${v.name}:\n${show(r.problems)}`);
    const [p] = r.problems;
    assert.equal(p?.code, 'nonzero-padding', v.name);
    assert.equal(p.severity, 'warning');
    assert.match(p.message, /^1 record has non-zero padding/, v.name);
    // The offset is the first padding byte, right after a record body; igvmgen pads with '0' (0x30).
    assert.equal(v.bytes[p.offset], 0x30, `${v.name}: byte at 0x${p.offset.toString(16)}`);
    const file = r.file!;
    const records = [...file.platforms, ...file.initializations, ...file.directives].map((h) => file.source!.records.get(h)!);
    const padded = records.filter((x) => x.padding.some((b) => b !== 0));
    assert.equal(padded.length, 1, v.name);
    assert.equal(p.offset, padded[0]!.offset + 8 + padded[0]!.length, v.name);
    assert.ok(padded[0]!.padding.every((b) => b === 0x30), v.name);
  }
});

// ------------------------------------------------------------------------------------------ coverage of the rules

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Warning calls in the source: `ctx.warn('code', …)` (validate rules) and `headerWarning(ctx, 'code', …)` (decoders),
 * plus hand-built `{ severity: 'warning', code: '…' }` objects. Calls whose code is not a literal are listed apart.
 */
function warningCallsInSource(): { codes: Map<string, string>; computed: string[] } {
  const codes = new Map<string, string>();
  const computed: string[] = [];
  for (const f of sourceFiles(join(REPO_ROOT, 'src'))) {
    const text = readFileSync(f, 'utf8');
    const rel = f.slice(REPO_ROOT.length + 1);
    for (const m of text.matchAll(/(\.warn|(?<!function )\bheaderWarning)\(\s*(?:ctx\s*,\s*)?(['"`]([a-z0-9-]+)['"`]|[^\s)]+)/g)) {
      if (m[3] !== undefined) codes.set(m[3], rel);
      else computed.push(`${rel}: ${m[1]}(${m[2]}`);
    }
    for (const m of text.matchAll(/severity:\s*'warning'\s*,\s*code:\s*'([a-z0-9-]+)'/g)) codes.set(m[1]!, rel);
  }
  return { codes, computed };
}

test('every warning code in the source has a failing and a passing case here', () => {
  const { codes: inSource, computed } = warningCallsInSource();
  // Sanity: the scan sees the rules this file was written against.
  for (const code of ['nonzero-padding', 'overlapping-pages', 'vmsa-tail-not-zero', 'snp-id-block-author-flag', 'mask-zero-dropped']) assert.ok(inSource.has(code), `scan missed ${code}`);
  // A warning whose code is computed would hide from this test.
  assert.deepEqual(computed, [], 'warning calls without a literal code');
  const tested = new Set(CASES.map((c) => c.code));
  const untested = [...inSource].filter(([code]) => !tested.has(code)).map(([code, file]) => `${code} (${file})`);
  assert.deepEqual(untested, [], 'warning codes without a test case in test/validate/warnings.test.ts');
  const stale = [...tested].filter((c) => !inSource.has(c));
  assert.deepEqual(stale, [], 'test cases for warning codes the source no longer emits');
});
