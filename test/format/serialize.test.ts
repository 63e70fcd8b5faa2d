// Serializer rules (FORMAT.md §10): the compact layout byte by byte, preserve mode on modified models, and errors.
// Output bytes are checked with local raw readers and an independent CRC-32, not with the library's own layouts.
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  IgvmBuilder,
  IgvmError,
  parseIgvm,
  serializeIgvm,
  encodeVmsa,
  encodeNativeContext,
  encodeCcaContext,
  encodeVbsContext,
  type DirectiveHeader,
  type IgvmFile,
  type InitializationHeader,
  type PageData,
  type SupportedPlatform,
  type VpContextData,
} from '../../src/index.js';
import { rng, assertSameBytes } from '../helpers.js';
import { crc32, expectedChecksum, walkRecords } from '../raw-igvm.js';

// ---- local byte helpers ------------------------------------------------------------------------

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u16 = (b: Uint8Array, o: number) => view(b).getUint16(o, true);
const u32 = (b: Uint8Array, o: number) => view(b).getUint32(o, true);
const u64 = (b: Uint8Array, o: number) => view(b).getBigUint64(o, true);
const align8 = (n: number) => Math.ceil(n / 8) * 8;

const fileDataStart = (bytes: Uint8Array) => u32(bytes, 8) + u32(bytes, 12);

/** Body offsets of file_offset per record type (FORMAT.md Appendix A). */
const FILE_OFFSET_AT: Record<number, number> = { 0x104: 4, 0x105: 4, 0x301: 0xc, 0x302: 0xc, 0x304: 0xc };
function fileOffsets(bytes: Uint8Array): number[] {
  return walkRecords(bytes).flatMap((t) => (FILE_OFFSET_AT[t.type] === undefined ? [] : [u32(bytes, t.body + FILE_OFFSET_AT[t.type]!)]));
}

/** Minimal raw writer: fixed header, optional gap, TLVs (zero padded), data; correct size and checksum. */
function rawFile(o: { version: 1 | 2; gap?: Uint8Array; records: { type: number; body: Uint8Array }[]; data: Uint8Array }): Uint8Array {
  const fixed = o.version === 1 ? 24 : 32;
  const gap = o.gap ?? new Uint8Array(0);
  const vhs = o.records.reduce((n, r) => n + 8 + align8(r.body.length), 0);
  const out = new Uint8Array(fixed + gap.length + vhs + o.data.length);
  const d = view(out);
  d.setUint32(0, 0x4d564749, true);
  d.setUint32(4, o.version, true);
  d.setUint32(8, fixed + gap.length, true);
  d.setUint32(12, vhs, true);
  d.setUint32(16, out.length, true);
  if (o.version === 2) d.setUint32(0x1c, 0x1000, true);
  out.set(gap, fixed);
  let off = fixed + gap.length;
  for (const r of o.records) {
    d.setUint32(off, r.type, true);
    d.setUint32(off + 4, r.body.length, true);
    out.set(r.body, off + 8);
    off += 8 + align8(r.body.length);
  }
  out.set(o.data, off);
  d.setUint32(0x14, expectedChecksum(out), true);
  return out;
}

function body(size: number, fields: [number, 1 | 2 | 4 | 8, number | bigint][]): Uint8Array {
  const b = new Uint8Array(size);
  const d = view(b);
  for (const [o, w, v] of fields) {
    if (w === 1) d.setUint8(o, Number(v));
    else if (w === 2) d.setUint16(o, Number(v), true);
    else if (w === 4) d.setUint32(o, Number(v), true);
    else d.setBigUint64(o, BigInt(v), true);
  }
  return b;
}

const next = rng(0x5e71a1);
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 255) + 1); // never all zero

// ---- hand-made models ----------------------------------------------------------------------------

