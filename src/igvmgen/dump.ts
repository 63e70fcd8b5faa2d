// igvmgen -d text dump (IGVMGEN.md §12).
//
// Reproduces, byte for byte, the stdout of the original Python `igvmgen -d FILE`: one line for the
// fixed header, one line per variable header (two for a VP_CONTEXT, the second one followed by the
// VMSA it points at), joined with "\n", plus the final "\n" that Python's print adds.
//
// The structures below are declared once, as tables of (name, kind, offset[, size]) in the Python
// declaration order and with the Python field names, and formatted generically (§12.2).
//
// Differences from the original, on purpose:
// * Where the original crashes with "ValueError: Buffer size too small" (a structure that does not
//   fit in the file), `dumpIgvmgen` throws an IgvmError with code 'dump-truncated' naming the
//   structure and the offset; it never throws anything else (every read is bounds-checked first).
// * IGVM_VHT_MMIO_RANGES (0x30A): the original prints the Python reprs of its two ctypes
//   sub-structures (`<… object at 0x7f…>`, an address that changes every run), which cannot be
//   reproduced. We print the two ranges decoded as nested structures instead:
//   `IGVM_VHT_MMIO_RANGES(OFF){ MmioRanges:[{ StartingGpaPageNumber:0x… NumberOfPages:0x… }, { … }] }`.
//   igvmgen never writes this type, so no reference output contains it.
// * A dump whose text would exceed the longest string the JavaScript engine can hold (only possible
//   for huge hand-made inputs) throws IgvmError 'dump-too-large' instead of a RangeError.
import { ByteReader } from '../bytes.js';
import { IgvmError } from '../errors.js';

// ---------------------------------------------------------------------------------------------
// Structure tables

export type DumpIntKind = 'u8' | 'u16' | 'u32' | 'u64';

/** One printed field. Offsets are relative to the start of the enclosing structure. */
export type DumpField =
  | { readonly name: string; readonly kind: DumpIntKind; readonly offset: number }
  /** Byte array, printed as a Python list of decimal numbers. */
  | { readonly name: string; readonly kind: 'bytes'; readonly offset: number; readonly size: number }
  /** Nested structure, printed as `name: { … }`. */
  | { readonly name: string; readonly kind: 'struct'; readonly offset: number; readonly struct: DumpStruct }
  /** Fixed-length array of structures, printed as `name:[{ … }, { … }]`. */
  | { readonly name: string; readonly kind: 'structs'; readonly offset: number; readonly struct: DumpStruct; readonly count: number }
  /** Bit field of the little-endian u64 at `offset`: `width` bits starting at bit `bit`. */
  | { readonly name: string; readonly kind: 'bits'; readonly offset: number; readonly bit: number; readonly width: number };

export interface DumpStruct {
  /** The C/ctypes structure name (used in error messages). */
  readonly name: string;
  readonly size: number;
  readonly fields: readonly DumpField[];
}

const INT_SIZE: Record<DumpIntKind, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };

function fieldSize(f: DumpField): number {
  switch (f.kind) {
    case 'bytes': return f.size;
    case 'struct': return f.struct.size;
    case 'structs': return f.struct.size * f.count;
    case 'bits': return 8;
    default: return INT_SIZE[f.kind];
  }
}

/** Declare a printed structure; checks at load time that every field lies inside it. */
function struct(name: string, size: number, fields: readonly DumpField[]): DumpStruct {
  for (const f of fields) {
    if (f.offset < 0 || f.offset + fieldSize(f) > size) throw new Error(`${name}.${f.name} exceeds the structure size`);
    if (f.kind === 'bits' && (f.bit < 0 || f.width < 1 || f.bit + f.width > 64)) throw new Error(`${name}.${f.name}: bad bit field`);
  }
  return { name, size, fields };
}

const u8 = (name: string, offset: number) => ({ name, kind: 'u8', offset }) as const;
const u16 = (name: string, offset: number) => ({ name, kind: 'u16', offset }) as const;
const u32 = (name: string, offset: number) => ({ name, kind: 'u32', offset }) as const;
const u64 = (name: string, offset: number) => ({ name, kind: 'u64', offset }) as const;
const bytes = (name: string, offset: number, size: number) => ({ name, kind: 'bytes', offset, size }) as const;
const nested = (name: string, offset: number, s: DumpStruct) => ({ name, kind: 'struct', offset, struct: s }) as const;
const bits = (name: string, offset: number, bit: number, width: number) => ({ name, kind: 'bits', offset, bit, width }) as const;

