// Tests of the declared structure layouts (src/spec/layouts.ts) against FORMAT.md §14 (sizes) and Appendix A (offsets),
// plus byte-exactness properties: no overlapping fields, full coverage of record bodies, read(write(x)) == x.
import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as layouts from '../../src/spec/layouts.js';
import type { FieldDef } from '../../src/spec/layouts.js';
import { ByteReader, ByteWriter } from '../../src/bytes.js';
import { SHARED, rng } from '../helpers.js';

/** A layout seen without its precise field types. */
interface AnyLayout {
  name: string;
  size: number;
  fields: readonly FieldDef[];
  read(r: ByteReader, offset: number): Record<string, unknown>;
  write(w: ByteWriter, offset: number, value: Record<string, unknown>): void;
  fieldSize(name: string): number;
}

function isLayout(x: unknown): x is AnyLayout {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o['name'] === 'string' && typeof o['size'] === 'number' && Array.isArray(o['fields']) && typeof o['read'] === 'function' && typeof o['write'] === 'function';
}

/** Every exported layout, keyed by its export name. */
const ALL: [string, AnyLayout][] = Object.entries(layouts as Record<string, unknown>).flatMap(([k, v]): [string, AnyLayout][] => (isLayout(v) ? [[k, v]] : []));

/** Structure sizes: FORMAT.md §14 (plus §3.1 for CORIM_DATA and Appendix A for the SNP ID block parts and SevSelector). */
const SPEC_SIZE: Record<string, number> = {
  IGVM_FIXED_HEADER: 24,
  IGVM_FIXED_HEADER_V2: 32,
  IGVM_VHS_VARIABLE_HEADER: 8,
  IGVM_VHS_SUPPORTED_PLATFORM: 16,
  IGVM_VHS_GUEST_POLICY: 16,
  IGVM_VHS_CCA_POLICY: 32,
  IGVM_VHS_RELOCATABLE_REGION: 48,
  IGVM_VHS_PAGE_TABLE_RELOCATION: 32,
  IGVM_VHS_CORIM_DATA: 16,
  IGVM_VHS_PARAMETER_AREA: 16,
  IGVM_VHS_PAGE_DATA: 24,
  IGVM_VHS_PARAMETER_INSERT: 16,
  IGVM_VHS_PARAMETER: 8,
  IGVM_VHS_VP_CONTEXT: 20,
  IGVM_VHS_REQUIRED_MEMORY: 24,
  IGVM_VHS_ERROR_RANGE: 16,
  IGVM_VHS_SNP_ID_BLOCK: 696,
  IGVM_VHS_SNP_ID_BLOCK_SIGNATURE: 144,
  IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY: 152,
  IGVM_VHS_VBS_MEASUREMENT: 864,
  IGVM_VHS_MEMORY_RANGE: 16,
  IGVM_VHS_MMIO_RANGES: 32,
  IGVM_VHS_MEMORY_MAP_ENTRY: 24,
  VbsVpContextHeader: 4,
  VbsVpContextRegister: 32,
  IgvmNativeVpContextX64: 232,
  IgvmVpContextAArch64Cca: 80,
  SevVmsa: 4096,
  SevSelector: 16,
};

/**
 * Layouts whose fields must cover every byte 0..size, so that write(read(bytes)) reproduces the bytes exactly
 * (preserve-mode round trips): every variable-header body, the SNP ID block parts, the memory map entry, the
 * native/CCA contexts, the VBS register and the fixed headers. SevVmsa alone declares only its named fields.
 */
const FULLY_COVERED = [
  'IGVM_FIXED_HEADER', 'IGVM_FIXED_HEADER_V2', 'IGVM_VHS_VARIABLE_HEADER',
  'IGVM_VHS_SUPPORTED_PLATFORM',
  'IGVM_VHS_GUEST_POLICY', 'IGVM_VHS_RELOCATABLE_REGION', 'IGVM_VHS_PAGE_TABLE_RELOCATION', 'IGVM_VHS_CORIM_DATA', 'IGVM_VHS_CCA_POLICY',
  'IGVM_VHS_PAGE_DATA', 'IGVM_VHS_PARAMETER_AREA', 'IGVM_VHS_PARAMETER', 'IGVM_VHS_PARAMETER_INSERT', 'IGVM_VHS_VP_CONTEXT',
  'IGVM_VHS_REQUIRED_MEMORY', 'IGVM_VHS_ERROR_RANGE', 'IGVM_VHS_SNP_ID_BLOCK', 'IGVM_VHS_VBS_MEASUREMENT',
  'IGVM_VHS_SNP_ID_BLOCK_SIGNATURE', 'IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY', 'IGVM_VHS_MEMORY_MAP_ENTRY', 'IGVM_VHS_MEMORY_RANGE',
  'IgvmNativeVpContextX64', 'IgvmVpContextAArch64Cca', 'VbsVpContextHeader', 'VbsVpContextRegister', 'SevSelector',
];