function platform(type: number, mask: number, highest_vtl = 0): SupportedPlatform {
  return { type: 'SUPPORTED_PLATFORM', compatibility_mask: mask, highest_vtl, platform_type: type, platform_version: 1, shared_gpa_boundary: 0n };
}
function model(platforms: SupportedPlatform[], initializations: InitializationHeader[], directives: DirectiveHeader[], version: 1 | 2 = 1, architecture = 0): IgvmFile {
  return { revision: { format_version: version, architecture, page_size: 0x1000 }, platforms, initializations, directives };
}
function page(gpa: bigint, mask: number, data: Uint8Array | undefined, extra: Partial<PageData> = {}): PageData {
  return { type: 'PAGE_DATA', gpa, compatibility_mask: mask, file_offset: 0, flags: 0, data_type: 0, reserved: 0, data, ...extra };
}
function vp(gpa: bigint, mask: number, vp_index: number, context: VpContextData, reserved = 0): DirectiveHeader {
  return { type: 'VP_CONTEXT', gpa, compatibility_mask: mask, file_offset: 0, vp_index, reserved, context };
}
function vbsContext(vtl: number, regs: number[]): VpContextData {
  const values = regs.map(() => randomBytes(16));
  return {
    kind: 'vbs', vtl,
    data: encodeVbsContext(regs.map((register_name, i) => ({ vtl, register_name, value: values[i]! }))),
    registers: regs.map((register_name, i) => ({ vtl, register_name, name: undefined, mbz: new Uint8Array(11), register_value: values[i]! })),
  };
}
const SNP = 2, NATIVE = 0, VSM = 1, CCA = 6;

// ---- compact layout --------------------------------------------------------------------------------

test('compact: variable_header_offset is 24 for v1 and 32 for v2; fixed header fields', () => {
  for (const [version, vho] of [[1, 24], [2, 32]] as const) {
    const b = new IgvmBuilder({ formatVersion: version });
    const m = b.platform('SEV_SNP');
    b.pageData(0n, m, randomBytes(4096));
    const bytes = b.toBytes();
    assert.equal(u32(bytes, 0), 0x4d564749, 'magic');
    assert.equal(u32(bytes, 4), version, 'format_version');
    assert.equal(u32(bytes, 8), vho, 'variable_header_offset');
    assert.equal(u32(bytes, 12), (8 + 16) + (8 + 24), 'variable_header_size');
    assert.equal(u32(bytes, 16), bytes.length, 'total_file_size');
    assert.equal(bytes.length, vho + 56 + 4096);
    if (version === 2) {
      assert.equal(u32(bytes, 0x18), 0, 'architecture');
      assert.equal(u32(bytes, 0x1c), 0x1000, 'page_size');
    }
  }
});

test('compact: data chunks follow first-reference order, initialization headers first, with no padding between chunks', () => {
  const doc = randomBytes(5);
  const sig = randomBytes(3);
  const area = randomBytes(10);
  const a = randomBytes(4096);
  const bPage = randomBytes(4096);
  const vmsa = encodeVmsa({ rip: 0x1234n });
  // Directives are added to the builder before the initialization headers: the data order still follows the file order.
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.parameterArea(0, 0x1000n, area);
  b.pageData(0x1000n, m, a);
  b.vmsa(0x3000n, m, 0, vmsa);
  b.pageData(0x2000n, m, bPage);
  b.initialization({ type: 'CORIM_DOCUMENT', compatibility_mask: m, file_offset: 0, size_bytes: doc.length, reserved: 0, data: doc });
  b.initialization({ type: 'CORIM_SIGNATURE', compatibility_mask: m, file_offset: 0, size_bytes: sig.length, reserved: 0, data: sig });
  const bytes = b.toBytes();
  const fds = fileDataStart(bytes);
  assert.deepEqual(walkRecords(bytes).map((t) => t.type), [0x001, 0x104, 0x105, 0x301, 0x302, 0x304, 0x302]);
  const expectedOffsets = [fds, fds + 5, fds + 8, fds + 8 + 0x1000, fds + 8 + 0x2000, fds + 8 + 0x3000];
  assert.deepEqual(fileOffsets(bytes), expectedOffsets);
  assert.equal(bytes.length, fds + 8 + 0x4000);
  assert.deepEqual(bytes.subarray(fds, fds + 5), doc);
  assert.deepEqual(bytes.subarray(fds + 5, fds + 8), sig);
  assert.deepEqual(bytes.subarray(fds + 8, fds + 18), area);
  assert.deepEqual(bytes.subarray(fds + 8 + 0x1000, fds + 8 + 0x2000), a);
  assert.deepEqual(bytes.subarray(fds + 8 + 0x2000, fds + 8 + 0x3000), vmsa);
  assert.deepEqual(bytes.subarray(fds + 8 + 0x3000), bPage);
  // CoRIM size_bytes is the data length.
  const [, docRec, sigRec] = walkRecords(bytes);
  assert.equal(u32(bytes, docRec!.body + 8), 5);
  assert.equal(u32(bytes, sigRec!.body + 8), 3);
});