export const IGVM_FIXED_HEADER = struct('IGVM_FIXED_HEADER', 24, [
  u32('Magic', 0x00), u32('FormatVersion', 0x04), u32('VariableHeaderOffset', 0x08),
  u32('VariableHeaderSize', 0x0c), u32('TotalFileSize', 0x10), u32('Checksum', 0x14),
]);

/** The TLV prefix; also the whole line of an unknown type. */
export const IGVM_VHS_VARIABLE_HEADER = struct('IGVM_VHS_VARIABLE_HEADER', 8, [u32('Type', 0x0), u32('Length', 0x4)]);

const SUPPORTED_PLATFORM = struct('IGVM_VHS_SUPPORTED_PLATFORM', 16, [
  u32('CompatibilityMask', 0x0), u8('HighestVtl', 0x4), u8('PlatformType', 0x5), u16('PlatformVersion', 0x6),
  u64('SharedGPABoundary', 0x8),
]);

const GUEST_POLICY = struct('IGVM_VHS_GUEST_POLICY', 16, [u64('Policy', 0x0), u32('CompatibilityMask', 0x8), u32('Reserved', 0xc)]);

const PARAMETER_AREA = struct('IGVM_VHS_PARAMETER_AREA', 16, [
  u64('NumberOfBytes', 0x0), u32('ParameterAreaIndex', 0x8), u32('FileOffset', 0xc),
]);

const PAGE_DATA = struct('IGVM_VHS_PAGE_DATA', 24, [
  u64('GPA', 0x00), u32('CompatibilityMask', 0x08), u32('FileOffset', 0x0c), u32('Flags', 0x10),
  u16('DataType', 0x14), u16('Reserved', 0x16),
]);

const PARAMETER_INSERT = struct('IGVM_VHS_PARAMETER_INSERT', 16, [
  u64('GPA', 0x0), u32('CompatibilityMask', 0x8), u32('ParameterAreaIndex', 0xc),
]);

export const VP_CONTEXT = struct('IGVM_VHS_VP_CONTEXT', 20, [
  u64('GPA', 0x00), u32('CompatibilityMask', 0x08), u32('FileOffset', 0x0c), u16('VpIndex', 0x10), u16('Reserved', 0x12),
]);

const REQUIRED_MEMORY = struct('IGVM_VHS_REQUIRED_MEMORY', 24, [
  u64('GPA', 0x00), u32('CompatibilityMask', 0x08), u32('NumberOfBytes', 0x0c), u32('Flags', 0x10), u32('Reserved', 0x14),
]);

const PARAMETER = struct('IGVM_VHS_PARAMETER', 8, [u32('ParameterAreaIndex', 0x0), u32('ByteOffset', 0x4)]);

const MEMORY_RANGE = struct('IGVM_VHS_MEMORY_RANGE', 16, [u64('StartingGpaPageNumber', 0x0), u64('NumberOfPages', 0x8)]);

const MMIO_RANGES = struct('IGVM_VHS_MMIO_RANGES', 32, [
  { name: 'MmioRanges', kind: 'structs', offset: 0x0, struct: MEMORY_RANGE, count: 2 },
]);

const SNP_ID_BLOCK_SIGNATURE = struct('IGVM_VHS_SNP_ID_BLOCK_SIGNATURE', 144, [bytes('R', 0x00, 72), bytes('S', 0x48, 72)]);

const SNP_ID_BLOCK_PUBLIC_KEY = struct('IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY', 152, [
  u32('Curve', 0x00), u32('Reserved', 0x04), bytes('Qx', 0x08, 72), bytes('Qy', 0x50, 72),
]);

const SNP_ID_BLOCK = struct('IGVM_VHS_SNP_ID_BLOCK', 696, [
  u32('CompatibilityMask', 0x000), u8('AuthorKeyEnabled', 0x004), bytes('Reserved', 0x005, 3), bytes('Ld', 0x008, 48),
  bytes('FamilyId', 0x038, 16), bytes('ImageId', 0x048, 16), u32('Version', 0x058), u32('GuestSvn', 0x05c),
  u32('IdKeyAlgorithm', 0x060), u32('AuthorKeyAlgorithm', 0x064),
  nested('IdKeySignature', 0x068, SNP_ID_BLOCK_SIGNATURE), nested('IdPublicKey', 0x0f8, SNP_ID_BLOCK_PUBLIC_KEY),
  nested('AuthorKeySignature', 0x190, SNP_ID_BLOCK_SIGNATURE), nested('AuthorPublicKey', 0x220, SNP_ID_BLOCK_PUBLIC_KEY),
]);

