// Every accept/reject rule of the microsoft/igvm crate (FORMAT.md §2–§9, audited against
// igvm/src/lib.rs at commit 0142f069684444c944fcb41cf600c3d7db8922c0): for each error a minimal
// failing file and a passing sibling, plus the documented accepted oddities.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readIgvm, parseIgvm } from '../../src/format/index.js';
import { IgvmError } from '../../src/errors.js';
import {
  T, PLAT, HV, PARAMETER_RECORD_TYPES,
  assemble, assembleWith, dataStart, patchU32, refreshChecksum, concat, u32le, page, rec, struct,
  platform, guestPolicy, relocatableRegion, pageTableRegion, corimData, ccaPolicy, parameterArea, pageData,
  parameterInsert, parameter, vpContext, requiredMemory, errorRange, snpIdBlock, vbsMeasurement, vbsRegisters,
  type RawRecord, type AssembleOptions, type VbsReg,
} from '../raw-igvm.js';

// ------------------------------------------------------------------ assertions

function errorsOf(bytes: Uint8Array) {
  return readIgvm(bytes, false).problems.filter((p) => p.severity === 'error');
}

/** The lenient reader reports `code`/`crate`, and the strict parser throws exactly that as its first error. */
function rejects(bytes: Uint8Array, code: string, crate: string): void {
  const errs = errorsOf(bytes);
  assert.ok(
    errs.some((p) => p.code === code && p.crate === crate),
    `expected an error ${code} / ${crate}; got ${JSON.stringify(errs.map((p) => [p.code, p.crate]))}`,
  );
  assert.throws(
    () => parseIgvm(bytes),
    (e: unknown) => {
      assert.ok(e instanceof IgvmError, `parseIgvm threw a non-IgvmError: ${String(e)}`);
      assert.equal(e.code, code, `first error thrown: ${e.code} (${e.crate ?? ''}) ${e.message}`);
      assert.equal(e.crate, crate);
      return true;
    },
  );
}

function accepts(bytes: Uint8Array): void {
  const errs = errorsOf(bytes);
  assert.deepEqual(errs.map((p) => [p.code, p.crate, p.message]), []);
  assert.doesNotThrow(() => parseIgvm(bytes));
}

// ------------------------------------------------------------------ fixtures

const ONE = new Uint8Array([0xee]);
const SNP1 = platform({ mask: 1, type: PLAT.SNP });
const VSM1 = platform({ mask: 1, type: PLAT.VSM });
const NAT1 = platform({ mask: 1, type: PLAT.NATIVE });

/** v1 file from records, with one byte of file data unless given. */
function file(records: RawRecord[], data: Uint8Array = ONE, o: Partial<AssembleOptions> = {}): Uint8Array {
  return assemble({ records, data, ...o });
}

/** x64 SNP file with one page of data referenced by a PAGE_DATA. */
function snpWithPage(pageRec: (ds: number) => RawRecord = (ds) => pageData(0n, 1, ds)): Uint8Array {
  return assembleWith({}, (ds) => ({ records: [SNP1, pageRec(ds)], data: page(16) }));
}

const RIP: VbsReg = { name: HV.Rip, value: 0x1000n };

/**
 * VSM_ISOLATION x64 file: init records, then directives, then a VBS VP context (mask 1) whose register
 * list is `regs`; `ctx` tweaks the context header.
 */
function vbsFile(
  init: RawRecord[] = [],
  directives: RawRecord[] = [],
  regs: Uint8Array = vbsRegisters([RIP]),
  ctx: { mask?: number; vpIndex?: number; offset?: (ds: number) => number } = {},
  o: Partial<AssembleOptions> = {},
  platforms: RawRecord[] = [VSM1],
): Uint8Array {
  return assembleWith(o, (ds) => ({
    records: [...platforms, ...init, ...directives, vpContext(0n, ctx.mask ?? 1, ctx.offset ? ctx.offset(ds) : ds, ctx.vpIndex ?? 0)],
    data: regs,
  }));
}

const V2ARM: Partial<AssembleOptions> = { version: 2, architecture: 1 };
const CCA1 = platform({ mask: 1, type: PLAT.CCA });

// ================================================================== §2 fixed header, §9 steps 1–7

test('fixed header: a valid minimal v1 file parses (baseline)', () => {
  accepts(file([SNP1]));
});

test('fixed header: file shorter than 24 bytes → InvalidFixedHeader', () => {
  const good = file([SNP1]);
  rejects(good.slice(0, 23), 'file-too-short', 'InvalidFixedHeader');
  accepts(good);
});

test('fixed header: magic ≠ "IGVM" → InvalidFixedHeader', () => {
  rejects(file([SNP1], ONE, { magic: 0x4d564748 }), 'bad-magic', 'InvalidFixedHeader');
  accepts(file([SNP1], ONE, { magic: 0x4d564749 }));
});

test('fixed header: format_version 0 or 3 → InvalidFixedHeader; 1 and 2 accepted', () => {
  rejects(file([SNP1], ONE, { formatVersion: 3 }), 'bad-format-version', 'InvalidFixedHeader');
  rejects(file([SNP1], ONE, { formatVersion: 0 }), 'bad-format-version', 'InvalidFixedHeader');
  accepts(file([SNP1], ONE, { version: 1 }));
  accepts(file([SNP1], ONE, { version: 2 }));
});

test('fixed header: v2 file shorter than the 32-byte v2 header → InvalidFixedHeader', () => {
  const v1 = file([], new Uint8Array(4), { formatVersion: 2 }); // 28 bytes, says version 2
  assert.equal(v1.length, 28);
  rejects(v1, 'file-too-short', 'InvalidFixedHeader');
  accepts(file([SNP1], ONE, { version: 2 }));
});

test('fixed header: v2 architecture ∉ {0,1} → InvalidFixedHeader (not InvalidFixedHeaderArch)', () => {
  rejects(file([SNP1], ONE, { version: 2, architecture: 2 }), 'bad-architecture', 'InvalidFixedHeader');
  accepts(file([SNP1], ONE, { version: 2, architecture: 0 }));
  accepts(file([VSM1], ONE, { version: 2, architecture: 1 }));
});

test('fixed header: v2 page_size ≠ 4096 → UnsupportedPageSize(n)', () => {
  rejects(file([SNP1], ONE, { version: 2, pageSize: 0x2000 }), 'unsupported-page-size', 'UnsupportedPageSize(8192)');
  rejects(file([SNP1], ONE, { version: 2, pageSize: 0 }), 'unsupported-page-size', 'UnsupportedPageSize(0)');
  accepts(file([SNP1], ONE, { version: 2, pageSize: 0x1000 }));
});

test('fixed header: total_file_size ≠ file length → InvalidFixedHeader', () => {
  const good = file([SNP1]);
  rejects(file([SNP1], ONE, { totalFileSize: good.length + 1 }), 'total-size-mismatch', 'InvalidFixedHeader');
  rejects(file([SNP1], ONE, { totalFileSize: good.length - 1 }), 'total-size-mismatch', 'InvalidFixedHeader');
  accepts(good);
});

test('fixed header: variable_header_offset ≥ file length → InvalidFixedHeader', () => {
  const good = file([SNP1]);
  rejects(file([SNP1], ONE, { vho: good.length, vhs: 0 }), 'header-offset-out-of-range', 'InvalidFixedHeader');
  accepts(good);
});

test('fixed header: no byte of file data after the variable headers → InvalidFixedHeader', () => {
  rejects(file([SNP1], new Uint8Array(0)), 'no-file-data', 'InvalidFixedHeader');
  // variable_header_size reaching past the end of the file: same error
  rejects(file([SNP1], ONE, { vhs: 25 }), 'no-file-data', 'InvalidFixedHeader');
  rejects(file([SNP1], ONE, { vhs: 1000 }), 'no-file-data', 'InvalidFixedHeader');
  accepts(file([SNP1], new Uint8Array(1)));
});