test('compact: identical chunks are stored once and the file shrinks by one chunk per duplicate', () => {
  const x = randomBytes(4096);
  const y = randomBytes(4096);
  const build = (second: Uint8Array, third: Uint8Array) => {
    const b = new IgvmBuilder();
    const m = b.platform('SEV_SNP');
    b.pageData(0x0n, m, x).pageData(0x1000n, m, second).pageData(0x2000n, m, third);
    return b.toBytes();
  };
  const distinct = build(y, randomBytes(4096));
  const oneDup = build(x, randomBytes(4096));
  const twoDup = build(x, x.slice()); // equal bytes in a different array
  assert.equal(distinct.length - oneDup.length, 4096);
  assert.equal(distinct.length - twoDup.length, 8192);
  const [o0, o1, o2] = fileOffsets(twoDup);
  assert.equal(o0, fileDataStart(twoDup));
  assert.equal(o1, o0);
  assert.equal(o2, o0);
  const [p0, p1, p2] = fileOffsets(oneDup);
  assert.equal(p1, p0);
  assert.equal(p2, p0! + 4096);
  assert.equal(new Set(fileOffsets(distinct)).size, 3);
  // The deduplicated file still parses with the right data per page.
  const f = parseIgvm(twoDup);
  for (const d of f.directives) assert.deepEqual(d.type === 'PAGE_DATA' ? d.data : undefined, x);
});

test('compact: deduplication compares padded chunks, across header types, and only whole chunks', () => {
  const short = randomBytes(100);
  const full = new Uint8Array(4096);
  full.set(short);
  const vmsa = encodeVmsa({ rip: 0xabcdn, rsp: 0x10n });
  const areaHead = randomBytes(4096);
  const areaData = new Uint8Array(0x2000);
  areaData.set(areaHead);
  areaData.fill(7, 0x1000);
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x0n, m, short); // padded to 4096 → chunk A
  b.pageData(0x1000n, m, full); // equal to padded A → shared
  b.vmsa(0x2000n, m, 0, vmsa); // chunk B
  b.pageData(0x3000n, m, vmsa.slice()); // equal to the VMSA page → shared across header types
  b.parameterArea(0, 0x2000n, areaData); // chunk C (8 KiB)
  b.pageData(0x4000n, m, areaHead); // equals only the first half of C → its own chunk D
  const bytes = b.toBytes();
  const fds = fileDataStart(bytes);
  assert.deepEqual(fileOffsets(bytes), [fds, fds, fds + 0x1000, fds + 0x1000, fds + 0x2000, fds + 0x4000]);
  assert.equal(bytes.length, fds + 0x5000);
});

test('compact: PAGE_DATA shorter than 4096 is zero-padded; no data → file_offset 0', () => {
  const short = randomBytes(100);
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x0n, m, undefined);
  b.pageData(0x1000n, m, short);
  b.pageData(0x2000n, m, new Uint8Array(0));
  const bytes = b.toBytes();
  const fds = fileDataStart(bytes);
  assert.deepEqual(fileOffsets(bytes), [0, fds, 0]);
  assert.equal(bytes.length, fds + 4096);
  assert.deepEqual(bytes.subarray(fds, fds + 100), short);
  assert.ok(bytes.subarray(fds + 100).every((x) => x === 0), 'padding is zero');
  // Hand-made model (no builder): same rule.
  const direct = serializeIgvm(model([platform(SNP, 1)], [], [page(0x0n, 1, short), page(0x1000n, 1, undefined)]));
  assert.deepEqual(fileOffsets(direct), [fileDataStart(direct), 0]);
  assert.equal(direct.length, fileDataStart(direct) + 4096);
});

test('compact: parameter area data is padded to number_of_bytes; no data → file_offset 0', () => {
  const data = randomBytes(10);
  const bytes = serializeIgvm(model([platform(SNP, 1)], [], [
    { type: 'PARAMETER_AREA', number_of_bytes: 0x3000n, parameter_area_index: 0, file_offset: 0, data },
    { type: 'PARAMETER_AREA', number_of_bytes: 0x1000n, parameter_area_index: 1, file_offset: 0, data: undefined },
    page(0x0n, 1, randomBytes(4096)),
  ]));
  const fds = fileDataStart(bytes);
  assert.deepEqual(fileOffsets(bytes), [fds, 0, fds + 0x3000]);
  assert.equal(bytes.length, fds + 0x4000);
  assert.deepEqual(bytes.subarray(fds, fds + 10), data);
  assert.ok(bytes.subarray(fds + 10, fds + 0x3000).every((x) => x === 0));
  const f = parseIgvm(bytes);
  const area = f.directives[0]!;
  assert.ok(area.type === 'PARAMETER_AREA' && area.data?.length === 0x3000);
});