/** Every variable-header body the format defines (FORMAT.md §3.1) must have an exported layout. */
const RECORD_BODIES = [
  'IGVM_VHS_SUPPORTED_PLATFORM', 'IGVM_VHS_GUEST_POLICY', 'IGVM_VHS_RELOCATABLE_REGION', 'IGVM_VHS_PAGE_TABLE_RELOCATION',
  'IGVM_VHS_CORIM_DATA', 'IGVM_VHS_CCA_POLICY', 'IGVM_VHS_PARAMETER_AREA', 'IGVM_VHS_PAGE_DATA', 'IGVM_VHS_PARAMETER_INSERT',
  'IGVM_VHS_VP_CONTEXT', 'IGVM_VHS_REQUIRED_MEMORY', 'IGVM_VHS_PARAMETER', 'IGVM_VHS_SNP_ID_BLOCK', 'IGVM_VHS_ERROR_RANGE',
  'IGVM_VHS_VBS_MEASUREMENT',
];

const INT_SIZE: Record<string, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };
const sizeOf = (f: FieldDef): number => (f.kind === 'bytes' ? (f.size ?? 0) : INT_SIZE[f.kind]!);

function byName(name: string): AnyLayout {
  const hit = ALL.find(([, l]) => l.name === name);
  assert.ok(hit, `no exported layout named ${name}`);
  return hit[1];
}

function fieldOf(layout: AnyLayout, name: string): FieldDef {
  const f = layout.fields.find((x) => x.name === name);
  assert.ok(f, `${layout.name} has no field ${name}`);
  return f;
}

test('the layouts module exports every record body and the other structures', () => {
  assert.ok(ALL.length >= 25, `only ${ALL.length} layouts exported`);
  const names = new Set(ALL.map(([, l]) => l.name));
  for (const n of RECORD_BODIES) assert.ok(names.has(n), `missing layout for record body ${n}`);
  for (const n of ['IGVM_FIXED_HEADER', 'IGVM_FIXED_HEADER_V2', 'IGVM_VHS_SNP_ID_BLOCK_SIGNATURE', 'IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY', 'IGVM_VHS_MEMORY_MAP_ENTRY', 'IgvmNativeVpContextX64', 'IgvmVpContextAArch64Cca', 'VbsVpContextRegister', 'VbsVpContextHeader', 'SevVmsa'])
    assert.ok(names.has(n), `missing layout ${n}`);
  // Structure names are unique (two exports of one name would make the checks below ambiguous).
  assert.equal(names.size, ALL.length, 'two exported layouts share a name');
});

test('every layout size equals FORMAT.md §14', () => {
  for (const [exp, l] of ALL) {
    const want = SPEC_SIZE[l.name];
    assert.ok(want !== undefined, `layout ${exp} (${l.name}) is not a structure of FORMAT.md §14 / Appendix A`);
    assert.equal(l.size, want, `${l.name} size`);
  }
});

test('fields have unique names, lie inside the structure and do not overlap', () => {
  for (const [, l] of ALL) {
    assert.ok(l.fields.length > 0, `${l.name} has no fields`);
    const names = new Set<string>();
    for (const f of l.fields) {
      assert.ok(!names.has(f.name), `${l.name}.${f.name} declared twice`);
      names.add(f.name);
      assert.ok(Number.isInteger(f.offset) && f.offset >= 0, `${l.name}.${f.name} offset`);
      assert.ok(sizeOf(f) > 0, `${l.name}.${f.name} has size 0`);
      assert.ok(f.offset + sizeOf(f) <= l.size, `${l.name}.${f.name} ends past the structure`);
      assert.equal(l.fieldSize(f.name), sizeOf(f), `${l.name}.fieldSize(${f.name})`);
    }
    const sorted = [...l.fields].sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < sorted.length; i++) {
      const prev = sorted[i - 1]!;
      const cur = sorted[i]!;
      assert.ok(prev.offset + sizeOf(prev) <= cur.offset, `${l.name}: ${prev.name} [0x${prev.offset.toString(16)}+${sizeOf(prev)}] overlaps ${cur.name} at 0x${cur.offset.toString(16)}`);
    }
  }
});

test('record bodies and the other byte-exact structures are covered by fields from 0 to size', () => {
  for (const name of FULLY_COVERED) {
    const l = byName(name);
    const covered = new Uint8Array(l.size);
    for (const f of l.fields) covered.fill(1, f.offset, f.offset + sizeOf(f));
    const hole = covered.indexOf(0);
    assert.equal(hole, -1, `${name}: byte 0x${hole.toString(16)} is not covered by any field`);
  }
});