test('fixed header: variable_header_offset + variable_header_size overflowing u32 → crate panic (split_at)', () => {
  rejects(file([SNP1], ONE, { vhs: 0xfffffff0 }), 'header-size-overflow', 'panic');
  accepts(file([SNP1]));
});

test('checksum: wrong CRC → InvalidChecksum', () => {
  const good = file([SNP1]);
  const stored = new DataView(good.buffer).getUint32(20, true);
  rejects(file([SNP1], ONE, { checksum: (stored ^ 1) >>> 0 }), 'bad-checksum', 'InvalidChecksum');
  accepts(good);
});

test('checksum: covers the variable header bytes (flipping a TLV byte breaks it)', () => {
  const good = file([SNP1, guestPolicy(0x30000n, 1)]);
  const bad = good.slice();
  bad[24 + 24 + 8] = (bad[24 + 24 + 8] ?? 0) ^ 1; // policy byte of the GUEST_POLICY record
  rejects(bad, 'bad-checksum', 'InvalidChecksum');
  accepts(refreshChecksum(bad));
});

test('checksum: does not cover the file data nor the gap before variable_header_offset', () => {
  const good = file([SNP1], new Uint8Array(8), { gapBytes: new Uint8Array(8) });
  const mutated = good.slice();
  mutated[24 + 3] = 0x55; // gap byte
  mutated[mutated.length - 1] = 0x77; // data byte
  accepts(mutated);
});

test('accepted oddity: v2 TLVs starting after garbage at offset 35, 36 or 40 (no alignment / offset check)', () => {
  for (const gap of [3, 4, 8]) {
    const junk = new Uint8Array(gap).fill(0xcc);
    accepts(assembleWith({ version: 2, gapBytes: junk }, (ds) => ({ records: [SNP1, pageData(0n, 1, ds)], data: page(1) })));
  }
});

test('accepted oddity: variable_header_offset inside the fixed header is not rejected by itself', () => {
  // TLVs at offset 8 read the header fields as a record: type = variable_header_offset (8) is a
  // platform-range type the crate does not know → InvalidVariableHeaderType, not an offset error.
  // (vhs 8 keeps the checksum field out of the hashed section, so the CRC can be right.)
  rejects(file([SNP1], ONE, { vho: 8, vhs: 8 }), 'unknown-record-type', 'InvalidBinaryPlatformHeader(InvalidVariableHeaderType)');
});

// ================================================================== §3 variable header section

test('section: fewer than 8 bytes left for a record header → InvalidBinaryVariableHeaderSection', () => {
  // [SNP1] (24 bytes) followed by 4 stray bytes that variable_header_size still counts
  const good = file([SNP1]);
  const bad = assemble({ records: [SNP1], data: concat(new Uint8Array(4), ONE), vhs: 24 + 4 });
  rejects(bad, 'truncated-record', 'InvalidBinaryVariableHeaderSection');
  accepts(good);
});

test('section: record type outside the three ranges (0x0, 0x201, 0x300, 0x401) → InvalidBinaryVariableHeaderSection', () => {
  for (const type of [0x0, 0x200 + 1, 0x300, 0x401, 0xffff]) {
    rejects(file([SNP1, rec(type, new Uint8Array(8))]), 'bad-record-type', 'InvalidBinaryVariableHeaderSection');
  }
  accepts(file([SNP1, parameterArea(0x1000n, 0)]));
});

test('section: IGVM_VHT_OPTIONAL_BIT (bit 31) is not supported → InvalidBinaryVariableHeaderSection', () => {
  rejects(file([SNP1, rec(0x80000000 | T.PARAMETER_AREA, struct(16, [[0, 8, 0x1000n]]))]), 'bad-record-type', 'InvalidBinaryVariableHeaderSection');
  rejects(file([SNP1, rec(0x80000314, new Uint8Array(8))]), 'bad-record-type', 'InvalidBinaryVariableHeaderSection');
  accepts(file([SNP1, rec(T.PARAMETER_AREA, struct(16, [[0, 8, 0x1000n]]))]));
});

test('section: platform record after an initialization record → InvalidBinaryVariableHeaderSection', () => {
  const NAT2 = platform({ mask: 2, type: PLAT.NATIVE });
  rejects(file([SNP1, guestPolicy(0n, 1), NAT2]), 'section-order', 'InvalidBinaryVariableHeaderSection');
  rejects(file([SNP1, parameterArea(0x1000n, 0), NAT2]), 'section-order', 'InvalidBinaryVariableHeaderSection');
  accepts(file([SNP1, NAT2, guestPolicy(0n, 1), parameterArea(0x1000n, 0)]));
});

test('section: initialization record after a directive → InvalidBinaryVariableHeaderSection', () => {
  rejects(file([SNP1, parameterArea(0x1000n, 0), guestPolicy(0n, 1)]), 'section-order', 'InvalidBinaryVariableHeaderSection');
  accepts(file([SNP1, guestPolicy(0n, 1), parameterArea(0x1000n, 0)]));
});

test('section: sections may be skipped (platform → directive directly, init section empty)', () => {
  accepts(file([SNP1, parameterArea(0x1000n, 0)]));
  accepts(file([SNP1, guestPolicy(0n, 1)]));
});

test('section: unknown type inside a known range → InvalidVariableHeaderType wrapped per section', () => {
  rejects(file([SNP1, rec(0x002, new Uint8Array(16))]), 'unknown-record-type', 'InvalidBinaryPlatformHeader(InvalidVariableHeaderType)');
  rejects(file([SNP1, rec(0x107, new Uint8Array(16))]), 'unknown-record-type', 'InvalidBinaryInitializationHeader(InvalidVariableHeaderType)');
  rejects(file([SNP1, rec(T.RESERVED_DO_NOT_USE, new Uint8Array(8))]), 'unknown-record-type', 'InvalidBinaryDirectiveHeader(InvalidVariableHeaderType)');
  rejects(file([SNP1, rec(0x314, new Uint8Array(8))]), 'unknown-record-type', 'InvalidBinaryDirectiveHeader(InvalidVariableHeaderType)');
  accepts(file([SNP1, parameterArea(0x1000n, 0), parameter(T.ENVIRONMENT_INFO_PARAMETER, 0)]));
});

test('section: length ≠ exact structure size → InvalidVariableHeaderType (every type)', () => {
  const cases: [number, number, string][] = [
    [T.SUPPORTED_PLATFORM, 16, 'InvalidBinaryPlatformHeader'],
    [T.GUEST_POLICY, 16, 'InvalidBinaryInitializationHeader'],
    [T.RELOCATABLE_REGION, 48, 'InvalidBinaryInitializationHeader'],
    [T.PAGE_TABLE_RELOCATION_REGION, 32, 'InvalidBinaryInitializationHeader'],
    [T.CORIM_DOCUMENT, 16, 'InvalidBinaryInitializationHeader'],
    [T.CORIM_SIGNATURE, 16, 'InvalidBinaryInitializationHeader'],
    [T.CCA_POLICY, 32, 'InvalidBinaryInitializationHeader'],
    [T.PARAMETER_AREA, 16, 'InvalidBinaryDirectiveHeader'],
    [T.PAGE_DATA, 24, 'InvalidBinaryDirectiveHeader'],
    [T.PARAMETER_INSERT, 16, 'InvalidBinaryDirectiveHeader'],
    [T.VP_CONTEXT, 20, 'InvalidBinaryDirectiveHeader'],
    [T.REQUIRED_MEMORY, 24, 'InvalidBinaryDirectiveHeader'],
    [T.ERROR_RANGE, 16, 'InvalidBinaryDirectiveHeader'],
    [T.SNP_ID_BLOCK, 696, 'InvalidBinaryDirectiveHeader'],
    [T.VBS_MEASUREMENT, 864, 'InvalidBinaryDirectiveHeader'],
    ...PARAMETER_RECORD_TYPES.map((t) => [t, 8, 'InvalidBinaryDirectiveHeader'] as [number, number, string]),
  ];
  for (const [type, size, wrapper] of cases) {
    for (const len of [size - 8, size + 4, size + 8]) {
      rejects(file([SNP1, rec(type, new Uint8Array(len))]), 'bad-record-length', `${wrapper}(InvalidVariableHeaderType)`);
    }
  }
});