const ERROR_RANGE = struct('IGVM_VHS_ERROR_RANGE', 16, [u64('GPA', 0x0), u32('CompatibilityMask', 0x8), u32('SizeBytes', 0xc)]);

// The VMSA as igvmgen declares it: Linux `struct vmcb_save_area` of the SEV-ES era (1032 bytes, §12.3).
const VMCB_SEG = struct('vmcb_seg', 16, [u16('selector', 0x0), u16('attrib', 0x2), u32('limit', 0x4), u64('base', 0x8)]);

/** The bits of SEV_FEATURES (the `_0` bit-field struct inside the `_0` union at VMSA 0x3B0). */
const SEV_FEATURE_BITS = struct('sev_features_bits', 8, [
  bits('sev_feature_snp', 0, 0, 1), bits('sev_feature_vtom', 0, 1, 1), bits('sev_feature_reflectvc', 0, 2, 1),
  bits('sev_feature_restrict_injection', 0, 3, 1), bits('sev_feature_alternate_injection', 0, 4, 1),
  bits('sev_feature_full_debug', 0, 5, 1), bits('sev_feature_reserved1', 0, 6, 1),
  bits('sev_feature_snpbtb_isolation', 0, 7, 1), bits('sev_feature_resrved2', 0, 8, 56),
]);

const SEV_FEATURES_UNION = struct('sev_features_union', 8, [u64('sev_features', 0), nested('_0', 0, SEV_FEATURE_BITS)]);

const SEGMENTS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdtr', 'ldtr', 'idtr', 'tr'] as const;

export const VMCB_SAVE_AREA = struct('vmcb_save_area', 0x408, [
  ...SEGMENTS.map((s, i) => nested(s, i * 16, VMCB_SEG)),
  bytes('reserved_1', 0x0a0, 42), u8('vmpl', 0x0ca), u8('cpl', 0x0cb), bytes('reserved_2', 0x0cc, 4),
  u64('efer', 0x0d0), bytes('reserved_3', 0x0d8, 112),
  u64('cr4', 0x148), u64('cr3', 0x150), u64('cr0', 0x158), u64('dr7', 0x160), u64('dr6', 0x168),
  u64('rflags', 0x170), u64('rip', 0x178), bytes('reserved_4', 0x180, 88),
  u64('rsp', 0x1d8), u64('s_cet', 0x1e0), u64('ssp', 0x1e8), u64('isst_addr', 0x1f0), u64('rax', 0x1f8),
  u64('star', 0x200), u64('lstar', 0x208), u64('cstar', 0x210), u64('sfmask', 0x218), u64('kernel_gs_base', 0x220),
  u64('sysenter_cs', 0x228), u64('sysenter_esp', 0x230), u64('sysenter_eip', 0x238), u64('cr2', 0x240),
  bytes('reserved_5', 0x248, 32),
  u64('g_pat', 0x268), u64('dbgctl', 0x270), u64('br_from', 0x278), u64('br_to', 0x280),
  u64('last_excp_from', 0x288), u64('last_excp_to', 0x290), bytes('reserved_7', 0x298, 72),
  u32('spec_ctrl', 0x2e0), bytes('reserved_7b', 0x2e4, 4), u32('pkru', 0x2e8), bytes('reserved_7a', 0x2ec, 20),
  u64('reserved_8', 0x300), u64('rcx', 0x308), u64('rdx', 0x310), u64('rbx', 0x318), u64('reserved_9', 0x320),
  u64('rbp', 0x328), u64('rsi', 0x330), u64('rdi', 0x338),
  u64('r8', 0x340), u64('r9', 0x348), u64('r10', 0x350), u64('r11', 0x358),
  u64('r12', 0x360), u64('r13', 0x368), u64('r14', 0x370), u64('r15', 0x378),
  bytes('reserved_10', 0x380, 16),
  u64('sw_exit_code', 0x390), u64('sw_exit_info_1', 0x398), u64('sw_exit_info_2', 0x3a0), u64('sw_scratch', 0x3a8),
  nested('_0', 0x3b0, SEV_FEATURES_UNION),
  u64('vintr_ctrl', 0x3b8), u64('guest_error_code', 0x3c0), u64('virtual_tom', 0x3c8), u64('tlb_id', 0x3d0),
  u64('pcpu_id', 0x3d8), u64('event_inject', 0x3e0), u64('xcr0', 0x3e8), bytes('valid_bitmap', 0x3f0, 16),
  u64('x87_state_gpa', 0x400),
]);

