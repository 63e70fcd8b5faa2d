// Minimal AML encoder (ACPI 6.3 §20.2: name strings, data objects, PkgLength, Scope/Device/Method/Name/Package/Buffer; §6.4: small resource descriptors).
import { concatBytes } from '../bytes.js';

/** One encoded AML term (a byte string ready to be concatenated into a TermList). */
export type Aml = Uint8Array;

// Opcodes (ACPI 6.3 §20.3).
export const ZERO_OP = 0x00;
export const ONE_OP = 0x01;
export const NAME_OP = 0x08;
export const BYTE_PREFIX = 0x0a;
export const WORD_PREFIX = 0x0b;
export const DWORD_PREFIX = 0x0c;
export const STRING_PREFIX = 0x0d;
export const QWORD_PREFIX = 0x0e;
export const SCOPE_OP = 0x10;
export const BUFFER_OP = 0x11;
export const PACKAGE_OP = 0x12;
export const METHOD_OP = 0x14;
export const DUAL_NAME_PREFIX = 0x2e;
export const MULTI_NAME_PREFIX = 0x2f;
export const EXT_OP_PREFIX = 0x5b;
export const DEVICE_OP = 0x82; // after EXT_OP_PREFIX
export const ROOT_CHAR = 0x5c;
export const PARENT_PREFIX_CHAR = 0x5e;
export const RETURN_OP = 0xa4;

/** Largest value a PkgLength can hold (28 bits). */
export const PKG_LENGTH_MAX = 0x0fffffff;

/** Concatenate AML fragments. */
export const concat = concatBytes;

/**
 * Raw PkgLength encoding of `value` (the value already counts the PkgLength bytes themselves).
 * 1 byte for 0..63; otherwise the lead byte's bits 7–6 give the number of following bytes (1–3),
 * its bits 3–0 hold the low nibble and each following byte the next 8 bits.
 */
export function encodePkgLength(value: number): Uint8Array {
  if (!Number.isInteger(value) || value < 0 || value > PKG_LENGTH_MAX) {
    throw new RangeError(`PkgLength ${value} out of range 0..0x${PKG_LENGTH_MAX.toString(16)}`);
  }
  if (value <= 0x3f) return Uint8Array.of(value);
  const follow = value <= 0xfff ? 1 : value <= 0xfffff ? 2 : 3;
  const out = new Uint8Array(1 + follow);
  out[0] = (follow << 6) | (value & 0x0f);
  for (let i = 0; i < follow; i++) out[1 + i] = (value >>> (4 + 8 * i)) & 0xff;
  return out;
}

/** PkgLength followed by `body`, with the length covering the PkgLength bytes and the body. */
export function pkg(body: Uint8Array): Uint8Array {
  // Pick the smallest encoding whose total (encoding bytes + body) it can represent.
  for (let n = 1; n <= 4; n++) {
    const total = body.length + n;
    const limit = n === 1 ? 0x3f : n === 2 ? 0xfff : n === 3 ? 0xfffff : PKG_LENGTH_MAX;
    if (total <= limit) return concat(encodePkgLength(total), body);
  }
  throw new RangeError(`AML package body of ${body.length} bytes is too large`);
}

/** Integer data object with the shortest encoding: ZeroOp, OneOp, Byte/Word/DWord/QWordPrefix. */
export function int(value: number | bigint): Uint8Array {
  const v = BigInt(value);
  if (v < 0n || v > 0xffffffffffffffffn) throw new RangeError(`AML integer ${v} out of range`);
  if (v === 0n) return Uint8Array.of(ZERO_OP);
  if (v === 1n) return Uint8Array.of(ONE_OP);
  const size = v <= 0xffn ? 1 : v <= 0xffffn ? 2 : v <= 0xffffffffn ? 4 : 8;
  const prefix = size === 1 ? BYTE_PREFIX : size === 2 ? WORD_PREFIX : size === 4 ? DWORD_PREFIX : QWORD_PREFIX;
  const out = new Uint8Array(1 + size);
  out[0] = prefix;
  for (let i = 0; i < size; i++) out[1 + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** String data object: StringPrefix, ASCII bytes (0x01–0x7F), NUL. */
export function str(s: string): Uint8Array {
  const out = new Uint8Array(s.length + 2);
  out[0] = STRING_PREFIX;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x01 || c > 0x7f) throw new RangeError(`AML string ${JSON.stringify(s)}: character ${i} is not ASCII`);
    out[1 + i] = c;
  }
  return out;
}

/** A 4-byte NameSeg: a lead character A–Z or '_', then A–Z, 0–9 or '_', padded with '_'. */
export function nameSeg(seg: string): Uint8Array {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new RangeError(`invalid AML name segment ${JSON.stringify(seg)}`);
  const padded = seg.padEnd(4, '_');
  return Uint8Array.from(padded, (c) => c.charCodeAt(0));
}

/**
 * NameString from ASL-style path text: optional '\' (root) or '^'… (parent) prefix, then
 * segments separated by '.' ("\_SB.COM1", "_HID", "^FOO"). An empty path is the NullName.
 */
export function nameString(path: string): Uint8Array {
  const prefix: number[] = [];
  let rest = path;
  if (rest.startsWith('\\')) {
    prefix.push(ROOT_CHAR);
    rest = rest.slice(1);
  } else {
    while (rest.startsWith('^')) {
      prefix.push(PARENT_PREFIX_CHAR);
      rest = rest.slice(1);
    }
  }
  const segs = rest === '' ? [] : rest.split('.').map(nameSeg);
  if (segs.length > 255) throw new RangeError(`AML name ${path} has more than 255 segments`);
  const head =
    segs.length === 0 ? [0x00] : segs.length === 1 ? [] : segs.length === 2 ? [DUAL_NAME_PREFIX] : [MULTI_NAME_PREFIX, segs.length];
  return concat(Uint8Array.from(prefix), Uint8Array.from(head), ...segs);
}

