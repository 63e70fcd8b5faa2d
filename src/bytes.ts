// Little-endian byte reader/writer over DataView: the only place the project touches raw bytes (FORMAT.md conventions).

/** Bounds-checked little-endian reader over a byte array; offsets are absolute within `bytes`. */
export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get length(): number {
    return this.bytes.length;
  }

  /** True when `size` bytes starting at `offset` lie inside the buffer. */
  has(offset: number, size: number): boolean {
    return offset >= 0 && size >= 0 && offset + size <= this.bytes.length;
  }

  u8(offset: number): number {
    return this.view.getUint8(offset);
  }
  u16(offset: number): number {
    return this.view.getUint16(offset, true);
  }
  u32(offset: number): number {
    return this.view.getUint32(offset, true);
  }
  u64(offset: number): bigint {
    return this.view.getBigUint64(offset, true);
  }
  /** A view (not a copy) of `size` bytes at `offset`. */
  slice(offset: number, size: number): Uint8Array {
    return this.bytes.subarray(offset, offset + size);
  }
  /** True when every byte in [offset, offset+size) is zero. */
  isZero(offset: number, size: number): boolean {
    return isAllZero(this.bytes, offset, offset + size);
  }
}

/** Little-endian writer into a buffer. */
export class ByteWriter {
  readonly bytes: Uint8Array;
  readonly view: DataView;

  /** A new zeroed buffer of `size` bytes, or an existing buffer to write into. */
  constructor(sizeOrBytes: number | Uint8Array) {
    this.bytes = typeof sizeOrBytes === 'number' ? new Uint8Array(sizeOrBytes) : sizeOrBytes;
    this.view = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
  }

  u8(offset: number, value: number): void {
    this.view.setUint8(offset, value);
  }
  u16(offset: number, value: number): void {
    this.view.setUint16(offset, value, true);
  }
  u32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }
  u64(offset: number, value: bigint): void {
    this.view.setBigUint64(offset, BigInt.asUintN(64, value), true);
  }
  put(offset: number, data: Uint8Array): void {
    this.bytes.set(data, offset);
  }
}

/** True when bytes[start, end) are all zero. */
export function isAllZero(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
  let i = start;
  // Word-at-a-time scan when aligned; byte scan for the rest.
  if ((bytes.byteOffset + i) % 4 === 0 && end - i >= 16) {
    const words = new Uint32Array(bytes.buffer, bytes.byteOffset + i, (end - i) >>> 2);
    for (let w = 0; w < words.length; w++) if (words[w] !== 0) return false;
    i += words.length * 4;
  }
  for (; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Index of the first non-zero byte in bytes[start, end), or -1 when they are all zero. */
export function firstNonZero(bytes: Uint8Array, start = 0, end = bytes.length): number {
  if (isAllZero(bytes, start, end)) return -1;
  let i = start;
  while (bytes[i] === 0) i++;
  return i;
}

/** Concatenate byte arrays into a new one. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Byte-wise equality of two arrays. */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a === b) return true;
  let i = 0;
  if (a.byteOffset % 4 === 0 && b.byteOffset % 4 === 0 && a.length >= 64) {
    // Word-wise over the aligned part (4× fewer comparisons); the tail byte-wise.
    const words = a.length >>> 2;
    const wa = new Uint32Array(a.buffer, a.byteOffset, words);
    const wb = new Uint32Array(b.buffer, b.byteOffset, words);
    for (let w = 0; w < words; w++) if (wa[w] !== wb[w]) return false;
    i = words << 2;
  }
  for (; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const PAGE_SIZE_4K = 0x1000;

export function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function hex(value: number | bigint): string {
  return '0x' + value.toString(16);
}

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(text: string): Uint8Array {
  const clean = text.startsWith('0x') ? text.slice(2) : text;
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`not a hex string: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}