export const VP_CONTEXT_TYPE = 0x304;

/** Variable header types igvmgen knows: printed name and body structure (§12.2 table). */
export const KNOWN_TYPES: ReadonlyMap<number, { readonly name: string; readonly struct: DumpStruct }> = new Map([
  [0x001, { name: 'IGVM_VHT_SUPPORTED_PLATFORM', struct: SUPPORTED_PLATFORM }],
  [0x101, { name: 'IGVM_VHT_SNP_POLICY', struct: GUEST_POLICY }],
  [0x301, { name: 'IGVM_VHT_PARAMETER_AREA', struct: PARAMETER_AREA }],
  [0x302, { name: 'IGVM_VHT_PAGE_DATA', struct: PAGE_DATA }],
  [0x303, { name: 'IGVM_VHT_PARAMETER_INSERT', struct: PARAMETER_INSERT }],
  [0x304, { name: 'IGVM_VHT_VP_CONTEXT', struct: VP_CONTEXT }],
  [0x305, { name: 'IGVM_VHT_REQUIRED_MEMORY', struct: REQUIRED_MEMORY }],
  [0x307, { name: 'IGVM_VHT_VP_COUNT_PARAMETER', struct: PARAMETER }],
  [0x308, { name: 'IGVM_VHT_SRAT', struct: PARAMETER }],
  [0x309, { name: 'IGVM_VHT_MADT', struct: PARAMETER }],
  [0x30a, { name: 'IGVM_VHT_MMIO_RANGES', struct: MMIO_RANGES }],
  [0x30b, { name: 'IGVM_VHT_SNP_ID_BLOCK', struct: SNP_ID_BLOCK }],
  [0x30c, { name: 'IGVM_VHT_MEMORY_MAP', struct: PARAMETER }],
  [0x30d, { name: 'IGVM_VHT_ERROR_RANGE', struct: ERROR_RANGE }],
  [0x30e, { name: 'IGVM_VHT_COMMAND_LINE', struct: PARAMETER }],
]);

// ---------------------------------------------------------------------------------------------
// Formatting helpers (§12.2)

/** Python hex() of an unsigned integer: `0x0`, `0x3001f`. */
export function pyHex(value: number | bigint): string {
  return '0x' + value.toString(16);
}

/** Python hex() of the little-endian u64 at `offset`, without BigInt in the common case. */
export function hexU64(r: ByteReader, offset: number): string {
  const lo = r.u32(offset);
  const hi = r.u32(offset + 4);
  if (hi === 0) return '0x' + lo.toString(16);
  return '0x' + hi.toString(16) + lo.toString(16).padStart(8, '0');
}

const zeroListCache = new Map<number, string>();

/** Python list repr of a byte array: `[1, 0, 0]`, `[]`. */
export function pyByteList(data: Uint8Array): string {
  const n = data.length;
  let zero = true;
  for (let i = 0; i < n; i++) {
    if (data[i] !== 0) {
      zero = false;
      break;
    }
  }
  if (zero) {
    let s = zeroListCache.get(n);
    if (s === undefined) {
      s = '[' + new Array<string>(n).fill('0').join(', ') + ']';
      zeroListCache.set(n, s);
    }
    return s;
  }
  const parts = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = String(data[i]);
  return '[' + parts.join(', ') + ']';
}

/** The `(OFF)` part after a header name: lower-case hex, no `0x`, at least two digits. */
export function pyOffset(offset: number): string {
  return offset.toString(16).padStart(2, '0');
}

/** The line printed for a variable header of a type igvmgen does not know. */
export function unknownTypeLine(type: number, length: number, offset: number): string {
  return `{ Type:${pyHex(type)} Length:${pyHex(length)} }(${pyOffset(offset)})`;
}

function bitField(r: ByteReader, offset: number, bit: number, width: number): string {
  if (bit + width <= 32) {
    const v = width === 32 ? r.u32(offset) : (r.u32(offset) >>> bit) & ((1 << width) - 1);
    return '0x' + (v >>> 0).toString(16);
  }
  const v = (r.u64(offset) >> BigInt(bit)) & ((1n << BigInt(width)) - 1n);
  return '0x' + v.toString(16);
}