test('offsets spot-checked against FORMAT.md Appendix A', () => {
  const cases: [string, string, number, number][] = [
    ['IGVM_VHS_SNP_ID_BLOCK', 'id_public_key', 0x0f8, 152],
    ['IGVM_VHS_SNP_ID_BLOCK', 'author_public_key', 0x220, 152],
    ['IGVM_VHS_SNP_ID_BLOCK', 'guest_svn', 0x05c, 4],
    ['IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY', 'qy', 0x050, 72],
    ['IGVM_VHS_SNP_ID_BLOCK_SIGNATURE', 's_comp', 0x048, 72],
    ['SevVmsa', 'sev_features', 0x3b0, 8],
    ['SevVmsa', 'rip', 0x178, 8],
    ['SevVmsa', 'xcr0', 0x3e8, 8],
    ['SevVmsa', 'mxcsr', 0x408, 4],
    ['IgvmNativeVpContextX64', 'cr3', 0x0d0, 8],
    ['IgvmNativeVpContextX64', 'gdtr_limit', 0x09e, 2],
    ['IgvmNativeVpContextX64', 'efer', 0x0e0, 8],
    ['IgvmVpContextAArch64Cca', 'pc', 0x040, 8],
    ['VbsVpContextRegister', 'register_name', 0x001, 4],
    ['VbsVpContextRegister', 'register_value', 0x010, 16],
    ['IGVM_VHS_VP_CONTEXT', 'vp_index', 0x010, 2],
    ['IGVM_VHS_PAGE_DATA', 'file_offset', 0x00c, 4],
    ['IGVM_VHS_PAGE_DATA', 'data_type', 0x014, 2],
    ['IGVM_VHS_RELOCATABLE_REGION', 'maximum_relocation_gpa', 0x028, 8],
    ['IGVM_VHS_CCA_POLICY', 'hash_algorithm', 0x018, 1],
    ['IGVM_VHS_CCA_POLICY', 'reserved2', 0x01a, 6],
    ['IGVM_VHS_CORIM_DATA', 'size_bytes', 0x008, 4],
    ['IGVM_VHS_VBS_MEASUREMENT', 'public_key', 0x160, 512],
    ['IGVM_VHS_MEMORY_MAP_ENTRY', 'entry_type', 0x010, 2],
    ['IGVM_VHS_REQUIRED_MEMORY', 'flags', 0x010, 4],
    ['IGVM_FIXED_HEADER_V2', 'page_size', 0x01c, 4],
    ['IGVM_FIXED_HEADER', 'checksum', 0x014, 4],
  ];
  for (const [struct, name, offset, size] of cases) {
    const f = fieldOf(byName(struct), name);
    assert.equal(f.offset, offset, `${struct}.${name} offset`);
    assert.equal(sizeOf(f), size, `${struct}.${name} size`);
  }
});

/** Appendix A rows: struct name → size and field → [offset, size]. */
function appendixA(): Map<string, { size: number; fields: Map<string, [number, number]> }> | undefined {
  const path = join(SHARED, 'spec', 'FORMAT.md');
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf('## Appendix A');
  assert.ok(start >= 0, 'FORMAT.md has no Appendix A');
  const out = new Map<string, { size: number; fields: Map<string, [number, number]> }>();
  for (const line of text.slice(start).split('\n')) {
    const m = /^\| (\w+) \((\d+) B\) \| (\w+) \| 0x([0-9A-Fa-f]+) \| (\d+) \|$/.exec(line.trim());
    if (!m) continue;
    const [, struct, size, field, off, fsize] = m;
    const entry = out.get(struct!) ?? { size: Number(size), fields: new Map<string, [number, number]>() };
    entry.fields.set(field!, [parseInt(off!, 16), Number(fsize)]);
    out.set(struct!, entry);
  }
  return out;
}

test('every field of every layout matches FORMAT.md Appendix A (offset and size)', (t) => {
  const table = appendixA();
  if (!table) {
    t.skip('FORMAT.md not available');
    return;
  }
  assert.ok(table.size >= 25, `parsed only ${table.size} structures from Appendix A`);
  const notInAppendix: string[] = [];
  for (const [, l] of ALL) {
    const spec = table.get(l.name);
    if (!spec) {
      notInAppendix.push(l.name);
      continue;
    }
    assert.equal(l.size, spec.size, `${l.name} size vs Appendix A`);
    for (const f of l.fields) {
      const want: [number, number] | undefined = spec.fields.get(f.name);
      assert.ok(want, `${l.name}.${f.name} is not a field in Appendix A`);
      assert.deepEqual([f.offset, sizeOf(f)], want, `${l.name}.${f.name} [offset, size] vs Appendix A`);
    }
    // Byte-exact layouts declare every field the crate has, not just a subset.
    if (FULLY_COVERED.includes(l.name)) {
      for (const name of spec.fields.keys()) assert.ok(l.fields.some((f) => f.name === name), `${l.name} lacks Appendix A field ${name}`);
    }
  }
  // CORIM_DATA is documented in §5 only.
  assert.deepEqual(notInAppendix, ['IGVM_VHS_CORIM_DATA']);
});