test('section: VP_CONTEXT length 24 (the padded size) → InvalidVariableHeaderType; 20 accepted', () => {
  const bad = assembleWith({}, (ds) => ({ records: [SNP1, rec(T.VP_CONTEXT, concat(struct(20, [[8, 4, 1], [12, 4, ds]]), new Uint8Array(4)))], data: page() }));
  rejects(bad, 'bad-record-length', 'InvalidBinaryDirectiveHeader(InvalidVariableHeaderType)');
  accepts(assembleWith({}, (ds) => ({ records: [SNP1, vpContext(0n, 1, ds)], data: page() })));
});

test('section: record body running past the end of the section → InvalidVariableHeaderSize', () => {
  // GUEST_POLICY with its last 8 bytes cut off by variable_header_size
  const bad = file([SNP1, guestPolicy(0n, 1)], ONE, { vhs: 24 + 24 - 8 });
  rejects(bad, 'record-truncated', 'InvalidBinaryInitializationHeader(InvalidVariableHeaderSize)');
  const badPlat = file([SNP1], ONE, { vhs: 16 });
  rejects(badPlat, 'record-truncated', 'InvalidBinaryPlatformHeader(InvalidVariableHeaderSize)');
  accepts(file([SNP1, guestPolicy(0n, 1)]));
});

test('section: VP_CONTEXT as last record without its 4 padding bytes → InvalidVariableHeaderSize', () => {
  const bad = assembleWith({}, (ds) => ({ records: [SNP1, vpContext(0n, 1, ds, 0, 0, new Uint8Array(0))], data: page() }));
  rejects(bad, 'record-truncated', 'InvalidBinaryDirectiveHeader(InvalidVariableHeaderSize)');
  accepts(assembleWith({}, (ds) => ({ records: [SNP1, vpContext(0n, 1, ds)], data: page() })));
});

test('accepted oddity: non-zero padding bytes and VP_CONTEXT.reserved are not checked', () => {
  accepts(assembleWith({}, (ds) => ({ records: [SNP1, vpContext(0n, 1, ds, 0, 0xffff, new Uint8Array([1, 2, 3, 4]))], data: page() })));
});

test('file: no SUPPORTED_PLATFORM record → NoPlatformHeaders', () => {
  rejects(file([]), 'no-platforms', 'NoPlatformHeaders');
  rejects(file([parameterArea(0x1000n, 0)]), 'no-platforms', 'NoPlatformHeaders');
  accepts(file([SNP1, parameterArea(0x1000n, 0)]));
});

// ================================================================== §4 platform headers

test('platform: compatibility_mask without exactly one bit → InvalidCompatibilityMask', () => {
  for (const mask of [0, 3, 0x80000001]) {
    rejects(file([platform({ mask, type: PLAT.SNP })]), 'platform-mask-not-one-bit', 'InvalidBinaryPlatformHeader(InvalidCompatibilityMask)');
  }
  accepts(file([platform({ mask: 0x80000000, type: PLAT.SNP })]));
});

test('platform: highest_vtl ∉ {0,2} → InvalidVtl', () => {
  for (const vtl of [1, 3, 255]) rejects(file([platform({ mask: 1, type: PLAT.VSM, vtl })]), 'invalid-vtl', 'InvalidBinaryPlatformHeader(InvalidVtl)');
  accepts(file([platform({ mask: 1, type: PLAT.VSM, vtl: 2 })]));
  accepts(file([platform({ mask: 1, type: PLAT.SNP, vtl: 2 })])); // highest_vtl vs platform not checked
});

test('platform: platform_type ≥ 7 → InvalidPlatformType', () => {
  for (const type of [7, 0xff]) rejects(file([platform({ mask: 1, type })]), 'unknown-platform-type', 'InvalidBinaryPlatformHeader(InvalidPlatformType)');
  for (const type of [PLAT.NATIVE, PLAT.VSM, PLAT.SNP, PLAT.TDX, PLAT.SEV, PLAT.SEV_ES]) accepts(file([platform({ mask: 1, type })]));
  accepts(file([CCA1], ONE, V2ARM));
});

test('platform: platform_version ≠ 1 → InvalidPlatformVersion (every type)', () => {
  for (const type of [PLAT.NATIVE, PLAT.VSM, PLAT.SNP, PLAT.TDX, PLAT.SEV, PLAT.SEV_ES]) {
    for (const version of [0, 2]) rejects(file([platform({ mask: 1, type, version })]), 'invalid-platform-version', 'InvalidBinaryPlatformHeader(InvalidPlatformVersion)');
  }
  rejects(file([platform({ mask: 1, type: PLAT.CCA, version: 2 })], ONE, V2ARM), 'invalid-platform-version', 'InvalidBinaryPlatformHeader(InvalidPlatformVersion)');
});

test('platform: shared_gpa_boundary ≠ 0 for NATIVE / VSM_ISOLATION → InvalidSharedGpaBoundary; allowed for the others', () => {
  for (const type of [PLAT.NATIVE, PLAT.VSM]) {
    rejects(file([platform({ mask: 1, type, sharedGpa: 1n << 46n })]), 'invalid-shared-gpa-boundary', 'InvalidBinaryPlatformHeader(InvalidSharedGpaBoundary)');
  }
  for (const type of [PLAT.SNP, PLAT.TDX, PLAT.SEV, PLAT.SEV_ES]) accepts(file([platform({ mask: 1, type, sharedGpa: 1n << 46n })]));
  accepts(file([platform({ mask: 1, type: PLAT.CCA, sharedGpa: 1n << 40n })], ONE, V2ARM));
});

test('platform: the same platform_type twice → MultiplePlatformHeadersWithSameIsolation', () => {
  rejects(file([SNP1, platform({ mask: 2, type: PLAT.SNP })]), 'duplicate-platform-type', 'MultiplePlatformHeadersWithSameIsolation');
  accepts(file([SNP1, platform({ mask: 2, type: PLAT.TDX })]));
});

test('accepted oddity: two platforms with the same compatibility mask', () => {
  accepts(file([SNP1, platform({ mask: 1, type: PLAT.TDX }), platform({ mask: 1, type: PLAT.NATIVE })]));
});

test('platform: architecture mismatch → PlatformArchUnsupported (x64-only types on AArch64, CCA on X64 / v1)', () => {
  for (const type of [PLAT.NATIVE, PLAT.SNP, PLAT.TDX, PLAT.SEV, PLAT.SEV_ES]) {
    rejects(file([platform({ mask: 1, type })], ONE, V2ARM), 'platform-arch-unsupported', 'PlatformArchUnsupported');
  }
  rejects(file([CCA1]), 'platform-arch-unsupported', 'PlatformArchUnsupported');
  rejects(file([CCA1], ONE, { version: 2, architecture: 0 }), 'platform-arch-unsupported', 'PlatformArchUnsupported');
  accepts(file([VSM1], ONE, V2ARM));
  accepts(file([VSM1]));
  accepts(file([CCA1], ONE, V2ARM));
});