test('compact: a VBS context is stored unpadded (4 + 32·n bytes); other contexts take a 4096-byte page, even all-zero', () => {
  const ctx = vbsContext(0, [0x20010, 0x20004]);
  const after = randomBytes(4096);
  const bytes = serializeIgvm(model([platform(VSM, 1)], [], [vp(0n, 1, 0, ctx), page(0x0n, 1, after)]));
  const fds = fileDataStart(bytes);
  assert.deepEqual(fileOffsets(bytes), [fds, fds + 68]);
  assert.equal(bytes.length, fds + 68 + 4096);
  assert.deepEqual(bytes.subarray(fds, fds + 68), ctx.data);
  assert.equal(u32(bytes, fds), 2, 'register_count');

  // An all-zero VMSA still gets a chunk (the crate always writes the page).
  const zeroVmsa = serializeIgvm(model([platform(SNP, 1)], [], [vp(0x1000n, 1, 0, { kind: 'vmsa', data: new Uint8Array(4096) })]));
  assert.deepEqual(fileOffsets(zeroVmsa), [fileDataStart(zeroVmsa)]);
  assert.equal(zeroVmsa.length, fileDataStart(zeroVmsa) + 4096);
  // A native context shorter than a page is padded to 4096.
  const nat = encodeNativeContext({ rip: 0x1000n }).slice(0, 232);
  const native = serializeIgvm(model([platform(NATIVE, 1)], [], [vp(0n, 1, 0, { kind: 'native-x64', data: nat })]));
  assert.equal(native.length, fileDataStart(native) + 4096);
  parseIgvm(native);
});

test('compact: VP_CONTEXT gpa is written 0 except for VMSA contexts; VBS contexts get vp_index 0; reserved is 0', () => {
  const f = model(
    [platform(SNP, 1), platform(NATIVE, 2), platform(VSM, 4)],
    [],
    [
      vp(0x8000n, 1, 3, { kind: 'vmsa', data: encodeVmsa({ rip: 1n }) }, 0x1234),
      vp(0x7000n, 2, 2, { kind: 'native-x64', data: encodeNativeContext({ rip: 2n }) }, 0x5678),
      vp(0x9000n, 4, 5, vbsContext(0, [0x20010]), 0xffff),
    ],
  );
  const bytes = serializeIgvm(f);
  const ctxs = walkRecords(bytes).filter((t) => t.type === 0x304);
  assert.equal(ctxs.length, 3);
  const [snp, native, vbs] = ctxs;
  assert.equal(u64(bytes, snp!.body), 0x8000n, 'VMSA gpa kept');
  assert.equal(u16(bytes, snp!.body + 0x10), 3, 'VMSA vp_index kept');
  assert.equal(u64(bytes, native!.body), 0n, 'native gpa written 0');
  assert.equal(u16(bytes, native!.body + 0x10), 2, 'native vp_index kept');
  assert.equal(u64(bytes, vbs!.body), 0n, 'VBS gpa written 0');
  assert.equal(u16(bytes, vbs!.body + 0x10), 0, 'VBS vp_index written 0');
  for (const t of ctxs) {
    assert.equal(t.length, 20);
    assert.equal(u16(bytes, t.body + 0x12), 0, 'reserved');
    assert.equal(u32(bytes, t.body + 20), 0, 'record padding');
  }
  parseIgvm(bytes);
});

