// Mutation fuzzing of the parser, validator, serializer and igvmgen dump over the shared vectors and small hand-made seeds.
//
// Every input is checked for: validateIgvm never throws and reports well-formed problems; parseIgvm returns or throws an
// IgvmError, and throws exactly when validateIgvm finds errors (with the same first error); a valid file re-serializes
// byte-identically in preserve mode and idempotently in compact mode; dumpIgvmgen returns a string or throws IgvmError;
// and no single input takes longer than MAX_INPUT_MS.
//
// Reproduce: IGVMKIT_FUZZ_SEED=<seed> IGVMKIT_FUZZ_ITER=<i> node --test dist/test/format/fuzz.test.js
// Count: IGVMKIT_FUZZ_COUNT=<n> (default 20000; 200000 with IGVMKIT_SLOW=1).
import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseIgvm } from '../../src/format/index.js';
import { validateIgvm } from '../../src/validate/index.js';
import { serializeIgvm } from '../../src/format/serialize.js';
import { IgvmError } from '../../src/errors.js';
import { rng, storedVectors } from '../helpers.js';
import { checksumOf } from '../raw-igvm.js';

const SEED = Number(process.env['IGVMKIT_FUZZ_SEED'] ?? 0x1a2b3c4d) >>> 0;
const SLOW = process.env['IGVMKIT_SLOW'] === '1';
const COUNT = Number(process.env['IGVMKIT_FUZZ_COUNT'] ?? (SLOW ? 200_000 : 20_000));
const ONLY_ITER = process.env['IGVMKIT_FUZZ_ITER'] !== undefined ? Number(process.env['IGVMKIT_FUZZ_ITER']) : undefined;
const MAX_INPUT_MS = 2000;
const MIN_DISTINCT_ERROR_CODES = 15;

// The igvmgen dump is optional: skip its assertion when the module is not there (it is written separately).
type DumpFn = (bytes: Uint8Array) => string;
let dumpIgvmgen: DumpFn | undefined;
try {
  const dumpModule = '../../src/igvmgen/dump.js';
  const m = (await import(dumpModule)) as { dumpIgvmgen?: DumpFn };
  dumpIgvmgen = m.dumpIgvmgen;
} catch (e) {
  if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
}

// ---------------------------------------------------------------------------------------------
// Little-endian helpers (the checksum comes from test/raw-igvm.ts, independent of src)

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const getU32 = (b: Uint8Array, o: number) => (o >= 0 && o + 4 <= b.length ? dv(b).getUint32(o, true) : 0);
function putU8(b: Uint8Array, o: number, v: number): void {
  if (o >= 0 && o < b.length) b[o] = v & 0xff;
}
function putU16(b: Uint8Array, o: number, v: number): void {
  if (o >= 0 && o + 2 <= b.length) dv(b).setUint16(o, v & 0xffff, true);
}
function putU32(b: Uint8Array, o: number, v: number): void {
  if (o >= 0 && o + 4 <= b.length) dv(b).setUint32(o, v >>> 0, true);
}
function putU64(b: Uint8Array, o: number, v: bigint): void {
  if (o >= 0 && o + 8 <= b.length) dv(b).setBigUint64(o, BigInt.asUintN(64, v), true);
}
const toHex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.length), Buffer.from(b.buffer, b.byteOffset, b.length)) === 0;

/** Recompute the checksum from the file's own fixed-header fields (FORMAT.md §2); no-op when they do not describe the bytes. */
function fixChecksum(b: Uint8Array): void {
  if (b.length < 24) return;
  const version = getU32(b, 4);
  const fixedSize = version === 2 ? 32 : 24;
  const vho = getU32(b, 8);
  const vhs = getU32(b, 12);
  if (b.length < fixedSize || vho + vhs > b.length) return;
  putU32(b, 0x14, checksumOf(b, fixedSize, vho, vhs));
}

function fixTotal(b: Uint8Array): void {
  putU32(b, 0x10, b.length);
}

// ---------------------------------------------------------------------------------------------
// Raw TLV model: fixed header, gap, records (whole TLVs with padding), data section

/** Body size of every type the format defines. */
const TYPE_SIZE = new Map<number, number>([
  [0x001, 16], [0x101, 16], [0x102, 48], [0x103, 32], [0x104, 16], [0x105, 16], [0x106, 32],
  [0x301, 16], [0x302, 24], [0x303, 16], [0x304, 20], [0x305, 24], [0x307, 8], [0x308, 8], [0x309, 8], [0x30a, 8],
  [0x30b, 696], [0x30c, 8], [0x30d, 16], [0x30e, 8], [0x30f, 8], [0x310, 8], [0x311, 864], [0x312, 8], [0x313, 8],
]);
const KNOWN_TYPES = [...TYPE_SIZE.keys()];
/** Odd type codes: unknown inside a range, between ranges, optional bit. */
const ODD_TYPES = [0x000, 0x002, 0x100, 0x107, 0x200, 0x201, 0x300, 0x306, 0x314, 0x400, 0x401, 0x80000302, 0x80000001, 0xffffffff];
/** Where the file_offset field sits in the body of the types that reference file data. */
const DATA_FIELD = new Map<number, number>([[0x104, 0x4], [0x105, 0x4], [0x301, 0xc], [0x302, 0xc], [0x304, 0xc]]);

interface Raw {
  fixed: Uint8Array;
  gap: Uint8Array;
  records: Uint8Array[];
  data: Uint8Array;
  /** File data start the record offsets refer to. */
  fds: number;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

function record(type: number, body: Uint8Array, padding?: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + align8(body.length));
  putU32(out, 0, type);
  putU32(out, 4, body.length);
  out.set(body, 8);
  if (padding) out.set(padding.subarray(0, out.length - 8 - body.length), 8 + body.length);
  return out;
}