// ================================================================== §5 initialization headers

test('guest policy: reserved ≠ 0 → ReservedNotZero', () => {
  rejects(file([SNP1, guestPolicy(0x30000n, 1, 1)]), 'reserved-not-zero', 'InvalidBinaryInitializationHeader(ReservedNotZero)');
  accepts(file([SNP1, guestPolicy(0x30000n, 1, 0)]));
});

test('accepted oddity: guest policy for NATIVE, unknown policy bits, SNP without policy', () => {
  accepts(file([NAT1, guestPolicy(0xffffffffffffffffn, 1)]));
  accepts(file([SNP1]));
});

// ---- relocatable region (needs a VBS VP context with vp_index 0 and the same vtl)

test('relocatable region: passing file (VSM platform + matching VBS VP context)', () => {
  accepts(vbsFile([relocatableRegion({ mask: 1 })]));
});

test('relocatable region: vtl > 2 → InvalidVtl', () => {
  rejects(vbsFile([relocatableRegion({ mask: 1, vtl: 3 })]), 'invalid-vtl', 'InvalidBinaryInitializationHeader(InvalidVtl)');
  accepts(vbsFile([relocatableRegion({ mask: 1, vtl: 2 })], [], vbsRegisters([{ ...RIP, vtl: 2 }])));
});

test('relocatable region: relocation_region_size not 4K multiple → RelocationSize (checked before alignment)', () => {
  rejects(vbsFile([relocatableRegion({ mask: 1, size: 0x1800n })]), 'relocation-size', 'InvalidBinaryInitializationHeader(RelocationSize)');
  // size is checked before the alignment: with alignment 0 the crate still returns RelocationSize, no panic
  rejects(vbsFile([relocatableRegion({ mask: 1, size: 0x1800n, alignment: 0n })]), 'relocation-size', 'InvalidBinaryInitializationHeader(RelocationSize)');
  accepts(vbsFile([relocatableRegion({ mask: 1, size: 0x3000n })]));
});

test('relocatable region: relocation_alignment not 4K multiple → RelocationAlignment', () => {
  rejects(vbsFile([relocatableRegion({ mask: 1, alignment: 0x1800n })]), 'relocation-alignment', 'InvalidBinaryInitializationHeader(RelocationAlignment)');
  accepts(vbsFile([relocatableRegion({ mask: 1, alignment: 0x200000n, gpa: 0x200000n, min: 0n, max: 0x40000000n })]));
});

test('relocatable region: relocation_alignment 0 → crate panic (remainder by zero)', () => {
  rejects(vbsFile([relocatableRegion({ mask: 1, alignment: 0n })]), 'relocation-alignment-zero', 'panic');
});

test('relocatable region: gpa / minimum / maximum not a multiple of the alignment → RelocationAddress', () => {
  const A = 0x200000n;
  rejects(vbsFile([relocatableRegion({ mask: 1, alignment: A, gpa: 0x1000n, min: 0n, max: A })]), 'relocation-address', 'InvalidBinaryInitializationHeader(RelocationAddress)');
  rejects(vbsFile([relocatableRegion({ mask: 1, alignment: A, gpa: A, min: 0x1000n, max: A })]), 'relocation-address', 'InvalidBinaryInitializationHeader(RelocationAddress)');
  rejects(vbsFile([relocatableRegion({ mask: 1, alignment: A, gpa: A, min: 0n, max: A + 0x1000n })]), 'relocation-address', 'InvalidBinaryInitializationHeader(RelocationAddress)');
  accepts(vbsFile([relocatableRegion({ mask: 1, alignment: A, gpa: A, min: 0n, max: 2n * A })]));
});

test('accepted oddity: unknown relocatable-region flag bits are ignored', () => {
  accepts(vbsFile([relocatableRegion({ mask: 1, flags: 0xff })]));
});

// ---- page table relocation region

test('page-table region: passing file', () => {
  accepts(vbsFile([pageTableRegion({ mask: 1 })]));
});

test('page-table region: reserved ≠ 0 → ReservedNotZero', () => {
  rejects(vbsFile([pageTableRegion({ mask: 1, reserved: 1 })]), 'reserved-not-zero', 'InvalidBinaryInitializationHeader(ReservedNotZero)');
});

test('page-table region: vtl > 2 → InvalidVtl', () => {
  rejects(vbsFile([pageTableRegion({ mask: 1, vtl: 3 })]), 'invalid-vtl', 'InvalidBinaryInitializationHeader(InvalidVtl)');
});

test('page-table region: gpa not 4K aligned → UnalignedAddress', () => {
  rejects(vbsFile([pageTableRegion({ mask: 1, gpa: 0x200800n })]), 'unaligned-gpa', 'InvalidBinaryInitializationHeader(UnalignedAddress)');
});

test('page-table region: size or used_size not 4K multiple → UnalignedSize', () => {
  rejects(vbsFile([pageTableRegion({ mask: 1, size: 0x4800n })]), 'unaligned-size', 'InvalidBinaryInitializationHeader(UnalignedSize)');
  rejects(vbsFile([pageTableRegion({ mask: 1, usedSize: 0x800n })]), 'unaligned-size', 'InvalidBinaryInitializationHeader(UnalignedSize)');
});

test('page-table region: used_size > size → InvalidPageTableRegionSize', () => {
  rejects(vbsFile([pageTableRegion({ mask: 1, size: 0x2000n, usedSize: 0x3000n })]), 'page-table-used-size', 'InvalidBinaryInitializationHeader(InvalidPageTableRegionSize)');
  accepts(vbsFile([pageTableRegion({ mask: 1, size: 0x2000n, usedSize: 0x2000n })]));
});

test('page-table region: a second one sharing a mask bit → MultiplePageTableRelocationHeaders', () => {
  rejects(
    vbsFile([pageTableRegion({ mask: 1, gpa: 0x200000n }), pageTableRegion({ mask: 1, gpa: 0x400000n })]),
    'multiple-page-table-regions', 'MultiplePageTableRelocationHeaders',
  );
  rejects(
    vbsFile([pageTableRegion({ mask: 1, gpa: 0x200000n }), pageTableRegion({ mask: 3, gpa: 0x400000n })], [], vbsRegisters([RIP]), {}, {}, [VSM1, platform({ mask: 2, type: PLAT.NATIVE })]),
    'multiple-page-table-regions', 'MultiplePageTableRelocationHeaders',
  );
  // one region covering two bits is fine
  accepts(vbsFile([pageTableRegion({ mask: 3 })], [], vbsRegisters([RIP]), {}, {}, [VSM1, platform({ mask: 2, type: PLAT.NATIVE })]));
  // a second region on another bit is not a duplicate (it then lacks a VBS context, a different rule)
  const other = errorsOf(vbsFile([pageTableRegion({ mask: 1, gpa: 0x200000n }), pageTableRegion({ mask: 2, gpa: 0x200000n })], [], vbsRegisters([RIP]), {}, {}, [VSM1, platform({ mask: 2, type: PLAT.NATIVE })]));
  assert.deepEqual(other.map((p) => p.code), ['no-matching-vp-context']);
});