test('compact: REQUIRED_MEMORY flags keep only bit 0, RELOCATABLE_REGION flags bits 0-2, reserved fields are zeroed', () => {
  const data = randomBytes(4096);
  const doc = randomBytes(9);
  const f = model(
    [platform(VSM, 1, 2), platform(SNP, 2)],
    [
      { type: 'GUEST_POLICY', policy: 0x30000n, compatibility_mask: 2, reserved: 0xdead },
      {
        type: 'RELOCATABLE_REGION', compatibility_mask: 1, vp_index: 0, vtl: 0, flags: 0xff, relocation_alignment: 0x1000n,
        relocation_region_gpa: 0x100000n, relocation_region_size: 0x2000n, minimum_relocation_gpa: 0n, maximum_relocation_gpa: 0x10000000n,
      },
      { type: 'PAGE_TABLE_RELOCATION_REGION', compatibility_mask: 1, vp_index: 0, vtl: 0, reserved: 0x5a, gpa: 0x200000n, size: 0x4000n, used_size: 0x1000n },
      { type: 'CORIM_DOCUMENT', compatibility_mask: 2, file_offset: 0, size_bytes: 9, reserved: 0x77, data: doc },
    ],
    [
      page(0x0n, 3, data, { reserved: 0x55 }),
      { type: 'REQUIRED_MEMORY', gpa: 0x400000n, compatibility_mask: 1, number_of_bytes: 0x1000, flags: 0xffffffff, reserved: 9 },
      { type: 'REQUIRED_MEMORY', gpa: 0x500000n, compatibility_mask: 2, number_of_bytes: 0x1000, flags: 0xfffffffe, reserved: 0 },
      vp(0n, 1, 0, vbsContext(0, [0x20010])),
    ],
  );
  const bytes = serializeIgvm(f);
  const recs = walkRecords(bytes);
  const of = (type: number) => recs.filter((t) => t.type === type);
  assert.equal(u32(bytes, of(0x101)[0]!.body + 0xc), 0, 'GUEST_POLICY.reserved');
  assert.equal(bytes[of(0x102)[0]!.body + 7], 0x7, 'RELOCATABLE_REGION.flags');
  assert.equal(bytes[of(0x103)[0]!.body + 7], 0, 'PAGE_TABLE_RELOCATION.reserved');
  assert.equal(u32(bytes, of(0x104)[0]!.body + 0xc), 0, 'CORIM_DATA.reserved');
  assert.equal(u16(bytes, of(0x302)[0]!.body + 0x16), 0, 'PAGE_DATA.reserved');
  const [rm1, rm2] = of(0x305);
  assert.equal(u32(bytes, rm1!.body + 0x10), 1, 'REQUIRED_MEMORY.flags keeps bit 0');
  assert.equal(u32(bytes, rm1!.body + 0x14), 0, 'REQUIRED_MEMORY.reserved');
  assert.equal(u32(bytes, rm2!.body + 0x10), 0, 'REQUIRED_MEMORY.flags without bit 0');
  // The crate would reject any non-zero reserved field: the output parses.
  const back = parseIgvm(bytes);
  assert.equal(back.initializations.length, 4);
  // The model given to the serializer is not modified.
  assert.equal((f.directives[1] as { flags: number }).flags, 0xffffffff);
  assert.equal((f.initializations[0] as { reserved: number }).reserved, 0xdead);
});

test('compact: CCA_POLICY reserved and reserved2 are zeroed (AArch64 v2)', () => {
  const f = model(
    [platform(CCA, 1)],
    [{ type: 'CCA_POLICY', compatibility_mask: 1, reserved: 3, attributes_required_zeroes: 2n, attributes_required_ones: 1n, hash_algorithm: 1, lfa_policy: 1, reserved2: new Uint8Array([1, 2, 3, 4, 5, 6]) }],
    [vp(0n, 1, 0, { kind: 'cca', data: encodeCcaContext({ pc: 0x1000n }) })],
    2,
    1,
  );
  const bytes = serializeIgvm(f);
  const pol = walkRecords(bytes).find((t) => t.type === 0x106)!;
  assert.equal(u32(bytes, pol.body + 4), 0);
  assert.deepEqual(Array.from(bytes.subarray(pol.body + 0x1a, pol.body + 0x20)), [0, 0, 0, 0, 0, 0]);
  assert.equal(bytes[pol.body + 0x18], 1, 'hash_algorithm kept');
  assert.equal(bytes[pol.body + 0x19], 1, 'lfa_policy kept');
  parseIgvm(bytes);
});

test('compact: headers with compatibility_mask 0 are dropped (with their data); maskless headers are kept', () => {
  const keep = randomBytes(4096);
  const dropped = randomBytes(4096);
  const base = (extra: DirectiveHeader[]) =>
    model(
      [platform(SNP, 1)],
      [],
      [
        { type: 'PARAMETER_AREA', number_of_bytes: 0x1000n, parameter_area_index: 0, file_offset: 0, data: undefined },
        { type: 'VP_COUNT_PARAMETER', parameter_area_index: 0, byte_offset: 0 },
        ...extra,
        page(0x0n, 1, keep),
        { type: 'PARAMETER_INSERT', gpa: 0x10000n, compatibility_mask: 1, parameter_area_index: 0 },
      ],
    );
  const withZero = base([page(0x1000n, 0, dropped), { type: 'REQUIRED_MEMORY', gpa: 0n, compatibility_mask: 0, number_of_bytes: 0x1000, flags: 0, reserved: 0 }]);
  const withZeroInit = { ...withZero, initializations: [{ type: 'GUEST_POLICY', policy: 1n, compatibility_mask: 0, reserved: 0 } as InitializationHeader] };
  const out = serializeIgvm(withZeroInit);
  const plain = serializeIgvm(base([]));
  assertSameBytes(out, plain, 'mask-0 headers dropped');
  assert.deepEqual(walkRecords(out).map((t) => t.type), [0x001, 0x301, 0x307, 0x302, 0x303]);
  // Preserve mode keeps them (it writes the model as it is).
  const kept = serializeIgvm(withZeroInit, { mode: 'preserve' });
  assert.deepEqual(walkRecords(kept).map((t) => t.type), [0x001, 0x101, 0x301, 0x307, 0x302, 0x305, 0x302, 0x303]);
});