// ---- read/write properties --------------------------------------------------------------------

function randomValue(f: FieldDef, next: () => number): number | bigint | Uint8Array {
  const byte = () => Math.floor(next() * 256);
  switch (f.kind) {
    case 'u8': return byte();
    case 'u16': return Math.floor(next() * 0x10000);
    case 'u32': return Math.floor(next() * 0x1_0000_0000);
    case 'u64': return (BigInt(Math.floor(next() * 0x1_0000_0000)) << 32n) | BigInt(Math.floor(next() * 0x1_0000_0000));
    case 'bytes': return Uint8Array.from({ length: f.size ?? 0 }, byte);
  }
}

function randomBytes(n: number, next: () => number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
}

test('read(write(x)) == x for random values of every layout (fixed seed)', () => {
  const next = rng(0x1a70c7);
  for (const [, l] of ALL) {
    for (let iter = 0; iter < 40; iter++) {
      const value: Record<string, unknown> = {};
      for (const f of l.fields) value[f.name] = randomValue(f, next);
      // Write at an odd offset into a buffer of random bytes: the layout must honour the base offset
      // and must not touch anything outside [at, at + size).
      const at = 1 + Math.floor(next() * 7);
      const before = randomBytes(at + l.size + 9, next);
      const w = new ByteWriter(before.length);
      w.put(0, before);
      l.write(w, at, value);
      assert.deepEqual(w.bytes.subarray(0, at), before.subarray(0, at), `${l.name}: bytes before the structure changed`);
      assert.deepEqual(w.bytes.subarray(at + l.size), before.subarray(at + l.size), `${l.name}: bytes after the structure changed`);
      const back = l.read(new ByteReader(w.bytes), at);
      assert.deepEqual(Object.keys(back).sort(), Object.keys(value).sort(), `${l.name}: read returns the declared fields`);
      for (const f of l.fields) {
        const got = back[f.name];
        const want = value[f.name];
        if (want instanceof Uint8Array) {
          assert.ok(got instanceof Uint8Array, `${l.name}.${f.name} reads back as bytes`);
          assert.deepEqual(Array.from(got), Array.from(want), `${l.name}.${f.name}`);
        } else {
          assert.equal(typeof got, typeof want, `${l.name}.${f.name} type`);
          assert.equal(got, want, `${l.name}.${f.name}`);
        }
      }
    }
  }
});

test('write(read(bytes)) == bytes for the byte-exact layouts (random bytes, fixed seed)', () => {
  const next = rng(0xb17e);
  for (const name of FULLY_COVERED) {
    const l = byName(name);
    for (let iter = 0; iter < 40; iter++) {
      const src = randomBytes(l.size, next);
      const value = l.read(new ByteReader(src), 0);
      const w = new ByteWriter(l.size);
      l.write(w, 0, value);
      assert.deepEqual(w.bytes, src, `${name}: write(read(bytes)) differs`);
    }
  }
});

test('each field is encoded little-endian at exactly its offset and width', () => {
  for (const [, l] of ALL) {
    const zero = l.read(new ByteReader(new Uint8Array(l.size)), 0);
    for (const f of l.fields) {
      const size = sizeOf(f);
      // A distinct value per byte: 0x01, 0x02, ... (little-endian integer or raw bytes).
      const pattern = Uint8Array.from({ length: size }, (_, i) => i + 1);
      let v: number | bigint | Uint8Array;
      if (f.kind === 'bytes') v = pattern;
      else if (f.kind === 'u64') v = pattern.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
      else v = pattern.reduceRight((acc, b) => acc * 256 + b, 0);
      const w = new ByteWriter(l.size);
      l.write(w, 0, { ...zero, [f.name]: v });
      const expected = new Uint8Array(l.size);
      expected.set(pattern, f.offset);
      assert.deepEqual(w.bytes, expected, `${l.name}.${f.name} (${f.kind}) is not written LE at 0x${f.offset.toString(16)}`);
    }
  }
});

test('a bytes field refuses a value longer than the field', () => {
  const l = byName('IGVM_VHS_SNP_ID_BLOCK');
  const value = l.read(new ByteReader(new Uint8Array(l.size)), 0);
  assert.throws(() => l.write(new ByteWriter(l.size + 64), 0, { ...value, ld: new Uint8Array(49) }));
});