test('relocation rules: overlapping relocation / page-table regions on one mask bit → RelocationRegionsOverlap', () => {
  rejects(
    vbsFile([relocatableRegion({ mask: 1, gpa: 0x100000n, size: 0x2000n }), pageTableRegion({ mask: 1, gpa: 0x101000n, size: 0x2000n })]),
    'relocation-regions-overlap', 'RelocationRegionsOverlap',
  );
  rejects(
    vbsFile([relocatableRegion({ mask: 1, gpa: 0x100000n, size: 0x2000n }), relocatableRegion({ mask: 1, gpa: 0x100000n, size: 0x1000n })]),
    'relocation-regions-overlap', 'RelocationRegionsOverlap',
  );
  // adjacent is fine
  accepts(vbsFile([relocatableRegion({ mask: 1, gpa: 0x100000n, size: 0x2000n }), pageTableRegion({ mask: 1, gpa: 0x102000n, size: 0x2000n })]));
});

test('relocation rules: size-0 region → crate panic in RangeMap::insert (empty inclusive range)', () => {
  rejects(vbsFile([pageTableRegion({ mask: 1, gpa: 0x200000n, size: 0n, usedSize: 0n })]), 'relocation-region-empty', 'panic');
  rejects(vbsFile([relocatableRegion({ mask: 1, gpa: 0x100000n, size: 0n })]), 'relocation-region-empty', 'panic');
});

test('relocation rules: size-0 region at gpa 0 wraps to [0, u64::MAX] in a release build: accepted alone, overlaps everything else', () => {
  accepts(vbsFile([pageTableRegion({ mask: 1, gpa: 0n, size: 0n, usedSize: 0n })]));
  rejects(
    vbsFile([pageTableRegion({ mask: 1, gpa: 0n, size: 0n, usedSize: 0n }), relocatableRegion({ mask: 1, gpa: 0x7fff0000000n, size: 0x1000n, max: 0x7fff1000000n })]),
    'relocation-regions-overlap', 'RelocationRegionsOverlap',
  );
});

test('relocation rules: region wrapping past 2^64 → crate panic; region ending exactly at 2^64 accepted', () => {
  const top = 0xfffffffffffff000n;
  rejects(vbsFile([pageTableRegion({ mask: 1, gpa: top, size: 0x2000n })]), 'relocation-region-empty', 'panic');
  accepts(vbsFile([pageTableRegion({ mask: 1, gpa: top, size: 0x1000n })]));
});

test('relocation rules: PARAMETER_INSERT inside a page-table region (intersecting mask) → ParameterInsertInsidePageTableRegion', () => {
  const pt = pageTableRegion({ mask: 1, gpa: 0x200000n, size: 0x4000n });
  rejects(vbsFile([pt], [parameterArea(0x1000n, 0), parameterInsert(0x203000n, 1, 0)]), 'parameter-insert-in-page-table', 'ParameterInsertInsidePageTableRegion');
  accepts(vbsFile([pt], [parameterArea(0x1000n, 0), parameterInsert(0x204000n, 1, 0)])); // first page after the region
  accepts(vbsFile([pt], [parameterArea(0x1000n, 0), parameterInsert(0x203000n, 2, 0)])); // disjoint mask
});

test('relocation rules: page-table region ending at 2^64 does not contain inserts (end wraps to 0)', () => {
  const top = 0xfffffffffffff000n;
  accepts(vbsFile([pageTableRegion({ mask: 1, gpa: top, size: 0x1000n })], [parameterArea(0x1000n, 0), parameterInsert(top, 1, 0)]));
});

test('relocation rules: region without a VBS VP context of vp_index 0 and the same vtl → NoMatchingVpContext', () => {
  rejects(vbsFile([relocatableRegion({ mask: 1, vtl: 2 })]), 'no-matching-vp-context', 'NoMatchingVpContext'); // context vtl 0
  rejects(vbsFile([relocatableRegion({ mask: 1, vpIndex: 1 })]), 'no-matching-vp-context', 'NoMatchingVpContext');
  rejects(vbsFile([pageTableRegion({ mask: 2 })]), 'no-matching-vp-context', 'NoMatchingVpContext'); // mask does not intersect
  // no VP context at all
  rejects(file([VSM1, pageTableRegion({ mask: 1 })]), 'no-matching-vp-context', 'NoMatchingVpContext');
  accepts(vbsFile([relocatableRegion({ mask: 1 }), pageTableRegion({ mask: 1 })]));
});

test('relocation rules: the VBS context only needs an intersecting mask, not an equal one', () => {
  const NAT2 = platform({ mask: 2, type: PLAT.NATIVE });
  accepts(vbsFile([relocatableRegion({ mask: 3 })], [], vbsRegisters([RIP]), { mask: 1 }, {}, [VSM1, NAT2]));
});

test('relocation rules: relocation headers with a non-VBS platform can never be matched → NoMatchingVpContext', () => {
  const bad = assembleWith({}, (ds) => ({ records: [SNP1, relocatableRegion({ mask: 1 }), vpContext(0n, 1, ds)], data: page() }));
  rejects(bad, 'no-matching-vp-context', 'NoMatchingVpContext');
});

test('accepted oddity: mask-0 relocation / page-table header is dropped before the file rules', () => {
  accepts(file([SNP1, relocatableRegion({ mask: 0 }), pageTableRegion({ mask: 0 })]));
  // but per-record checks still run on it
  rejects(file([SNP1, pageTableRegion({ mask: 0, gpa: 0x800n })]), 'unaligned-gpa', 'InvalidBinaryInitializationHeader(UnalignedAddress)');
});

// ---- CCA policy

test('CCA policy: passing file (AArch64, CCA platform)', () => {
  accepts(file([CCA1, ccaPolicy({ mask: 1, zeroes: 1n, ones: 2n })], ONE, V2ARM));
});

test('CCA policy: reserved or reserved2 ≠ 0 → ReservedNotZero', () => {
  rejects(file([CCA1, ccaPolicy({ mask: 1, reserved: 1 })], ONE, V2ARM), 'reserved-not-zero', 'InvalidBinaryInitializationHeader(ReservedNotZero)');
  rejects(file([CCA1, ccaPolicy({ mask: 1, reserved2: new Uint8Array([0, 0, 0, 0, 0, 1]) })], ONE, V2ARM), 'reserved-not-zero', 'InvalidBinaryInitializationHeader(ReservedNotZero)');
});

test('CCA policy: required zeroes ∩ required ones ≠ 0 → InvalidOnesZeroesMasks', () => {
  rejects(file([CCA1, ccaPolicy({ mask: 1, zeroes: 3n, ones: 2n })], ONE, V2ARM), 'cca-ones-zeroes-overlap', 'InvalidBinaryInitializationHeader(InvalidOnesZeroesMasks)');
});

test('accepted oddity: CCA policy hash_algorithm / lfa_policy values outside the enums are not checked', () => {
  accepts(file([CCA1, ccaPolicy({ mask: 1, hash: 0xff, lfa: 7 })], ONE, V2ARM));
});

test('CCA policy: in an X64 file → InvalidHeaderArch', () => {
  rejects(file([VSM1, ccaPolicy({ mask: 1 })]), 'header-arch', 'InvalidHeaderArch');
  accepts(file([VSM1, ccaPolicy({ mask: 0 })])); // mask 0: dropped before the check
});

test('CCA policy: a mask bit that is not a CCA platform → InvalidCcaPolicyCompatibilityMask(bit mask)', () => {
  const VSM2 = platform({ mask: 2, type: PLAT.VSM });
  rejects(file([CCA1, VSM2, ccaPolicy({ mask: 3 })], ONE, V2ARM), 'cca-policy-mask', 'InvalidCcaPolicyCompatibilityMask(2)');
  rejects(file([CCA1, ccaPolicy({ mask: 4 })], ONE, V2ARM), 'cca-policy-mask', 'InvalidCcaPolicyCompatibilityMask(4)');
  accepts(file([CCA1, VSM2, ccaPolicy({ mask: 1 })], ONE, V2ARM));
});

