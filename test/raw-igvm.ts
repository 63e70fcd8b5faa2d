// Independent raw IGVM assembler for tests: builds files byte by byte from FORMAT.md §2–§8
// (does not use the project's serializer or spec layouts, so it can catch their mistakes).

export const T = {
  SUPPORTED_PLATFORM: 0x001,
  GUEST_POLICY: 0x101,
  RELOCATABLE_REGION: 0x102,
  PAGE_TABLE_RELOCATION_REGION: 0x103,
  CORIM_DOCUMENT: 0x104,
  CORIM_SIGNATURE: 0x105,
  CCA_POLICY: 0x106,
  PARAMETER_AREA: 0x301,
  PAGE_DATA: 0x302,
  PARAMETER_INSERT: 0x303,
  VP_CONTEXT: 0x304,
  REQUIRED_MEMORY: 0x305,
  RESERVED_DO_NOT_USE: 0x306,
  VP_COUNT_PARAMETER: 0x307,
  SRAT: 0x308,
  MADT: 0x309,
  MMIO_RANGES: 0x30a,
  SNP_ID_BLOCK: 0x30b,
  MEMORY_MAP: 0x30c,
  ERROR_RANGE: 0x30d,
  COMMAND_LINE: 0x30e,
  SLIT: 0x30f,
  PPTT: 0x310,
  VBS_MEASUREMENT: 0x311,
  DEVICE_TREE: 0x312,
  ENVIRONMENT_INFO_PARAMETER: 0x313,
} as const;

export const PARAMETER_RECORD_TYPES = [
  T.VP_COUNT_PARAMETER, T.SRAT, T.MADT, T.MMIO_RANGES, T.MEMORY_MAP,
  T.COMMAND_LINE, T.SLIT, T.PPTT, T.DEVICE_TREE, T.ENVIRONMENT_INFO_PARAMETER,
] as const;

export const PLAT = { NATIVE: 0, VSM: 1, SNP: 2, TDX: 3, SEV: 4, SEV_ES: 5, CCA: 6 } as const;

// ---------------------------------------------------------------- CRC-32 (zlib)