/** Split a well-framed file into the raw model (undefined when the framing is broken). */
function parseRaw(b: Uint8Array): Raw | undefined {
  if (b.length < 24) return undefined;
  const version = getU32(b, 4);
  const fixedSize = version === 2 ? 32 : 24;
  const vho = getU32(b, 8);
  const vhs = getU32(b, 12);
  const fds = vho + vhs;
  if (vho < fixedSize || fds > b.length) return undefined;
  const records: Uint8Array[] = [];
  let off = vho;
  while (off < fds) {
    if (fds - off < 8) return undefined;
    const size = 8 + align8(getU32(b, off + 4));
    if (off + size > fds) return undefined;
    records.push(b.slice(off, off + size));
    off += size;
  }
  return { fixed: b.slice(0, fixedSize), gap: b.slice(fixedSize, vho), records, data: b.slice(fds), fds };
}

/** Lay the raw model out (moving file_offset fields with the data section), fixing sizes and the checksum. */
function encodeRaw(raw: Raw, fix = true): { bytes: Uint8Array; recordOffsets: number[]; fds: number } {
  const vho = raw.fixed.length + raw.gap.length;
  let vhs = 0;
  for (const r of raw.records) vhs += r.length;
  const fds = vho + vhs;
  const delta = fds - raw.fds;
  const out = new Uint8Array(fds + raw.data.length);
  out.set(raw.fixed);
  out.set(raw.gap, raw.fixed.length);
  const recordOffsets: number[] = [];
  let off = vho;
  for (const r of raw.records) {
    out.set(r, off);
    recordOffsets.push(off);
    const field = DATA_FIELD.get(getU32(r, 0));
    if (delta !== 0 && field !== undefined && 8 + field + 4 <= r.length) {
      const v = getU32(r, 8 + field);
      if (v !== 0 && v >= raw.fds) putU32(out, off + 8 + field, v + delta);
    }
    off += r.length;
  }
  out.set(raw.data, fds);
  putU32(out, 8, vho);
  putU32(out, 12, vhs);
  if (fix) {
    fixTotal(out);
    fixChecksum(out);
  }
  return { bytes: out, recordOffsets, fds };
}

/** Length of the data a record references (capped by what is there). */
function dataLength(r: Uint8Array, at: number, available: number): number {
  const type = getU32(r, 0);
  let n = 0x1000;
  if (type === 0x301) n = Number(dv(r).getBigUint64(8, true) > 0x100000n ? 0x100000n : dv(r).getBigUint64(8, true));
  else if (type === 0x104 || type === 0x105) n = getU32(r, 8 + 8);
  return Math.max(0, Math.min(n, available - at));
}

/**
 * A small variant of a large seed: the same fixed header, all platform/initialization records, a window of the
 * directives (or a random subset), and only the data those records reference (plus a few trailing bytes).
 */
function shrink(raw: Raw, r: () => number): Raw {
  const directives: number[] = [];
  const kept: Uint8Array[] = [];
  raw.records.forEach((rec, i) => {
    if (getU32(rec, 0) < 0x301) kept.push(rec);
    else directives.push(i);
  });
  const pages = directives.filter((i) => getU32(raw.records[i]!, 0) === 0x302);
  const others = directives.filter((i) => getU32(raw.records[i]!, 0) !== 0x302);
  const choose = new Set<number>();
  const windowLen = 1 + Math.floor(r() * 12);
  const start = Math.floor(r() * Math.max(1, pages.length - windowLen));
  for (let k = start; k < Math.min(pages.length, start + windowLen); k++) choose.add(pages[k]!);
  for (let k = Math.floor(r() * 3); k > 0; k--) {
    const p = pages[Math.floor(r() * pages.length)];
    if (p !== undefined) choose.add(p);
  }
  const keepOthers = r() < 0.75 ? 1 : 0.6;
  for (const i of others) if (r() < keepOthers) choose.add(i);
  const picked = [...choose].sort((a, b) => a - b).map((i) => raw.records[i]!);
  kept.push(...picked);

  const vho = raw.fixed.length + raw.gap.length;
  const fds = vho + kept.reduce((n, x) => n + x.length, 0);
  const chunks: Uint8Array[] = [];
  const placed = new Map<string, number>();
  let end = fds;
  const records = kept.map((rec) => {
    const field = DATA_FIELD.get(getU32(rec, 0));
    if (field === undefined || 8 + field + 4 > rec.length) return rec;
    const at = getU32(rec, 8 + field);
    if (at === 0 || at < raw.fds) return rec;
    const rel = at - raw.fds;
    const len = dataLength(rec, rel, raw.data.length);
    const key = `${rel}:${len}`;
    let where = placed.get(key);
    if (where === undefined) {
      where = end;
      chunks.push(raw.data.subarray(rel, rel + len));
      end += len;
      placed.set(key, where);
    }
    const copy = rec.slice();
    putU32(copy, 8 + field, where);
    return copy;
  });
  const trailing = new Uint8Array(1 + Math.floor(r() * 8));
  const data = new Uint8Array(end - fds + trailing.length);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  return { fixed: raw.fixed.slice(), gap: raw.gap.slice(), records, data, fds };
}

// ---------------------------------------------------------------------------------------------
// Hand-made seeds covering the header types the igvmgen vectors do not use

type Field = [offset: number, kind: 'u8' | 'u16' | 'u32' | 'u64', value: number | bigint];
function body(size: number, fields: Field[]): Uint8Array {
  const b = new Uint8Array(size);
  for (const [o, k, v] of fields) {
    if (k === 'u8') putU8(b, o, Number(v));
    else if (k === 'u16') putU16(b, o, Number(v));
    else if (k === 'u32') putU32(b, o, Number(v));
    else putU64(b, o, BigInt(v));
  }
  return b;
}

interface SeedRecord {
  type: number;
  body: Uint8Array;
  /** Data chunk whose absolute offset goes into the type's file_offset field. */
  data?: Uint8Array;
  padding?: Uint8Array;
}