test('compact: a file without any data still gets one byte of file data and parses', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x0n, m);
  b.parameterArea(0, 0x1000n);
  b.parameter('VP_COUNT_PARAMETER', 0);
  b.parameterInsert(0x1000n, m, 0);
  const bytes = b.toBytes();
  assert.equal(bytes.length, fileDataStart(bytes) + 1);
  assert.equal(bytes[bytes.length - 1], 0);
  const f = parseIgvm(bytes);
  assertSameBytes(serializeIgvm(f), bytes, 'compact of the parsed file');
  assertSameBytes(serializeIgvm(f, { mode: 'preserve' }), bytes, 'preserve of the parsed file');
  // Platform only.
  const only = serializeIgvm(model([platform(SNP, 1)], [], []));
  assert.equal(only.length, 24 + 24 + 1);
  parseIgvm(only);
});

test('compact: the checksum is CRC-32 over the fixed header (checksum zeroed) and the variable headers only', () => {
  assert.equal(crc32([new TextEncoder().encode('123456789')]), 0xcbf43926, 'local CRC-32 check value');
  for (const version of [1, 2] as const) {
    const b = new IgvmBuilder({ formatVersion: version });
    const m = b.platform('SEV_SNP');
    b.guestPolicy(0x30000n, m).pageData(0x0n, m, randomBytes(4096)).vmsa(0x1000n, m, 0, { rip: 5n });
    const bytes = b.toBytes();
    assert.equal(u32(bytes, 0x14), expectedChecksum(bytes), `v${version} checksum`);
    // The data section is not covered: changing it keeps the checksum valid.
    const patched = bytes.slice();
    patched[patched.length - 1]! ^= 0xff;
    parseIgvm(patched);
    // A header byte is covered.
    const broken = bytes.slice();
    broken[u32(bytes, 8) + 8 + 8]! ^= 1; // SNP platform shared_gpa_boundary: a value the parser accepts, so only the CRC catches it
    assert.throws(() => parseIgvm(broken), (e: unknown) => e instanceof IgvmError && e.code === 'bad-checksum');
  }
});

// ---- preserve mode -----------------------------------------------------------------------------

function threePageFile(): { bytes: Uint8Array; pages: Uint8Array[] } {
  const pages = [randomBytes(4096), randomBytes(4096), randomBytes(4096)];
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  pages.forEach((p, i) => b.pageData(BigInt(i * 0x1000), m, p));
  b.vmsa(0x10000n, m, 0, { rip: 0x1000n });
  return { bytes: b.toBytes(), pages };
}

test('preserve: changing one page appends its data and leaves the rest of the file unchanged', () => {
  const { bytes, pages } = threePageFile();
  const f = parseIgvm(bytes);
  const changed = f.directives[1] as PageData;
  const fresh = randomBytes(4096);
  changed.data = fresh;
  const out = serializeIgvm(f, { mode: 'preserve' });
  const back = parseIgvm(out);
  const fds = fileDataStart(bytes);
  assert.equal(fileDataStart(out), fds, 'same headers, same data start');
  assert.equal(out.length, bytes.length + 4096);
  // The new data is at the old end of the file; the old data section is untouched (the old page stays, unreferenced).
  const offsetsBefore = fileOffsets(bytes);
  const offsetsAfter = fileOffsets(out);
  assert.deepEqual(offsetsAfter, [offsetsBefore[0], bytes.length, offsetsBefore[2], offsetsBefore[3]]);
  assertSameBytes(out.subarray(fds, bytes.length), bytes.subarray(fds), 'old data section');
  assertSameBytes(out.subarray(bytes.length), fresh, 'appended data');
  // Headers: only the changed page's file_offset (and size/checksum in the fixed header) differ.
  const expectedHeaders = bytes.slice(0, fds);
  const rec = walkRecords(bytes).filter((t) => t.type === 0x302)[1]!;
  view(expectedHeaders).setUint32(rec.body + 0xc, bytes.length, true);
  view(expectedHeaders).setUint32(0x10, out.length, true);
  view(expectedHeaders).setUint32(0x14, u32(out, 0x14), true);
  assertSameBytes(out.subarray(0, fds), expectedHeaders, 'headers');
  assert.equal(u32(out, 0x14), expectedChecksum(out), 'checksum');
  // Decoded data.
  const dataOf = (i: number) => (back.directives[i] as PageData).data;
  assert.deepEqual(dataOf(0), pages[0]);
  assert.deepEqual(dataOf(1), fresh);
  assert.deepEqual(dataOf(2), pages[2]);
});