let crcTable: Uint32Array | undefined;
export function crc32(parts: Uint8Array[]): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      let c = i;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (c & 1 ? 0xedb88320 : 0);
      crcTable[i] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const p of parts) for (const b of p) crc = crcTable[(crc ^ b) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------- little-endian struct writer

type FieldValue = number | bigint | Uint8Array;
/** Build a body of `size` bytes from [offset, width, value] triples (width 1/2/4/8, or 0 for raw bytes). */
export function struct(size: number, fields: [number, number, FieldValue][]): Uint8Array {
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  for (const [off, width, value] of fields) {
    if (value instanceof Uint8Array) out.set(value, off);
    else if (width === 1) dv.setUint8(off, Number(value));
    else if (width === 2) dv.setUint16(off, Number(value), true);
    else if (width === 4) dv.setUint32(off, Number(value) >>> 0, true);
    else if (width === 8) dv.setBigUint64(off, BigInt.asUintN(64, BigInt(value)), true);
    else throw new Error(`bad width ${width}`);
  }
  return out;
}

export function u32le(v: number): Uint8Array {
  return struct(4, [[0, 4, v]]);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

// ---------------------------------------------------------------- assembler

export interface RawRecord {
  type: number;
  body: Uint8Array;
  /** Bytes written after the body; default: zeros up to the next multiple of 8. */
  padding?: Uint8Array;
  /** Value of the length field; default body.length. */
  length?: number;
}

export interface AssembleOptions {
  version?: 1 | 2;
  /** v2 only (default 0 = X64). */
  architecture?: number;
  /** v2 only (default 0x1000). */
  pageSize?: number;
  records: RawRecord[];
  data: Uint8Array;
  /** Bytes between the fixed header and the first TLV (variable_header_offset moves past them). */
  gapBytes?: Uint8Array;
  /** Override variable_header_offset (default: fixed size + gap length). */
  vho?: number;
  /** Override variable_header_size (default: byte length of the TLVs). */
  vhs?: number;
  /** Override total_file_size (default: real length). */
  totalFileSize?: number;
  /** Override the checksum (default: correct CRC). */
  checksum?: number;
  magic?: number;
  /** Override format_version (default `version`). */
  formatVersion?: number;
}

export function fixedSize(version: 1 | 2 = 1): number {
  return version === 1 ? 24 : 32;
}

export function recordBytes(r: RawRecord): Uint8Array {
  const pad = r.padding ?? new Uint8Array((8 - (r.body.length % 8)) % 8);
  return concat(struct(8, [[0, 4, r.type], [4, 4, r.length ?? r.body.length]]), r.body, pad);
}

/** Absolute offset of the file data section for these records (what file_offset values must point past). */
export function dataStart(records: RawRecord[], version: 1 | 2 = 1, gap = 0): number {
  return fixedSize(version) + gap + records.reduce((n, r) => n + recordBytes(r).length, 0);
}

export function assemble(o: AssembleOptions): Uint8Array {
  const version = o.version ?? 1;
  const fsz = fixedSize(version);
  const gap = o.gapBytes ?? new Uint8Array(0);
  const tlvs = concat(...o.records.map(recordBytes));
  const bytes = concat(new Uint8Array(fsz), gap, tlvs, o.data);
  const dv = new DataView(bytes.buffer);
  const vho = o.vho ?? fsz + gap.length;
  const vhs = o.vhs ?? tlvs.length;
  dv.setUint32(0, o.magic ?? 0x4d564749, true);
  dv.setUint32(4, o.formatVersion ?? version, true);
  dv.setUint32(8, vho >>> 0, true);
  dv.setUint32(12, vhs >>> 0, true);
  dv.setUint32(16, (o.totalFileSize ?? bytes.length) >>> 0, true);
  if (version === 2) {
    dv.setUint32(24, o.architecture ?? 0, true);
    dv.setUint32(28, o.pageSize ?? 0x1000, true);
  }
  dv.setUint32(20, o.checksum ?? checksumOf(bytes, fsz, vho, vhs), true);
  return bytes;
}

/** CRC over the fixed header (checksum field zeroed) and the variable header section. */
export function checksumOf(bytes: Uint8Array, fsz: number, vho: number, vhs: number): number {
  const fixed = bytes.slice(0, fsz);
  fixed.fill(0, 20, 24);
  const end = Math.min(bytes.length, vho + vhs);
  return crc32([fixed, bytes.slice(Math.min(vho, end), end)]);
}

/** The checksum a file's fixed header should hold, from its own version, header offset and size fields. */
export function expectedChecksum(bytes: Uint8Array): number {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return checksumOf(bytes, dv.getUint32(4, true) === 1 ? 24 : 32, dv.getUint32(8, true), dv.getUint32(12, true));
}

/** One record as found in a file: type and length fields, offset of the record and of its body. */
export interface RawTlv {
  type: number;
  length: number;
  /** Absolute offset of the type field. */
  offset: number;
  /** Absolute offset of the body (offset + 8). */
  body: number;
}

/** Walk the variable headers straight from the bytes (independent of the library's parser). */
export function walkRecords(bytes: Uint8Array): RawTlv[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const vho = dv.getUint32(8, true);
  const end = vho + dv.getUint32(12, true);
  const out: RawTlv[] = [];
  for (let off = vho; off < end; ) {
    const length = dv.getUint32(off + 4, true);
    out.push({ type: dv.getUint32(off, true), length, offset: off, body: off + 8 });
    off += 8 + Math.ceil(length / 8) * 8;
  }
  return out;
}

/**
 * Assemble a file whose records need absolute data offsets: `build` is called with the data-section
 * start (body sizes must not depend on it) and returns the records and data.
 */
export function assembleWith(
  o: Omit<AssembleOptions, 'records' | 'data'>,
  build: (dataStart: number) => { records: RawRecord[]; data: Uint8Array },
): Uint8Array {
  const probe = build(0);
  const ds = dataStart(probe.records, o.version ?? 1, o.gapBytes?.length ?? 0);
  return assemble({ ...o, ...build(ds) });
}

// ---------------------------------------------------------------- record builders

export const rec = (type: number, body: Uint8Array, extra: Partial<RawRecord> = {}): RawRecord => ({ type, body, ...extra });

export interface PlatformArgs { mask: number; type: number; vtl?: number; version?: number; sharedGpa?: bigint }
export function platform(a: PlatformArgs): RawRecord {
  return rec(T.SUPPORTED_PLATFORM, struct(16, [[0, 4, a.mask], [4, 1, a.vtl ?? 0], [5, 1, a.type], [6, 2, a.version ?? 1], [8, 8, a.sharedGpa ?? 0n]]));
}

export function guestPolicy(policy: bigint, mask: number, reserved = 0): RawRecord {
  return rec(T.GUEST_POLICY, struct(16, [[0, 8, policy], [8, 4, mask], [12, 4, reserved]]));
}

export interface RelocArgs { mask: number; vpIndex?: number; vtl?: number; flags?: number; alignment?: bigint; gpa?: bigint; size?: bigint; min?: bigint; max?: bigint }
export function relocatableRegion(a: RelocArgs): RawRecord {
  return rec(T.RELOCATABLE_REGION, struct(48, [
    [0, 4, a.mask], [4, 2, a.vpIndex ?? 0], [6, 1, a.vtl ?? 0], [7, 1, a.flags ?? 0],
    [8, 8, a.alignment ?? 0x1000n], [0x10, 8, a.gpa ?? 0x100000n], [0x18, 8, a.size ?? 0x2000n],
    [0x20, 8, a.min ?? 0n], [0x28, 8, a.max ?? 0x10000000n],
  ]));
}

export interface PageTableArgs { mask: number; vpIndex?: number; vtl?: number; reserved?: number; gpa?: bigint; size?: bigint; usedSize?: bigint }
export function pageTableRegion(a: PageTableArgs): RawRecord {
  return rec(T.PAGE_TABLE_RELOCATION_REGION, struct(32, [
    [0, 4, a.mask], [4, 2, a.vpIndex ?? 0], [6, 1, a.vtl ?? 0], [7, 1, a.reserved ?? 0],
    [8, 8, a.gpa ?? 0x200000n], [0x10, 8, a.size ?? 0x4000n], [0x18, 8, a.usedSize ?? 0x1000n],
  ]));
}

export function corimData(type: number, mask: number, fileOffset: number, size: number, reserved = 0): RawRecord {
  return rec(type, struct(16, [[0, 4, mask], [4, 4, fileOffset], [8, 4, size], [12, 4, reserved]]));
}

export interface CcaPolicyArgs { mask: number; reserved?: number; zeroes?: bigint; ones?: bigint; hash?: number; lfa?: number; reserved2?: Uint8Array }
export function ccaPolicy(a: CcaPolicyArgs): RawRecord {
  return rec(T.CCA_POLICY, struct(32, [
    [0, 4, a.mask], [4, 4, a.reserved ?? 0], [8, 8, a.zeroes ?? 0n], [0x10, 8, a.ones ?? 0n],
    [0x18, 1, a.hash ?? 0], [0x19, 1, a.lfa ?? 0], [0x1a, 0, a.reserved2 ?? new Uint8Array(6)],
  ]));
}

export function parameterArea(numberOfBytes: bigint, index: number, fileOffset = 0): RawRecord {
  return rec(T.PARAMETER_AREA, struct(16, [[0, 8, numberOfBytes], [8, 4, index], [12, 4, fileOffset]]));
}

export function pageData(gpa: bigint, mask: number, fileOffset: number, flags = 0, dataType = 0, reserved = 0): RawRecord {
  return rec(T.PAGE_DATA, struct(24, [[0, 8, gpa], [8, 4, mask], [12, 4, fileOffset], [16, 4, flags], [20, 2, dataType], [22, 2, reserved]]));
}

export function parameterInsert(gpa: bigint, mask: number, index: number): RawRecord {
  return rec(T.PARAMETER_INSERT, struct(16, [[0, 8, gpa], [8, 4, mask], [12, 4, index]]));
}

export function parameter(type: number, index: number, byteOffset = 0): RawRecord {
  return rec(type, struct(8, [[0, 4, index], [4, 4, byteOffset]]));
}

/** VP_CONTEXT: 20-byte body, padded to 24 by default. */
export function vpContext(gpa: bigint, mask: number, fileOffset: number, vpIndex = 0, reserved = 0, padding?: Uint8Array): RawRecord {
  const body = struct(20, [[0, 8, gpa], [8, 4, mask], [12, 4, fileOffset], [16, 2, vpIndex], [18, 2, reserved]]);
  return padding ? rec(T.VP_CONTEXT, body, { padding }) : rec(T.VP_CONTEXT, body);
}

export function requiredMemory(gpa: bigint, mask: number, numberOfBytes: number, flags = 0, reserved = 0): RawRecord {
  return rec(T.REQUIRED_MEMORY, struct(24, [[0, 8, gpa], [8, 4, mask], [12, 4, numberOfBytes], [16, 4, flags], [20, 4, reserved]]));
}

export function errorRange(gpa: bigint, mask: number, size: number): RawRecord {
  return rec(T.ERROR_RANGE, struct(16, [[0, 8, gpa], [8, 4, mask], [12, 4, size]]));
}

export function snpIdBlock(mask: number, fill = 0): RawRecord {
  const body = new Uint8Array(696).fill(fill);
  body.set(u32le(mask), 0);
  return rec(T.SNP_ID_BLOCK, body);
}

export function vbsMeasurement(mask: number, fill = 0): RawRecord {
  const body = new Uint8Array(864).fill(fill);
  body.set(u32le(mask), 0);
  return rec(T.VBS_MEASUREMENT, body);
}

// ---------------------------------------------------------------- file data payloads

/** A 4096-byte page whose first `head` bytes are 0xAB (rest zero). */
export function page(head = 0, fill = 0xab): Uint8Array {
  const p = new Uint8Array(4096);
  p.fill(fill, 0, head);
  return p;
}

export interface VbsReg { vtl?: number; name: number; value?: bigint }
/** VbsVpContextHeader (u32 count) + 32-byte registers; `count` overrides the header value. */
export function vbsRegisters(regs: VbsReg[], count = regs.length): Uint8Array {
  return concat(u32le(count), ...regs.map((r) => struct(32, [[0, 1, r.vtl ?? 0], [1, 4, r.name], [0x10, 8, r.value ?? 0n]])));
}

export const HV = {
  Rip: 0x20010, Rsp: 0x20004, Cr0: 0x40000, Cr3: 0x40002, Gdtr: 0x70001, Rax: 0x20000, Rdi: 0x20007,
  ArmX0: 0x20000, ArmPc: 0x20022, ArmX8: 0x20008,
} as const;

// ---------------------------------------------------------------- patching

export function patchU32(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const out = bytes.slice();
  new DataView(out.buffer).setUint32(offset, value >>> 0, true);
  return out;
}

/** Recompute the checksum field in place from the header's own fields. */
export function refreshChecksum(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const dv = new DataView(out.buffer);
  const fsz = dv.getUint32(4, true) === 2 ? 32 : 24;
  dv.setUint32(20, checksumOf(out, fsz, dv.getUint32(8, true), dv.getUint32(12, true)), true);
  return out;
}