function buildSeed(opts: { version: 1 | 2; arch?: number; gap?: number; trailing?: Uint8Array }, recs: SeedRecord[]): Uint8Array {
  const fixed = new Uint8Array(opts.version === 1 ? 24 : 32);
  putU32(fixed, 0, 0x4d564749);
  putU32(fixed, 4, opts.version);
  if (opts.version === 2) {
    putU32(fixed, 0x18, opts.arch ?? 0);
    putU32(fixed, 0x1c, 0x1000);
  }
  const gap = new Uint8Array(opts.gap ?? 0);
  const vho = fixed.length + gap.length;
  const fds = vho + recs.reduce((n, x) => n + 8 + align8(x.body.length), 0);
  const chunks: Uint8Array[] = [];
  const where = new Map<Uint8Array, number>();
  let end = fds;
  const records = recs.map((x) => {
    const b = x.body.slice();
    if (x.data) {
      let at = where.get(x.data);
      if (at === undefined) {
        at = end;
        where.set(x.data, at);
        chunks.push(x.data);
        end += x.data.length;
      }
      putU32(b, DATA_FIELD.get(x.type)!, at);
    }
    return record(x.type, b, x.padding);
  });
  const trailing = opts.trailing ?? new Uint8Array(1);
  const data = new Uint8Array(end - fds + trailing.length);
  let o = 0;
  for (const c of chunks) {
    data.set(c, o);
    o += c.length;
  }
  data.set(trailing, o);
  return encodeRaw({ fixed, gap, records, data, fds }).bytes;
}