/**
 * Format the structure at absolute `offset` as `{ name:value … }`. The caller has checked that
 * `s.size` bytes are available there.
 */
export function formatStruct(r: ByteReader, s: DumpStruct, offset: number): string {
  const parts: string[] = ['{'];
  for (const f of s.fields) {
    const at = offset + f.offset;
    switch (f.kind) {
      case 'u8': parts.push(f.name + ':0x' + r.u8(at).toString(16)); break;
      case 'u16': parts.push(f.name + ':0x' + r.u16(at).toString(16)); break;
      case 'u32': parts.push(f.name + ':0x' + r.u32(at).toString(16)); break;
      case 'u64': parts.push(f.name + ':' + hexU64(r, at)); break;
      case 'bytes': parts.push(f.name + ':' + pyByteList(r.slice(at, f.size))); break;
      case 'struct': parts.push(f.name + ': ' + formatStruct(r, f.struct, at)); break;
      case 'structs': {
        const items: string[] = [];
        for (let i = 0; i < f.count; i++) items.push(formatStruct(r, f.struct, at + i * f.struct.size));
        parts.push(f.name + ':[' + items.join(', ') + ']');
        break;
      }
      case 'bits': parts.push(f.name + ':' + bitField(r, at, f.bit, f.width)); break;
    }
  }
  parts.push('}');
  return parts.join(' ');
}

// ---------------------------------------------------------------------------------------------
// The dump

function need(r: ByteReader, s: DumpStruct, offset: number, context?: string): void {
  if (r.has(offset, s.size)) return;
  const left = Math.max(0, r.length - offset);
  const where = context === undefined ? '' : ` (${context})`;
  throw new IgvmError(
    'dump-truncated',
    `file is truncated: ${s.name} at offset ${pyHex(offset)} needs ${s.size} bytes, ${left} left${where}`,
    { offset, path: s.name },
  );
}

/** Longest string V8 can build; a dump longer than this cannot be returned. */
// V8's maximum string length (2^29 - 24 UTF-16 units on 64-bit builds); browsers are similar or larger.
const MAX_TEXT = 2 ** 29 - 24;

/**
 * The exact stdout of the original `igvmgen -d FILE` for the file `bytes`, final newline included.
 * Throws IgvmError 'dump-truncated' where the original crashes on a structure that does not fit.
 */
export function dumpIgvmgen(bytes: Uint8Array): string {
  const r = new ByteReader(bytes);
  const lines: string[] = [];
  let total = 0;
  const emit = (line: string): void => {
    total += line.length + 1;
    if (total > MAX_TEXT) {
      throw new IgvmError('dump-too-large', `the dump text would be longer than ${MAX_TEXT} characters`, {});
    }
    lines.push(line);
  };

  need(r, IGVM_FIXED_HEADER, 0);
  emit(formatStruct(r, IGVM_FIXED_HEADER, 0));
  const start = r.u32(0x08);
  const end = start + r.u32(0x0c);

  // Each iteration reads 8 bytes at `offset` (which must lie inside the file) and advances by at
  // least 8, so the loop runs at most length/8 times whatever the header fields say.
  let offset = start;
  while (offset < end) {
    need(r, IGVM_VHS_VARIABLE_HEADER, offset);
    const type = r.u32(offset);
    const length = r.u32(offset + 4);
    const known = KNOWN_TYPES.get(type);
    if (known === undefined) {
      emit(unknownTypeLine(type, length, offset));
    } else {
      const body = offset + 8;
      const where = `${known.name}(${pyOffset(offset)})`;
      need(r, known.struct, body, `header at ${pyHex(offset)}`);
      const text = formatStruct(r, known.struct, body);
      emit(where + text);
      if (type === VP_CONTEXT_TYPE) {
        const vmsa = r.u32(body + 0x0c);
        need(r, VMCB_SAVE_AREA, vmsa, `VMSA of the ${known.name} at ${pyHex(offset)}`);
        emit(where + text + formatStruct(r, VMCB_SAVE_AREA, vmsa));
      }
    }
    // The body length rounded up to the 8-byte record alignment (§12.1 walk rule).
    offset += 8 + Math.ceil(length / 8) * 8;
  }
  return lines.join('\n') + '\n';
}