test('CCA policy: with duplicate platform masks the LAST platform of the mask decides', () => {
  const VSMdup = platform({ mask: 1, type: PLAT.VSM });
  rejects(file([CCA1, VSMdup, ccaPolicy({ mask: 1 })], ONE, V2ARM), 'cca-policy-mask', 'InvalidCcaPolicyCompatibilityMask(1)');
  accepts(file([VSMdup, CCA1, ccaPolicy({ mask: 1 })], ONE, V2ARM));
});

// ---- CoRIM

function corimFile(records: (ds: number) => RawRecord[], data: Uint8Array = new Uint8Array(64).fill(0xa0)): Uint8Array {
  return assembleWith({}, (ds) => ({ records: [SNP1, ...records(ds)], data }));
}

test('CoRIM: document + signature per mask bit parse', () => {
  accepts(corimFile((ds) => [corimData(T.CORIM_DOCUMENT, 1, ds, 32), corimData(T.CORIM_SIGNATURE, 1, ds + 32, 32)]));
});

test('CoRIM: reserved ≠ 0 → ReservedNotZero (checked before the data is read)', () => {
  rejects(corimFile((ds) => [corimData(T.CORIM_DOCUMENT, 1, ds, 32, 1)]), 'reserved-not-zero', 'InvalidBinaryInitializationHeader(ReservedNotZero)');
  rejects(corimFile((ds) => [corimData(T.CORIM_DOCUMENT, 1, ds + 1000, 32, 1)]), 'reserved-not-zero', 'InvalidBinaryInitializationHeader(ReservedNotZero)');
});

test('CoRIM: data outside the file data section → InvalidDataSize', () => {
  rejects(corimFile((ds) => [corimData(T.CORIM_DOCUMENT, 1, ds + 40, 32)]), 'data-out-of-range', 'InvalidBinaryInitializationHeader(InvalidDataSize)');
  rejects(corimFile(() => [corimData(T.CORIM_DOCUMENT, 1, 24, 8)]), 'data-out-of-range', 'InvalidBinaryInitializationHeader(InvalidDataSize)');
  accepts(corimFile((ds) => [corimData(T.CORIM_DOCUMENT, 1, ds + 32, 32)]));
});

test('accepted oddity: CoRIM file_offset 0 means no data, whatever size_bytes says; size 0 at end of file', () => {
  accepts(corimFile(() => [corimData(T.CORIM_DOCUMENT, 1, 0, 0x100000)]));
  accepts(corimFile((ds) => [corimData(T.CORIM_DOCUMENT, 1, ds + 64, 0)]));
});

test('CoRIM: a second document for a mask bit → MultipleCorimDocuments', () => {
  rejects(corimFile(() => [corimData(T.CORIM_DOCUMENT, 1, 0, 0), corimData(T.CORIM_DOCUMENT, 3, 0, 0)]), 'corim-multiple-documents', 'InvalidBinaryInitializationHeader(MultipleCorimDocuments)');
  accepts(corimFile(() => [corimData(T.CORIM_DOCUMENT, 1, 0, 0), corimData(T.CORIM_DOCUMENT, 2, 0, 0)]));
});

test('CoRIM: signature before any document for its mask bit → MissingCorimDocument', () => {
  rejects(corimFile(() => [corimData(T.CORIM_SIGNATURE, 1, 0, 0), corimData(T.CORIM_DOCUMENT, 1, 0, 0)]), 'corim-missing-document', 'InvalidBinaryInitializationHeader(MissingCorimDocument)');
});

test('CoRIM: a second signature for a mask bit → MultipleCorimSignatures', () => {
  rejects(
    corimFile(() => [corimData(T.CORIM_DOCUMENT, 1, 0, 0), corimData(T.CORIM_SIGNATURE, 1, 0, 0), corimData(T.CORIM_SIGNATURE, 1, 0, 0)]),
    'corim-multiple-signatures', 'InvalidBinaryInitializationHeader(MultipleCorimSignatures)',
  );
});

// ================================================================== §6 directives

test('page data: passing file (page in the data section, zero page with file_offset 0)', () => {
  accepts(snpWithPage());
  accepts(file([SNP1, pageData(0x1000n, 1, 0)]));
});