test('preserve: changed page data shorter than a page is appended zero-padded', () => {
  const { bytes } = threePageFile();
  const f = parseIgvm(bytes);
  const short = randomBytes(17);
  (f.directives[0] as PageData).data = short;
  const out = serializeIgvm(f, { mode: 'preserve' });
  assert.equal(out.length, bytes.length + 4096);
  const back = parseIgvm(out).directives[0] as PageData;
  assert.equal(back.file_offset, bytes.length);
  const want = new Uint8Array(4096);
  want.set(short);
  assert.deepEqual(back.data, want);
});

test('preserve: an added header is written, parses, and the existing data moves with the header section', () => {
  const { bytes, pages } = threePageFile();
  const f = parseIgvm(bytes);
  const extra = randomBytes(4096);
  f.directives.splice(2, 0, page(0x20000n, 1, extra));
  f.directives.push({ type: 'REQUIRED_MEMORY', gpa: 0x40000n, compatibility_mask: 1, number_of_bytes: 0x2000, flags: 1, reserved: 0 });
  const out = serializeIgvm(f, { mode: 'preserve' });
  const back = parseIgvm(out);
  assert.deepEqual(back.directives.map((d) => d.type), ['PAGE_DATA', 'PAGE_DATA', 'PAGE_DATA', 'PAGE_DATA', 'VP_CONTEXT', 'REQUIRED_MEMORY']);
  const oldFds = fileDataStart(bytes);
  const newFds = fileDataStart(out);
  assert.equal(newFds, oldFds + (8 + 24) + (8 + 24));
  assertSameBytes(out.subarray(newFds, newFds + (bytes.length - oldFds)), bytes.subarray(oldFds), 'old data section, moved');
  assert.equal(out.length, bytes.length + 64 + 4096);
  const pd = back.directives.filter((d): d is PageData => d.type === 'PAGE_DATA');
  assert.deepEqual(pd.map((p) => p.data), [pages[0], pages[1], extra, pages[2]]);
  assert.equal(pd[2]!.gpa, 0x20000n);
  const rm = back.directives[5]!;
  assert.ok(rm.type === 'REQUIRED_MEMORY' && rm.number_of_bytes === 0x2000 && rm.gpa === 0x40000n);
  const ctx = back.directives[4]!;
  assert.ok(ctx.type === 'VP_CONTEXT' && ctx.context.kind === 'vmsa');
  assert.deepEqual(ctx.context.data, encodeVmsa({ rip: 0x1000n }));
});

test('preserve: changed CoRIM data is appended and size_bytes follows the new length', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  const doc = randomBytes(37);
  b.initialization({ type: 'CORIM_DOCUMENT', compatibility_mask: m, file_offset: 0, size_bytes: doc.length, reserved: 0, data: doc });
  b.pageData(0x0n, m, randomBytes(4096));
  const bytes = b.toBytes();
  const f = parseIgvm(bytes);
  const fresh = randomBytes(50);
  const corim = f.initializations[0]!;
  assert.ok(corim.type === 'CORIM_DOCUMENT');
  corim.data = fresh;
  const out = serializeIgvm(f, { mode: 'preserve' });
  const back = parseIgvm(out).initializations[0]!;
  assert.ok(back.type === 'CORIM_DOCUMENT');
  assert.equal(back.file_offset, bytes.length, 'appended at the end');
  assert.equal(back.size_bytes, 50, 'size_bytes');
  assert.deepEqual(back.data, fresh);
  assertSameBytes(out.subarray(0, bytes.length).subarray(fileDataStart(bytes)), bytes.subarray(fileDataStart(bytes)), 'old data');
});

test('preserve: a parsed v1 model switched to format version 2 still gives a valid file', () => {
  const { bytes, pages } = threePageFile();
  const f = parseIgvm(bytes);
  f.revision = { format_version: 2, architecture: 0, page_size: 0x1000 };
  const out = serializeIgvm(f, { mode: 'preserve' });
  assert.equal(u32(out, 4), 2);
  assert.ok(u32(out, 8) >= 32, `variable_header_offset ${u32(out, 8)} overlaps the 32-byte v2 fixed header`);
  assert.equal(u32(out, 0x1c), 0x1000, 'page_size');
  const back = parseIgvm(out);
  assert.deepEqual(back.directives.filter((d): d is PageData => d.type === 'PAGE_DATA').map((p) => p.data), pages);
});