function patterned(size: number, seed: number, used = size): Uint8Array {
  const b = new Uint8Array(size);
  const r = rng(seed);
  for (let i = 0; i < used; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const platform = (mask: number, type: number, vtl = 0, boundary = 0n): SeedRecord => ({
  type: 0x001,
  body: body(16, [[0, 'u32', mask], [4, 'u8', vtl], [5, 'u8', type], [6, 'u16', 1], [8, 'u64', boundary]]),
});
const guestPolicy = (mask: number, policy: bigint): SeedRecord => ({ type: 0x101, body: body(16, [[0, 'u64', policy], [8, 'u32', mask]]) });
const pageData = (gpa: number, mask: number, data?: Uint8Array, flags = 0, dataType = 0): SeedRecord => ({
  type: 0x302,
  body: body(24, [[0, 'u64', gpa], [8, 'u32', mask], [0x10, 'u32', flags], [0x14, 'u16', dataType]]),
  ...(data ? { data } : {}),
});
const paramArea = (bytes: number, index: number, data?: Uint8Array): SeedRecord => ({
  type: 0x301,
  body: body(16, [[0, 'u64', bytes], [8, 'u32', index]]),
  ...(data ? { data } : {}),
});
const param = (type: number, index: number, offset: number): SeedRecord => ({ type, body: body(8, [[0, 'u32', index], [4, 'u32', offset]]) });
const paramInsert = (gpa: number, mask: number, index: number): SeedRecord => ({ type: 0x303, body: body(16, [[0, 'u64', gpa], [8, 'u32', mask], [12, 'u32', index]]) });
const vpContext = (gpa: number, mask: number, data: Uint8Array, vpIndex = 0, padding?: Uint8Array): SeedRecord => ({
  type: 0x304,
  body: body(20, [[0, 'u64', gpa], [8, 'u32', mask], [0x10, 'u16', vpIndex]]),
  data,
  ...(padding ? { padding } : {}),
});
function vbsRegisters(regs: [vtl: number, name: number, value: bigint][]): Uint8Array {
  const b = new Uint8Array(4 + 32 * regs.length);
  putU32(b, 0, regs.length);
  regs.forEach(([vtl, name, value], i) => {
    putU8(b, 4 + i * 32, vtl);
    putU32(b, 4 + i * 32 + 1, name);
    putU64(b, 4 + i * 32 + 0x10, value);
  });
  return b;
}

function handSeeds(): { name: string; bytes: Uint8Array }[] {
  const nativeCtx = body(4096, [[0x80, 'u64', 0x100000], [0x20, 'u64', 0x8000], [0xa8, 'u16', 0x8], [0xc8, 'u64', 0x80000011], [0xe0, 'u64', 0x500]]);
  const vmsa = (rip: number, seed: number) => {
    const v = patterned(4096, seed, 0x670);
    putU64(v, 0x178, BigInt(rip));
    return v;
  };
  const page1 = patterned(4096, 11);
  const page2 = patterned(4096, 12, 100);
  const cpuid = patterned(4096, 13, 64);

  // A: NATIVE + SEV_SNP: parameters, inserts, page kinds, required memory, both context kinds, ID block, error range.
  const a = buildSeed({ version: 1 }, [
    platform(0x1, 0x00),
    platform(0x2, 0x02, 2, 1n << 46n),
    guestPolicy(0x2, 0x30000n),
    paramArea(0x1000, 0),
    param(0x307, 0, 0),
    param(0x30c, 0, 8),
    param(0x313, 0, 0x100),
    paramArea(0x2000, 1, patterned(0x2000, 14, 64)),
    param(0x30e, 1, 0),
    paramInsert(0x1000, 0x3, 0),
    paramInsert(0x3000, 0x3, 1),
    pageData(0x10000, 0x3, page1),
    pageData(0x11000, 0x3),
    pageData(0x12000, 0x2, undefined, 0, 1),
    pageData(0x13000, 0x2, cpuid, 0, 2),
    pageData(0x14000, 0x1, page1, 0x2),
    pageData(0x15000, 0x3, page2, 0x4),
    { type: 0x305, body: body(24, [[0, 'u64', 0x100000], [8, 'u32', 0x3], [0xc, 'u32', 0x10000], [0x10, 'u32', 1]]) },
    { type: 0x30d, body: body(16, [[0, 'u64', 0x200000], [8, 'u32', 0x3], [0xc, 'u32', 0x1000]]) },
    vpContext(0, 0x1, nativeCtx),
    vpContext(0xfffff000, 0x2, vmsa(0xfff0, 15)),
    { type: 0x30b, body: body(696, [[0, 'u32', 0x2], [0x58, 'u32', 1], [0x60, 'u32', 1], [0x64, 'u32', 1]]) },
  ]);

  // B: VSM_ISOLATION + TDX: relocations matched by a VBS context, every parameter type, VBS measurement.
  const b = buildSeed({ version: 1, trailing: new Uint8Array([0xaa, 0xbb, 0xcc]) }, [
    platform(0x1, 0x01, 2),
    platform(0x2, 0x03, 0, 1n << 47n),
    { type: 0x102, body: body(48, [[0, 'u32', 0x1], [7, 'u8', 0x6], [8, 'u64', 0x200000], [0x10, 'u64', 0x200000], [0x18, 'u64', 0x200000], [0x20, 'u64', 0x200000], [0x28, 'u64', 0x40000000]]) },
    { type: 0x103, body: body(32, [[0, 'u32', 0x1], [8, 'u64', 0x1000000], [0x10, 'u64', 0x10000], [0x18, 'u64', 0x4000]]) },
    guestPolicy(0x2, 0x1n),
    pageData(0x200000, 0x3, patterned(4096, 21)),
    pageData(0x1000000, 0x1, patterned(4096, 22, 300)),
    paramArea(0x2000, 5),
    param(0x30a, 5, 0),
    param(0x308, 5, 0x100),
    param(0x309, 5, 0x200),
    param(0x30f, 5, 0x300),
    param(0x310, 5, 0x400),
    param(0x312, 5, 0x1000),
    paramInsert(0x3000, 0x1, 5),
    { type: 0x311, body: body(864, [[0, 'u32', 0x1], [4, 'u32', 1], [0x18, 'u32', 1], [0x1c, 'u32', 1]]) },
    vpContext(0, 0x1, vbsRegisters([[0, 0x20010, 0x200000n], [0, 0x40000, 0x80000011n], [0, 0x70001, 0x1000n], [0, 0x60001, 0xa09b0008ffffffffn]])),
  ]);

  // C: v2 AArch64: CCA (policy, CoRIM document + signature, CCA context) and VSM_ISOLATION with arm64 registers.
  const ccaCtx = body(4096, [[0x40, 'u64', 0x80000000], [0x48, 'u64', 1]]);
  const c = buildSeed({ version: 2, arch: 1 }, [
    platform(0x1, 0x06),
    platform(0x2, 0x01),
    { type: 0x106, body: body(32, [[0, 'u32', 0x1], [8, 'u64', 0x1], [0x10, 'u64', 0x2], [0x18, 'u8', 2], [0x19, 'u8', 1]]) },
    { type: 0x104, body: body(16, [[0, 'u32', 0x1], [8, 'u32', 64]]), data: patterned(64, 31) },
    { type: 0x105, body: body(16, [[0, 'u32', 0x1], [8, 'u32', 40]]), data: patterned(40, 32) },
    pageData(0x80000000, 0x3, patterned(4096, 33)),
    pageData(0x80001000, 0x3),
    vpContext(0, 0x1, ccaCtx),
    vpContext(0, 0x2, vbsRegisters([[0, 0x20000, 0x1n], [0, 0x20022, 0x80000000n], [0, 0x20023, 0x3c5n]])),
  ]);

  // D: v2 X64 with a gap before the headers: TDX, SEV, SEV_ES, SEV_SNP; native SEV context, VMSAs (one with a non-zero
  // tail), VP-context padding, a mask-0 page (dropped by compact), a 2 MiB flag, unreferenced data.
  const vmsaTail = vmsa(0x1000, 41);
  vmsaTail[0x800] = 1;
  const d = buildSeed({ version: 2, arch: 0, gap: 8, trailing: patterned(300, 42) }, [
    platform(0x1, 0x03),
    platform(0x2, 0x04),
    platform(0x4, 0x05),
    platform(0x8, 0x02, 0, 1n << 51n),
    guestPolicy(0x1, 0x0n),
    guestPolicy(0xe, 0x30000n),
    pageData(0x0, 0xf, patterned(4096, 43)),
    pageData(0x1000, 0x8, patterned(4096, 44, 16), 0, 3),
    pageData(0x2000, 0x0, patterned(4096, 45)),
    pageData(0x200000, 0x3, undefined, 0x1),
    vpContext(0, 0x2, nativeCtx, 0, new Uint8Array([1, 2, 3, 4])),
    vpContext(0x5000, 0x4, vmsa(0x1000, 46)),
    vpContext(0x6000, 0x8, vmsaTail, 1),
  ]);
  return [
    { name: 'hand-A-native-snp', bytes: a },
    { name: 'hand-B-vbs-tdx', bytes: b },
    { name: 'hand-C-aarch64-cca', bytes: c },
    { name: 'hand-D-v2-sev', bytes: d },
  ];
}

// ---------------------------------------------------------------------------------------------
// Mutators

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number) => Math.floor(r() * n);

/** Structure-aware mutations on the raw model (records and data stay framed; sizes and offsets are fixed up on encode). */
function mutateRaw(raw: Raw, r: Rand): string {
  const recs = raw.records;
  const k = int(r, Math.max(1, recs.length));
  switch (int(r, 11)) {
    case 0:
      if (recs.length > 1) recs.splice(k, 1);
      return 'remove-record';
    case 1:
      if (recs[k]) recs.splice(int(r, recs.length + 1), 0, recs[k]!.slice());
      return 'duplicate-record';
    case 2: {
      const j = int(r, Math.max(1, recs.length));
      if (recs[k] && recs[j]) [recs[k], recs[j]] = [recs[j]!, recs[k]!];
      return 'swap-records';
    }
    case 3: {
      const [x] = recs.splice(k, 1);
      if (x) recs.splice(int(r, recs.length + 1), 0, x);
      return 'move-record';
    }
    case 4: {
      // type swap keeping the body (usually a length error, sometimes a same-size reinterpretation)
      const x = recs[k];
      if (x) {
        const y = x.slice();
        putU32(y, 0, r() < 0.85 ? pick(r, KNOWN_TYPES) : pick(r, ODD_TYPES));
        recs[k] = y;
      }
      return 'retype-record';
    }
    case 5: {
      // type swap with the new type's exact length: the body is reinterpreted
      const x = recs[k];
      if (x) {
        const type = pick(r, KNOWN_TYPES);
        recs[k] = record(type, padTo(x.subarray(8), TYPE_SIZE.get(type)!));
      }
      return 'retype-resize-record';
    }
    case 6: {
      // swap the types of two records of the same body size
      const j = int(r, Math.max(1, recs.length));
      const x = recs[k];
      const y = recs[j];
      if (x && y && getU32(x, 4) === getU32(y, 4)) {
        const xc = x.slice();
        const yc = y.slice();
        putU32(xc, 0, getU32(y, 0));
        putU32(yc, 0, getU32(x, 0));
        recs[k] = xc;
        recs[j] = yc;
      }
      return 'exchange-types';
    }
    case 7: {
      // a new record of a known type with random or zero body, pointing into the data section
      const type = pick(r, KNOWN_TYPES);
      const b = r() < 0.5 ? new Uint8Array(TYPE_SIZE.get(type)!) : patterned(TYPE_SIZE.get(type)!, int(r, 1 << 30));
      const field = DATA_FIELD.get(type);
      if (field !== undefined) putU32(b, field, r() < 0.2 ? 0 : raw.fds + int(r, raw.data.length + 1));
      if (type === 0x001) putU16(b, 6, 1);
      recs.splice(int(r, recs.length + 1), 0, record(type, b));
      return 'insert-record';
    }
    case 8: {
      // data section: truncate or extend
      if (r() < 0.5) raw.data = raw.data.slice(0, int(r, raw.data.length + 1));
      else {
        const more = new Uint8Array(raw.data.length + 1 + int(r, 64));
        more.set(raw.data);
        raw.data = more;
      }
      return 'resize-data';
    }
    case 9: {
      // switch format version (v1 <-> v2), keeping records and data
      const v2 = raw.fixed.length === 24;
      const f = new Uint8Array(v2 ? 32 : 24);
      f.set(raw.fixed.subarray(0, 24));
      putU32(f, 4, v2 ? 2 : 1);
      if (v2) {
        putU32(f, 0x18, r() < 0.7 ? 0 : 1);
        putU32(f, 0x1c, 0x1000);
      }
      raw.fixed = f;
      return 'switch-version';
    }
    default: {
      // gap before the headers
      raw.gap = r() < 0.5 ? new Uint8Array(0) : patterned(1 + int(r, 16), int(r, 1000));
      return 'gap';
    }
  }
}

function padTo(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(b.subarray(0, n));
  return out;
}

const INTERESTING_U8 = [0, 0xff, 0x7f, 0x80, 1, 2, 3, 7];
const INTERESTING_U64 = [0n, 1n, 0xfffn, 0x1000n, 0x1001n, 0x200000n, 0xffffffffn, 0x100000000n, 1n << 63n, 0xffffffffffffffffn, 0xfffffffffffff000n];

/** Byte-level mutations on an encoded file. Returns the (possibly resized) bytes and the operator name. */
function mutateBytes(b: Uint8Array, r: Rand, recordOffsets: number[], fds: number): [Uint8Array, string] {
  const len = b.length;
  const headerPos = () => (r() < 0.8 && fds > 0 ? int(r, Math.min(fds, len)) : int(r, len));
  const alignedPos = () => {
    if (recordOffsets.length === 0 || r() < 0.15) return 4 * int(r, 8); // a fixed-header field
    const at = pick(r, recordOffsets);
    const size = 8 + align8(getU32(b, at + 4) > 0x1000 ? 0 : getU32(b, at + 4));
    return at + 4 * int(r, Math.max(1, size / 4));
  };
  const interestingU32 = () =>
    pick(r, [0, 1, 2, 4, 8, 16, 20, 24, 0x670, 0xfff, 0x1000, 0x1001, 0x7fffffff, 0x80000000, 0xffffffff, len, len - 1, len + 1, len - 0x1000,
      getU32(b, 8), fds, fds - 1, fds + 1, getU32(b, 12), pick(r, KNOWN_TYPES), pick(r, ODD_TYPES), 1 << int(r, 32), pick(r, recordOffsets.length ? recordOffsets : [0])]);
  if (len === 0) return [b, 'empty'];
  switch (int(r, 10)) {
    case 0: {
      const p = headerPos();
      b[p] = b[p]! ^ (1 << int(r, 8));
      return [b, 'bit-flip'];
    }
    case 1:
      b[headerPos()] = pick(r, INTERESTING_U8);
      return [b, 'byte-interesting'];
    case 2:
    case 3:
      putU32(b, alignedPos(), interestingU32());
      return [b, 'u32-interesting'];
    case 4:
      putU16(b, alignedPos() + (r() < 0.5 ? 2 : 0), pick(r, [0, 1, 2, 3, 4, 5, 6, 7, 0xffff, 0x8000, 0x1000]));
      return [b, 'u16-interesting'];
    case 5:
      putU64(b, alignedPos() & ~7, pick(r, INTERESTING_U64));
      return [b, 'u64-interesting'];
    case 6: {
      // truncation: inside the headers, near the end, or anywhere
      const cut = r() < 0.3 ? int(r, Math.min(len, fds + 8)) : r() < 0.5 ? Math.max(0, len - 1 - int(r, 64)) : int(r, len);
      return [b.slice(0, cut), 'truncate'];
    }
    case 7: {
      const out = new Uint8Array(len + 1 + int(r, r() < 0.8 ? 16 : 5000));
      out.set(b);
      if (r() < 0.5) for (let i = len; i < out.length; i++) out[i] = int(r, 256);
      return [out, 'extend'];
    }
    case 8: {
      // a random byte anywhere (data section: context tails, VBS registers, VMSA)
      b[int(r, len)] = int(r, 256);
      return [b, 'byte-random'];
    }
    default: {
      // copy a small block from one place to another (splices record fragments)
      const n = 1 + int(r, 32);
      const from = headerPos();
      const to = headerPos();
      b.copyWithin(to, from, Math.min(len, from + n));
      return [b, 'block-copy'];
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Checks

class FuzzFailure extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}

interface Outcome {
  valid: boolean;
  errorCodes: string[];
  warningCodes: string[];
  firstError: string | undefined;
}

function describe(e: unknown): string {
  return e instanceof Error ? `${e.constructor.name}: ${e.message}${e.stack ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}` : String(e);
}

/** Run every assertion on one input; throws FuzzFailure naming what broke. */
function checkInput(bytes: Uint8Array): Outcome {
  const len = bytes.length;
  let v: ReturnType<typeof validateIgvm>;
  try {
    v = validateIgvm(bytes);
  } catch (e) {
    throw new FuzzFailure('validate-threw', `validateIgvm threw: ${describe(e)}`);
  }
  let errorCount = 0;
  for (const p of v.problems) {
    if (typeof p.code !== 'string' || p.code.length === 0) throw new FuzzFailure('problem-code', `problem without a string code: ${JSON.stringify(p)}`);
    if (typeof p.offset !== 'number' || !Number.isInteger(p.offset) || p.offset < 0 || p.offset > len)
      throw new FuzzFailure('problem-offset', `problem ${p.code} offset ${p.offset} outside [0, ${len}]`);
    if (typeof p.message !== 'string' || p.message.length === 0) throw new FuzzFailure('problem-message', `problem ${p.code} has an empty message`);
    if (p.severity === 'error') errorCount++;
    else if (p.severity !== 'warning') throw new FuzzFailure('problem-severity', `problem ${p.code} has severity ${String(p.severity)}`);
  }
  if (v.valid !== (errorCount === 0) || v.errors !== errorCount || v.warnings !== v.problems.length - errorCount)
    throw new FuzzFailure('validate-counts', `valid=${v.valid} errors=${v.errors} warnings=${v.warnings} but ${errorCount} error problems of ${v.problems.length}`);

  let file: ReturnType<typeof parseIgvm> | undefined;
  let thrown: IgvmError | undefined;
  try {
    file = parseIgvm(bytes);
  } catch (e) {
    if (!(e instanceof IgvmError)) throw new FuzzFailure('parse-threw-non-igvm-error', `parseIgvm threw a non-IgvmError: ${describe(e)}`);
    thrown = e;
  }
  if (v.valid && thrown) throw new FuzzFailure('parse-rejects-valid', `validateIgvm reports no errors but parseIgvm threw ${thrown.code}: ${thrown.message}`);
  if (!v.valid && !thrown)
    throw new FuzzFailure('parse-accepts-invalid', `validateIgvm reports ${v.errors} error(s) (${v.problems.filter((p) => p.severity === 'error').map((p) => p.code).join(', ')}) but parseIgvm returned a file`);
  if (thrown && !v.problems.some((p) => p.severity === 'error' && p.code === thrown.code && p.offset === thrown.offset))
    throw new FuzzFailure('first-error-mismatch', `parseIgvm threw ${thrown.code} at ${thrown.offset}, which validateIgvm does not report`);

  if (file) {
    let preserved: Uint8Array;
    try {
      preserved = serializeIgvm(file, { mode: 'preserve' });
    } catch (e) {
      throw new FuzzFailure('preserve-threw', `serializeIgvm(preserve) threw: ${describe(e)}`);
    }
    if (!sameBytes(preserved, bytes)) {
      let at = 0;
      while (at < len && preserved[at] === bytes[at]) at++;
      throw new FuzzFailure('preserve-mismatch', `serializeIgvm(preserve) differs from the input (lengths ${preserved.length}/${len}, first difference at 0x${at.toString(16)})`);
    }
    let compact: Uint8Array;
    let again: Uint8Array;
    try {
      compact = serializeIgvm(file);
    } catch (e) {
      throw new FuzzFailure('compact-threw', `serializeIgvm(compact) threw: ${describe(e)}`);
    }
    let reparsed: ReturnType<typeof parseIgvm>;
    try {
      reparsed = parseIgvm(compact);
    } catch (e) {
      throw new FuzzFailure('compact-unparseable', `the compact serialization does not parse: ${describe(e)}`);
    }
    try {
      again = serializeIgvm(reparsed);
    } catch (e) {
      throw new FuzzFailure('compact-threw', `re-serializing the compact output threw: ${describe(e)}`);
    }
    if (!sameBytes(again, compact)) throw new FuzzFailure('compact-not-idempotent', `compact(parse(compact(x))) differs from compact(x) (lengths ${again.length}/${compact.length})`);
  }

  if (dumpIgvmgen) {
    try {
      const text = dumpIgvmgen(bytes);
      if (typeof text !== 'string') throw new FuzzFailure('dump-type', `dumpIgvmgen returned ${typeof text}`);
    } catch (e) {
      if (e instanceof FuzzFailure) throw e;
      if (!(e instanceof IgvmError)) throw new FuzzFailure('dump-threw-non-igvm-error', `dumpIgvmgen threw a non-IgvmError: ${describe(e)}`);
    }
  }

  const errorCodes = [...new Set(v.problems.filter((p) => p.severity === 'error').map((p) => p.code))];
  const warningCodes = [...new Set(v.problems.filter((p) => p.severity === 'warning').map((p) => p.code))];
  return { valid: v.valid, errorCodes, warningCodes, firstError: thrown?.code };
}

function failureKind(bytes: Uint8Array): string | undefined {
  try {
    checkInput(bytes);
    return undefined;
  } catch (e) {
    return e instanceof FuzzFailure ? e.kind : 'harness';
  }
}

/** Greedy minimisation of a failing input, keeping the same failure kind (bounded in time). */
function minimise(input: Uint8Array, kind: string, budgetMs = 20_000): Uint8Array {
  const deadline = performance.now() + budgetMs;
  let best = input;
  const tryCandidate = (c: Uint8Array): boolean => {
    if (c.length < best.length || (c.length === best.length && !sameBytes(c, best))) {
      if (failureKind(c) === kind) {
        best = c;
        return true;
      }
    }
    return false;
  };
  let progress = true;
  while (progress && performance.now() < deadline) {
    progress = false;
    const raw = parseRaw(best);
    if (raw) {
      // drop records
      for (let i = raw.records.length - 1; i >= 0 && performance.now() < deadline; i--) {
        const cur = parseRaw(best);
        if (!cur || i >= cur.records.length) continue;
        cur.records.splice(i, 1);
        for (const fix of [true, false]) if (tryCandidate(encodeRaw({ ...cur, records: cur.records.slice() }, fix).bytes)) { progress = true; break; }
      }
      // shorten the data section from the end, in halving steps
      for (let cut = Math.floor((parseRaw(best)?.data.length ?? 0) / 2); cut >= 1 && performance.now() < deadline; cut = Math.floor(cut / 2)) {
        const cur = parseRaw(best);
        if (!cur || cur.data.length <= cut) continue;
        const candidate = encodeRaw({ ...cur, data: cur.data.slice(0, cur.data.length - cut) }).bytes;
        if (tryCandidate(candidate)) progress = true;
      }
    } else {
      for (let cut = Math.floor(best.length / 2); cut >= 1 && performance.now() < deadline; cut = Math.floor(cut / 2)) {
        const c = best.slice(0, best.length - cut);
        fixTotal(c);
        fixChecksum(c);
        if (tryCandidate(c)) progress = true;
      }
    }
  }
  // zero out 4 KiB pages, then single non-zero bytes of the data section, where that keeps the failure
  const zeroRun = (from: number, to: number) => {
    const c = best.slice();
    c.fill(0, from, to);
    fixChecksum(c);
    if (!sameBytes(c, best) && failureKind(c) === kind) best = c;
  };
  const fds0 = getU32(best, 8) + getU32(best, 12);
  for (let p = fds0; p < best.length && performance.now() < deadline; p += 0x1000) zeroRun(p, Math.min(best.length, p + 0x1000));
  for (let p = fds0; p < best.length && performance.now() < deadline; p++) if (best[p] !== 0) zeroRun(p, p + 1);
  return best;
}

// ---------------------------------------------------------------------------------------------
// The run

interface Seed {
  name: string;
  bytes: Uint8Array;
  raw: Raw;
}

function loadSeeds(): { vectors: Seed[]; hand: Seed[] } {
  const toSeed = (name: string, bytes: Uint8Array): Seed => {
    const raw = parseRaw(bytes);
    assert.ok(raw, `${name}: the seed's variable header section is not well framed`);
    return { name, bytes, raw };
  };
  return {
    vectors: storedVectors().map((v) => toSeed(v.name, v.bytes)),
    hand: handSeeds().map((s) => toSeed(s.name, s.bytes)),
  };
}

const cloneRaw = (raw: Raw): Raw => ({ fixed: raw.fixed.slice(), gap: raw.gap.slice(), records: raw.records.slice(), data: raw.data, fds: raw.fds });

/** Build input number `iter` (deterministic in SEED and iter alone, so one iteration can be replayed). */
function makeInput(iter: number, vectors: Seed[], hand: Seed[]): { bytes: Uint8Array; recipe: string } {
  const r = rng((SEED ^ Math.imul(iter + 1, 0x9e3779b1)) >>> 0);
  const steps: string[] = [];
  let raw: Raw;
  const roll = r();
  if (roll < 0.01 && vectors.length > 0) {
    const s = pick(r, vectors);
    raw = cloneRaw(s.raw);
    steps.push(`full:${s.name}`);
  } else if (roll < 0.45 || vectors.length === 0) {
    const s = pick(r, hand);
    raw = cloneRaw(s.raw);
    steps.push(`hand:${s.name}`);
  } else {
    const s = pick(r, vectors);
    raw = shrink(s.raw, r);
    steps.push(`shrunk:${s.name}(${raw.records.length} records)`);
  }
  // ~6% of inputs are unmutated seeds/shrinks (exercise the round-trip assertions on valid files)
  if (r() < 0.06) return { bytes: encodeRaw(raw).bytes, recipe: steps.join(' ') };

  const structural = r() < 0.45 ? 1 + int(r, 3) : 0;
  for (let k = 0; k < structural; k++) steps.push(mutateRaw(raw, r));
  const fixSizes = r() < 0.9;
  const enc = encodeRaw(raw, fixSizes);
  if (!fixSizes) steps.push('no-size-fixup');
  let bytes = enc.bytes;
  // structural mutations alone are often enough; otherwise 1–4 byte-level operators
  let byteOps = structural > 0 && r() < 0.4 ? 0 : 1 + (r() < 0.3 ? int(r, 4) : 0);
  const startLen = bytes.length;
  while (byteOps-- > 0) {
    const [out, op] = mutateBytes(bytes, r, enc.recordOffsets, enc.fds);
    bytes = out;
    steps.push(op);
  }
  if (bytes.length !== startLen && r() < 0.8) {
    fixTotal(bytes);
    steps.push('fix-total');
  }
  if (r() < 0.85) {
    fixChecksum(bytes);
    steps.push('fix-checksum');
  } else steps.push('no-checksum-fixup');
  return { bytes, recipe: steps.join(' ') };
}

test('the hand-made fuzz seeds are valid IGVM files that round-trip', () => {
  for (const s of handSeeds()) {
    const v = validateIgvm(s.bytes);
    assert.equal(v.errors, 0, `${s.name}: ${v.problems.filter((p) => p.severity === 'error').map((p) => `${p.code} @0x${p.offset.toString(16)}: ${p.message}`).join('; ')}`);
    assert.doesNotThrow(() => checkInput(s.bytes), s.name);
  }
});

test(`mutation fuzzing (seed 0x${SEED.toString(16)}, ${ONLY_ITER !== undefined ? `iteration ${ONLY_ITER}` : `${COUNT} inputs`})`, () => {
  const { vectors, hand } = loadSeeds();
  const errorCodeInputs = new Map<string, number>();
  const firstErrorInputs = new Map<string, number>();
  const warningCodeInputs = new Map<string, number>();
  const failures: { iter: number; kind: string; message: string; file: string; recipe: string }[] = [];
  const failureKinds = new Set<string>();
  let valid = 0;
  let invalid = 0;
  let maxMs = 0;
  let maxIter = -1;
  let totalBytes = 0;
  const started = performance.now();
  const iters = ONLY_ITER !== undefined ? [ONLY_ITER] : Array.from({ length: COUNT }, (_, i) => i);
  for (const iter of iters) {
    const { bytes, recipe } = makeInput(iter, vectors, hand);
    totalBytes += bytes.length;
    const t0 = performance.now();
    let outcome: Outcome | undefined;
    let failure: FuzzFailure | undefined;
    try {
      outcome = checkInput(bytes);
    } catch (e) {
      failure = e instanceof FuzzFailure ? e : new FuzzFailure('harness', describe(e));
    }
    const ms = performance.now() - t0;
    if (ms > maxMs) {
      maxMs = ms;
      maxIter = iter;
    }
    if (ms > MAX_INPUT_MS && !failure) failure = new FuzzFailure('slow-input', `input took ${ms.toFixed(0)} ms (limit ${MAX_INPUT_MS} ms)`);
    if (failure) {
      const file = join(tmpdir(), `igvmkit-fuzz-seed${SEED.toString(16)}-iter${iter}-${failure.kind}.igvm`);
      if (failures.length < 20) {
        writeFileSync(file, bytes);
        let min = '';
        if (!failureKinds.has(failure.kind) && failure.kind !== 'slow-input') {
          const m = minimise(bytes, failure.kind);
          const minFile = file.replace(/\.igvm$/, '-min.igvm');
          writeFileSync(minFile, m);
          min = `\n  minimised (${m.length} bytes): ${minFile}${m.length <= 4096 ? `\n  hex: ${toHex(m)}` : ''}`;
        }
        console.log(`FUZZ FAILURE seed=0x${SEED.toString(16)} iter=${iter} kind=${failure.kind}\n  recipe: ${recipe}\n  ${failure.message}\n  input (${bytes.length} bytes): ${file}${min}`);
      }
      failureKinds.add(failure.kind);
      failures.push({ iter, kind: failure.kind, message: failure.message, file, recipe });
      continue;
    }
    if (!outcome) continue;
    if (outcome.valid) valid++;
    else invalid++;
    for (const c of outcome.errorCodes) errorCodeInputs.set(c, (errorCodeInputs.get(c) ?? 0) + 1);
    for (const c of outcome.warningCodes) warningCodeInputs.set(c, (warningCodeInputs.get(c) ?? 0) + 1);
    if (outcome.firstError) firstErrorInputs.set(outcome.firstError, (firstErrorInputs.get(outcome.firstError) ?? 0) + 1);
  }
  const elapsed = (performance.now() - started) / 1000;
  const table = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([c, n]) => `    ${c.padEnd(36)} ${n}`).join('\n');
  console.log(
    [
      `fuzz summary: seed 0x${SEED.toString(16)}, ${iters.length} inputs (${(totalBytes / iters.length / 1024).toFixed(1)} KiB average) in ${elapsed.toFixed(1)} s` +
        `${dumpIgvmgen ? '' : ' (dumpIgvmgen not available: dump assertion skipped)'}`,
      `  valid ${valid}, invalid ${invalid}, failures ${failures.length}`,
      `  max time per input ${maxMs.toFixed(1)} ms (iteration ${maxIter})`,
      `  distinct error codes ${errorCodeInputs.size}; inputs per error code (any error reported by validateIgvm):`,
      table(errorCodeInputs),
      `  first error (the one parseIgvm throws), ${firstErrorInputs.size} codes:`,
      table(firstErrorInputs),
      `  warning codes on valid inputs, ${warningCodeInputs.size} codes:`,
      table(warningCodeInputs),
    ].join('\n'),
  );
  if (failures.length > 0) {
    const byKind = new Map<string, number>();
    for (const f of failures) byKind.set(f.kind, (byKind.get(f.kind) ?? 0) + 1);
    assert.fail(`${failures.length} fuzz failure(s): ${[...byKind].map(([k, n]) => `${k} ×${n}`).join(', ')}; first: iter ${failures[0]!.iter} (${failures[0]!.kind}) ${failures[0]!.message} — input ${failures[0]!.file}`);
  }
  assert.ok(maxMs <= MAX_INPUT_MS, `slowest input took ${maxMs.toFixed(0)} ms`);
  if (ONLY_ITER === undefined) {
    assert.ok(valid > 0 && invalid > 0, `expected both valid and invalid inputs (valid ${valid}, invalid ${invalid})`);
    if (iters.length >= 5000)
      assert.ok(errorCodeInputs.size >= MIN_DISTINCT_ERROR_CODES, `only ${errorCodeInputs.size} distinct error codes hit: ${[...errorCodeInputs.keys()].join(', ')}`);
  }
});