test('page data: gpa not 4K aligned → UnalignedAddress', () => {
  rejects(snpWithPage((ds) => pageData(0x10n, 1, ds)), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
});

test('page data: data_type > 3 → InvalidPageDataType', () => {
  rejects(snpWithPage((ds) => pageData(0n, 1, ds, 0, 4)), 'invalid-page-data-type', 'InvalidBinaryDirectiveHeader(InvalidPageDataType)');
  for (const t of [0, 1, 2, 3]) accepts(snpWithPage((ds) => pageData(0n, 1, ds, 0, t)));
});

test('page data: reserved ≠ 0 → ReservedNotZero', () => {
  rejects(snpWithPage((ds) => pageData(0n, 1, ds, 0, 0, 1)), 'reserved-not-zero', 'InvalidBinaryDirectiveHeader(ReservedNotZero)');
});

test('page data: 4096 bytes not entirely inside the file data → InvalidDataSize', () => {
  const short = assembleWith({}, (ds) => ({ records: [SNP1, pageData(0n, 1, ds)], data: new Uint8Array(4095) }));
  rejects(short, 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(snpWithPage((ds) => pageData(0n, 1, ds + 1)), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  const exact = assembleWith({}, (ds) => ({ records: [SNP1, pageData(0n, 1, ds)], data: new Uint8Array(4096) }));
  accepts(exact);
});

test('page data: file_offset pointing below the data section (into the headers) → InvalidDataSize', () => {
  rejects(snpWithPage(() => pageData(0n, 1, 24)), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(snpWithPage(() => pageData(0n, 1, 1)), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
});

test('page data: check order is data extraction → reserved → gpa/type', () => {
  rejects(snpWithPage((ds) => pageData(0x10n, 1, ds + 1, 0, 9, 1)), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(snpWithPage((ds) => pageData(0x10n, 1, ds, 0, 9, 1)), 'reserved-not-zero', 'InvalidBinaryDirectiveHeader(ReservedNotZero)');
  rejects(snpWithPage((ds) => pageData(0x10n, 1, ds, 0, 9, 0)), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
});

test('accepted oddity: page flags are not validated (2MB bit, reserved bits)', () => {
  accepts(snpWithPage((ds) => pageData(0n, 1, ds, 0x1)));
  accepts(snpWithPage((ds) => pageData(0n, 1, ds, 0xfffffff8)));
  accepts(snpWithPage((ds) => pageData(0x1000n, 1, ds, 0x1))); // 2MB flag with a 4K-only aligned gpa
});

test('accepted oddity: mask-0 PAGE_DATA is silently dropped, but its per-record checks still run', () => {
  accepts(snpWithPage((ds) => pageData(0n, 0, ds)));
  rejects(snpWithPage((ds) => pageData(0x10n, 0, ds)), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
});

test('accepted oddity: header masks naming undeclared platforms (0x8) parse', () => {
  accepts(file([SNP1, guestPolicy(0n, 8), pageData(0n, 8, 0), requiredMemory(0x1000n, 8, 0x1000)]));
});

test('accepted oddity: data chunks may overlap / be shared and trailing data may be unreferenced', () => {
  accepts(assembleWith({}, (ds) => ({ records: [SNP1, pageData(0n, 1, ds), pageData(0x1000n, 1, ds + 8), pageData(0x2000n, 1, ds)], data: new Uint8Array(8192) })));
});

// ---- parameter area / parameters / insert

test('parameter area: number_of_bytes not 4K multiple → UnalignedSize', () => {
  rejects(file([SNP1, parameterArea(0x800n, 0)]), 'unaligned-size', 'InvalidBinaryDirectiveHeader(UnalignedSize)');
  accepts(file([SNP1, parameterArea(0x1000n, 0)]));
});

test('parameter area: initial data (number_of_bytes bytes) outside the data section → InvalidDataSize', () => {
  const mk = (n: bigint, size: number, off = 0) => assembleWith({}, (ds) => ({ records: [SNP1, parameterArea(n, 0, ds + off)], data: new Uint8Array(size) }));
  rejects(mk(0x2000n, 0x1000), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(mk(0x1000n, 0x1000, 1), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(mk(0xffffffffffff0000n, 0x1000), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(file([SNP1, parameterArea(0x1000n, 0, 24)], new Uint8Array(0x1000)), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  accepts(mk(0x1000n, 0x1000));
});

test('parameter area: data extraction comes before the size alignment check', () => {
  const bad = assembleWith({}, (ds) => ({ records: [SNP1, parameterArea(0x1800n, 0, ds)], data: new Uint8Array(0x1000) }));
  rejects(bad, 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
});

test('accepted oddity: zero-size parameter area with file_offset at the end of the file', () => {
  accepts(assembleWith({}, (ds) => ({ records: [SNP1, parameterArea(0n, 0, ds + 1)], data: ONE })));
});

test('parameter area: index declared twice → InvalidParameterAreaIndex', () => {
  rejects(file([SNP1, parameterArea(0x1000n, 5), parameterArea(0x1000n, 5)]), 'parameter-area-redeclared', 'InvalidParameterAreaIndex');
  accepts(file([SNP1, parameterArea(0x1000n, 5), parameterArea(0x1000n, 6)]));
});

test('parameters: every IGVM_VHS_PARAMETER type on an undeclared area → InvalidParameterAreaIndex', () => {
  for (const t of PARAMETER_RECORD_TYPES) {
    rejects(file([SNP1, parameter(t, 0)]), 'parameter-area-undeclared', 'InvalidParameterAreaIndex');
    rejects(file([SNP1, parameterArea(0x1000n, 1), parameter(t, 0)]), 'parameter-area-undeclared', 'InvalidParameterAreaIndex');
    accepts(file([SNP1, parameterArea(0x1000n, 0), parameter(t, 0), parameterInsert(0x10000n, 1, 0)]));
  }
});

test('parameters: use after the area was inserted → InvalidParameterAreaIndex', () => {
  rejects(file([SNP1, parameterArea(0x1000n, 0), parameterInsert(0x10000n, 1, 0), parameter(T.VP_COUNT_PARAMETER, 0)]), 'parameter-area-already-inserted', 'InvalidParameterAreaIndex');
});

test('accepted oddity: parameter byte_offset beyond the area size', () => {
  accepts(file([SNP1, parameterArea(0x1000n, 0), parameter(T.COMMAND_LINE, 0, 0xffffffff), parameterInsert(0x10000n, 1, 0)]));
});

test('parameter insert: gpa not 4K aligned → UnalignedAddress', () => {
  rejects(file([SNP1, parameterArea(0x1000n, 0), parameterInsert(0x10001n, 1, 0)]), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
});

test('parameter insert: undeclared or already-inserted area → InvalidParameterAreaIndex', () => {
  rejects(file([SNP1, parameterInsert(0x10000n, 1, 0)]), 'parameter-area-undeclared', 'InvalidParameterAreaIndex');
  rejects(file([SNP1, parameterArea(0x1000n, 0), parameterInsert(0x10000n, 1, 0), parameterInsert(0x20000n, 1, 0)]), 'parameter-area-already-inserted', 'InvalidParameterAreaIndex');
  accepts(file([SNP1, parameterArea(0x1000n, 0), parameterInsert(0x10000n, 1, 0)]));
});

test('accepted oddity: a mask-0 PARAMETER_INSERT is dropped before the index rules (area stays usable)', () => {
  accepts(file([SNP1, parameterArea(0x1000n, 0), parameterInsert(0x10000n, 0, 0), parameterInsert(0x20000n, 1, 0)]));
  accepts(file([SNP1, parameterArea(0x1000n, 0), parameterInsert(0x10000n, 0, 0), parameter(T.MEMORY_MAP, 0)]));
  accepts(file([SNP1, parameterInsert(0x10000n, 0, 7)])); // even an undeclared index
});

// ---- required memory, error range, ID block, VBS measurement

test('required memory: gpa unaligned → UnalignedAddress; number_of_bytes unaligned → UnalignedSize; reserved → ReservedNotZero', () => {
  rejects(file([SNP1, requiredMemory(0x800n, 1, 0x1000)]), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
  rejects(file([SNP1, requiredMemory(0x1000n, 1, 0x800)]), 'unaligned-size', 'InvalidBinaryDirectiveHeader(UnalignedSize)');
  rejects(file([SNP1, requiredMemory(0x1000n, 1, 0x1000, 0, 1)]), 'reserved-not-zero', 'InvalidBinaryDirectiveHeader(ReservedNotZero)');
  // reserved is checked at parse time, before the gpa/size validation
  rejects(file([SNP1, requiredMemory(0x800n, 1, 0x800, 0, 1)]), 'reserved-not-zero', 'InvalidBinaryDirectiveHeader(ReservedNotZero)');
  accepts(file([SNP1, requiredMemory(0x1000n, 1, 0x1000, 0xffffffff)])); // reserved flag bits ignored
});

test('error range: gpa not 4K aligned → UnalignedAddress', () => {
  rejects(file([SNP1, errorRange(0x10n, 1, 0x1000)]), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
  accepts(file([SNP1, errorRange(0x1000n, 1, 123)]));
});

test('accepted oddity: SNP ID block and VBS measurement contents are not validated', () => {
  accepts(file([SNP1, snpIdBlock(1, 0xff)]));
  accepts(file([VSM1, vbsMeasurement(1, 0xff)]));
});

// ================================================================== §7 VP context

test('VP context: mask matching no platform, several platforms, or mask 0 → InvalidVpContextPlatformType', () => {
  const NAT2 = platform({ mask: 2, type: PLAT.NATIVE });
  for (const mask of [2, 3, 0]) {
    const bad = assembleWith({}, (ds) => ({ records: [SNP1, ...(mask === 3 ? [NAT2] : []), vpContext(0n, mask, ds)], data: page() }));
    rejects(bad, 'vp-context-platform', 'InvalidBinaryDirectiveHeader(InvalidVpContextPlatformType)');
  }
});

test('VP context: TDX platform → InvalidVpContextPlatformType', () => {
  const bad = assembleWith({}, (ds) => ({ records: [platform({ mask: 1, type: PLAT.TDX }), vpContext(0n, 1, ds)], data: page() }));
  rejects(bad, 'vp-context-platform', 'InvalidBinaryDirectiveHeader(InvalidVpContextPlatformType)');
});

test('VP context: with duplicate platform masks the LAST platform with that mask decides the format', () => {
  // SNP then VSM with mask 1: the context is a VBS register list (36 bytes; a VMSA read would fail)
  accepts(vbsFile([], [], vbsRegisters([RIP]), {}, {}, [SNP1, VSM1]));
  const asVmsa = assembleWith({}, (ds) => ({ records: [VSM1, SNP1, vpContext(0n, 1, ds)], data: page() }));
  accepts(asVmsa);
  // reversed: VSM last → the VMSA page is parsed as a VBS list whose count is 0
  rejects(assembleWith({}, (ds) => ({ records: [SNP1, VSM1, vpContext(0n, 1, ds)], data: page() })), 'vbs-no-registers', 'InvalidBinaryDirectiveHeader(NoVbsVpContextRegisters)');
});

test('VP context (SNP/SEV-ES): 4096-byte VMSA must be inside the file data → InvalidDataSize', () => {
  for (const type of [PLAT.SNP, PLAT.SEV_ES]) {
    const p = platform({ mask: 1, type });
    rejects(assembleWith({}, (ds) => ({ records: [p, vpContext(0n, 1, ds)], data: new Uint8Array(4095) })), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
    rejects(assembleWith({}, () => ({ records: [p, vpContext(0n, 1, 0)], data: page() })), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
    accepts(assembleWith({}, (ds) => ({ records: [p, vpContext(0n, 1, ds)], data: page() })));
  }
});

test('VP context (SNP): gpa not 4K aligned → UnalignedAddress', () => {
  rejects(assembleWith({}, (ds) => ({ records: [SNP1, vpContext(0xfff0n, 1, ds)], data: page() })), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
  accepts(assembleWith({}, (ds) => ({ records: [SNP1, vpContext(0xfffff000n, 1, ds)], data: page() })));
});

test('accepted oddity: VMSA bytes after 0x670 non-zero are accepted at crate HEAD (warning only; ≤0.4.0 rejected them)', () => {
  const vmsa = page(0x700);
  const bytes = assembleWith({}, (ds) => ({ records: [SNP1, vpContext(0n, 1, ds)], data: vmsa }));
  accepts(bytes);
  assert.ok(readIgvm(bytes, false).problems.some((p) => p.severity === 'warning' && p.code === 'vmsa-tail-not-zero'));
});

test('VP context (NATIVE/SEV): bytes after the 232-byte context must be zero → InvalidContext', () => {
  for (const type of [PLAT.NATIVE, PLAT.SEV]) {
    const p = platform({ mask: 1, type });
    rejects(assembleWith({}, (ds) => ({ records: [p, vpContext(0n, 1, ds)], data: page(233) })), 'context-tail-not-zero', 'InvalidBinaryDirectiveHeader(InvalidContext)');
    rejects(assembleWith({}, (ds) => ({ records: [p, vpContext(0n, 1, ds)], data: new Uint8Array(4000) })), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
    accepts(assembleWith({}, (ds) => ({ records: [p, vpContext(0n, 1, ds)], data: page(232) })));
  }
});

test('VP context (CCA): bytes after the 80-byte context must be zero → InvalidContext', () => {
  rejects(assembleWith(V2ARM, (ds) => ({ records: [CCA1, vpContext(0n, 1, ds)], data: page(81) })), 'context-tail-not-zero', 'InvalidBinaryDirectiveHeader(InvalidContext)');
  accepts(assembleWith(V2ARM, (ds) => ({ records: [CCA1, vpContext(0n, 1, ds)], data: page(80) })));
});

test('VP context (VBS): passing x64 and AArch64 register lists', () => {
  accepts(vbsFile([], [], vbsRegisters([RIP, { name: HV.Rsp }, { name: HV.Cr3 }, { name: HV.Gdtr }])));
  accepts(vbsFile([], [], vbsRegisters([{ name: HV.ArmPc }, { name: HV.ArmX0 }]), {}, V2ARM));
});

test('VP context (VBS): register_count 0 → NoVbsVpContextRegisters', () => {
  rejects(vbsFile([], [], vbsRegisters([])), 'vbs-no-registers', 'InvalidBinaryDirectiveHeader(NoVbsVpContextRegisters)');
});

test('VP context (VBS): register vtl > 2 → InvalidVtl', () => {
  rejects(vbsFile([], [], vbsRegisters([{ ...RIP, vtl: 3 }])), 'invalid-vtl', 'InvalidBinaryDirectiveHeader(InvalidVtl)');
  accepts(vbsFile([], [], vbsRegisters([{ ...RIP, vtl: 2 }])));
});

test('VP context (VBS): register name not accepted → UnsupportedX64Register / UnsupportedAArch64Register', () => {
  rejects(vbsFile([], [], vbsRegisters([RIP, { name: HV.Rax }])), 'vbs-unsupported-register', 'InvalidBinaryDirectiveHeader(UnsupportedX64Register)');
  rejects(vbsFile([], [], vbsRegisters([{ name: HV.Rdi }])), 'vbs-unsupported-register', 'InvalidBinaryDirectiveHeader(UnsupportedX64Register)');
  rejects(vbsFile([], [], vbsRegisters([{ name: HV.ArmX8 }]), {}, V2ARM), 'vbs-unsupported-register', 'InvalidBinaryDirectiveHeader(UnsupportedAArch64Register)');
  // the register set follows the file architecture: Pc (0x20022) is not an x64 register
  rejects(vbsFile([], [], vbsRegisters([{ name: HV.ArmPc }])), 'vbs-unsupported-register', 'InvalidBinaryDirectiveHeader(UnsupportedX64Register)');
});

test('VP context (VBS): registers with different vtls → crate panic (assert_eq)', () => {
  rejects(vbsFile([], [], vbsRegisters([RIP, { name: HV.Rsp, vtl: 2 }])), 'vbs-mixed-vtl', 'panic');
});

test('VP context (VBS): vp_index ≠ 0 → crate panic (assert_eq)', () => {
  rejects(vbsFile([], [], vbsRegisters([RIP]), { vpIndex: 1 }), 'vbs-vp-index', 'panic');
});

test('VP context (VBS): file_offset past the file data or into the headers (or 0) → crate panic (slice index)', () => {
  rejects(vbsFile([], [], vbsRegisters([RIP]), { offset: (ds) => ds + 1000 }), 'vbs-context-out-of-range', 'panic');
  rejects(vbsFile([], [], vbsRegisters([RIP]), { offset: () => 0 }), 'vbs-context-out-of-range', 'panic');
  rejects(vbsFile([], [], vbsRegisters([RIP]), { offset: () => 24 }), 'vbs-context-out-of-range', 'panic');
});

test('VP context (VBS): register list truncated by the end of the file → InvalidDataSize', () => {
  const regs = vbsRegisters([RIP]);
  rejects(vbsFile([], [], regs.slice(0, 20)), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(vbsFile([], [], vbsRegisters([RIP], 2)), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  // file_offset exactly at the end of the file: slice is empty (no panic), the count read fails
  rejects(vbsFile([], [], regs, { offset: (ds) => ds + regs.length }), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
  rejects(vbsFile([], [], regs, { offset: (ds) => ds + regs.length - 2 }), 'data-out-of-range', 'InvalidBinaryDirectiveHeader(InvalidDataSize)');
});

test('VP context: native context in an AArch64 file is rejected (the NATIVE platform is x64-only)', () => {
  const bytes = assembleWith(V2ARM, (ds) => ({ records: [NAT1, vpContext(0n, 1, ds)], data: page(8) }));
  rejects(bytes, 'platform-arch-unsupported', 'PlatformArchUnsupported');
});

test('accepted oddity: any number of VP contexts, native context in a v1 file', () => {
  accepts(assembleWith({}, (ds) => ({ records: [NAT1, vpContext(0n, 1, ds, 0), vpContext(0n, 1, ds, 1), vpContext(0n, 1, ds, 7)], data: page(16) })));
});

// ================================================================== sanity of the raw assembler itself

test('raw assembler: dataStart matches the real layout and the CRC matches the parser', () => {
  const recs = [SNP1, vpContext(0n, 1, 0)];
  assert.equal(dataStart(recs), 24 + 24 + 32);
  assert.equal(dataStart(recs, 2, 3), 32 + 3 + 24 + 32);
  const bytes = file([SNP1]);
  accepts(patchU32(bytes, 20, new DataView(bytes.buffer).getUint32(20, true)));
  assert.equal(u32le(0x01020304)[0], 4);
});