function gapFile(): { bytes: Uint8Array; gap: Uint8Array; data: Uint8Array } {
  // v2 file, TLVs at offset 40 after 8 garbage bytes (the crate does not check variable_header_offset).
  const gap = new Uint8Array([0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77]);
  const data = randomBytes(4096);
  const records = [
    { type: 0x001, body: body(16, [[0, 4, 1], [5, 1, SNP], [6, 2, 1]]) },
    { type: 0x302, body: new Uint8Array(24) },
  ];
  const fds = 32 + gap.length + (8 + 16) + (8 + 24);
  records[1]!.body = body(24, [[0, 8, 0x1000n], [8, 4, 1], [0xc, 4, fds]]);
  return { bytes: rawFile({ version: 2, gap, records, data }), gap, data };
}

test('preserve: gap bytes before the variable headers are kept (v2, variable_header_offset 40)', () => {
  const { bytes, gap, data } = gapFile();
  assert.equal(u32(bytes, 8), 40);
  const f = parseIgvm(bytes);
  assertSameBytes(serializeIgvm(f, { mode: 'preserve' }), bytes, 'unmodified preserve');
  // Modified: add a header; the gap and the offset stay.
  f.directives.push({ type: 'REQUIRED_MEMORY', gpa: 0x8000n, compatibility_mask: 1, number_of_bytes: 0x1000, flags: 0, reserved: 0 });
  const out = serializeIgvm(f, { mode: 'preserve' });
  assert.equal(u32(out, 8), 40);
  assert.deepEqual(out.subarray(32, 40), gap);
  assert.equal(u32(out, 0x14), expectedChecksum(out));
  const back = parseIgvm(out);
  assert.equal(back.directives.length, 2);
  assert.deepEqual((back.directives[0] as PageData).data, data);
  // Compact drops the gap.
  const compact = serializeIgvm(parseIgvm(bytes), { mode: 'compact' });
  assert.equal(u32(compact, 8), 32);
  assert.equal(compact.length, bytes.length - 8);
  const expectedHeaders = bytes.slice(40, 40 + u32(bytes, 12));
  const pageBody = 8 + 16 + 8; // PAGE_DATA body within the TLV section
  view(expectedHeaders).setUint32(pageBody + 0xc, u32(expectedHeaders, pageBody + 0xc) - 8, true);
  assertSameBytes(compact.subarray(32, 32 + u32(compact, 12)), expectedHeaders, 'compact headers (file_offset moved back by the gap)');
  assertSameBytes(compact.subarray(fileDataStart(compact)), bytes.subarray(fileDataStart(bytes)), 'compact data');
  assert.deepEqual((parseIgvm(compact).directives[0] as PageData).data, data);
});

// ---- errors ----------------------------------------------------------------------------------------

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IgvmError, `expected IgvmError, got ${String(e)}`);
    assert.equal(e.code, code);
    return true;
  });
}

test('errors: data larger than its slot → IgvmError data-too-large', () => {
  throwsCode(() => serializeIgvm(model([platform(SNP, 1)], [], [page(0x0n, 1, new Uint8Array(4097))])), 'data-too-large');
  throwsCode(() => serializeIgvm(model([platform(SNP, 1)], [], [page(0x0n, 1, new Uint8Array(8192))]), { mode: 'preserve' }), 'data-too-large');
  throwsCode(() => serializeIgvm(model([platform(SNP, 1)], [], [{ type: 'PARAMETER_AREA', number_of_bytes: 0x1000n, parameter_area_index: 0, file_offset: 0, data: new Uint8Array(0x1001) }])), 'data-too-large');
  throwsCode(() => serializeIgvm(model([platform(SNP, 1)], [], [vp(0n, 1, 0, { kind: 'vmsa', data: new Uint8Array(4100) })])), 'data-too-large');
  // Exactly 4096 is fine.
  parseIgvm(serializeIgvm(model([platform(SNP, 1)], [], [page(0x0n, 1, new Uint8Array(4096).fill(1))])));
  // Changing a parsed page to oversized data fails in preserve mode too.
  const f = parseIgvm(threePageFile().bytes);
  (f.directives[0] as PageData).data = new Uint8Array(5000);
  throwsCode(() => serializeIgvm(f, { mode: 'preserve' }), 'data-too-large');
});