/**
 * EISA ID compression ("PNP0501" → 0x0105D041): three letters as 5-bit values (letter − 0x40)
 * and four hex digits, stored big-endian in the four bytes of a DWORD.
 */
export function eisaId(id: string): number {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new RangeError(`invalid EISA ID ${JSON.stringify(id)}`);
  const l = (i: number) => id.charCodeAt(i) - 0x40;
  const vendor = (l(0) << 10) | (l(1) << 5) | l(2);
  const product = parseInt(id.slice(3), 16);
  const b0 = vendor >> 8;
  const b1 = vendor & 0xff;
  const b2 = product >> 8;
  const b3 = product & 0xff;
  return (b0 | (b1 << 8) | (b2 << 16) | (b3 << 24)) >>> 0;
}

/** Name (name, object) — DefName := NameOp NameString DataRefObject. */
export function name(path: string, value: Aml): Aml {
  return concat(Uint8Array.of(NAME_OP), nameString(path), value);
}

/** Package () {elements} — DefPackage := PackageOp PkgLength NumElements PackageElementList. */
export function pkgOf(elements: readonly Aml[]): Aml {
  if (elements.length > 255) throw new RangeError('AML Package with more than 255 elements needs VarPackageOp');
  return concat(Uint8Array.of(PACKAGE_OP), pkg(concat(Uint8Array.of(elements.length), ...elements)));
}

/** Buffer () {bytes} — DefBuffer := BufferOp PkgLength BufferSize ByteList. */
export function buffer(bytes: Uint8Array): Aml {
  return concat(Uint8Array.of(BUFFER_OP), pkg(concat(int(bytes.length), bytes)));
}

/** Scope (path) {terms}. */
export function scope(path: string, terms: readonly Aml[]): Aml {
  return concat(Uint8Array.of(SCOPE_OP), pkg(concat(nameString(path), ...terms)));
}

/** Device (path) {terms} — ExtOpPrefix DeviceOp PkgLength NameString TermList. */
export function device(path: string, terms: readonly Aml[]): Aml {
  return concat(Uint8Array.of(EXT_OP_PREFIX, DEVICE_OP), pkg(concat(nameString(path), ...terms)));
}

/** Method (path, argCount, Serialized|NotSerialized) {terms}; MethodFlags bits 0–2 ArgCount, bit 3 SerializeFlag. */
export function method(path: string, argCount: number, serialized: boolean, terms: readonly Aml[]): Aml {
  if (!Number.isInteger(argCount) || argCount < 0 || argCount > 7) throw new RangeError(`AML method argument count ${argCount}`);
  const flags = argCount | (serialized ? 0x08 : 0);
  return concat(Uint8Array.of(METHOD_OP), pkg(concat(nameString(path), Uint8Array.of(flags), ...terms)));
}

/** Return (value). */
export function ret(value: Aml): Aml {
  return concat(Uint8Array.of(RETURN_OP), value);
}

// ---- Resource descriptors (ACPI 6.3 §6.4.2, small resource data types) ----

/** IO (Decode16|Decode10, min, max, alignment, length): small item 0x08, 7 bytes of data. */
export function ioPort(min: number, max: number, alignment: number, length: number, decode16 = true): Uint8Array {
  check16('IO minimum', min);
  check16('IO maximum', max);
  check8('IO alignment', alignment);
  check8('IO length', length);
  return Uint8Array.of(0x47, decode16 ? 1 : 0, min & 0xff, min >> 8, max & 0xff, max >> 8, alignment, length);
}

/** Options of an IRQ descriptor; without them the 2-byte form (IRQNoFlags: edge, active high, exclusive) is used. */
export interface IrqFlags {
  /** true: level-triggered (bit 0 = 0); false: edge (bit 0 = 1). */
  level: boolean;
  /** true: active low (bit 3). */
  activeLow: boolean;
  /** true: shared (bit 4). */
  shared: boolean;
}

/** IRQ / IRQNoFlags descriptor: small item 0x04, a 16-bit IRQ mask and an optional information byte. */
export function irq(irqs: readonly number[], flags?: IrqFlags): Uint8Array {
  let mask = 0;
  for (const i of irqs) {
    if (!Number.isInteger(i) || i < 0 || i > 15) throw new RangeError(`IRQ ${i} out of range 0..15`);
    mask |= 1 << i;
  }
  if (flags === undefined) return Uint8Array.of(0x22, mask & 0xff, mask >> 8);
  const info = (flags.level ? 0 : 0x01) | (flags.activeLow ? 0x08 : 0) | (flags.shared ? 0x10 : 0);
  return Uint8Array.of(0x23, mask & 0xff, mask >> 8, info);
}

/**
 * ResourceTemplate () {descriptors}: the descriptors, then the end tag (small item 0x0F) and
 * its checksum byte. With `checksum` false (iasl's choice) the byte is 0, which the spec
 * defines as "treat as valid"; with true it makes the whole template sum to 0 mod 256.
 * Returns a Buffer object.
 */
export function resourceTemplate(descriptors: readonly Uint8Array[], checksum = false): Aml {
  const body = concat(...descriptors, Uint8Array.of(0x79, 0));
  if (checksum) {
    let sum = 0;
    for (const b of body) sum = (sum + b) & 0xff;
    body[body.length - 1] = (0x100 - sum) & 0xff;
  }
  return buffer(body);
}

function check8(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new RangeError(`${what} ${v} out of range 0..0xFF`);
}
function check16(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`${what} ${v} out of range 0..0xFFFF`);
}
