// Synchronous zlib (RFC 1950) + DEFLATE (RFC 1951) decoder for igvmgen's acpi.zip snapshot (IGVMGEN.md §10.1); browser-safe.
import { IgvmError } from '../errors.js';

/** Default cap on the decompressed size. */
export const INFLATE_MAX_OUTPUT = 64 * 1024 * 1024;

export interface InflateOptions {
  /** Largest output accepted, in bytes (default 64 MiB). */
  maxOutput?: number;
  /** File name for error messages. */
  file?: string;
}

const MAX_BITS = 15;

// RFC 1951 §3.2.5: base values and extra bits of the length (257..285) and distance (0..29) codes.
const LEN_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
// RFC 1951 §3.2.7: order in which the code-length code lengths are transmitted.
const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

/** A canonical Huffman code: number of codes per length and the symbols in canonical order. */
interface Huffman {
  counts: Uint16Array;
  symbols: Uint16Array;
}

/** The fixed codes of RFC 1951 §3.2.6, built on first use. */
let fixed: [Huffman, Huffman] | undefined;

class Inflater {
  private pos: number;
  private bitBuf = 0;
  private bitCnt = 0;
  private out: Uint8Array;
  private outLen = 0;

  constructor(
    private readonly src: Uint8Array,
    start: number,
    private readonly maxOutput: number,
    private readonly file: string | undefined,
  ) {
    this.pos = start;
    this.out = new Uint8Array(Math.min(maxOutput, Math.max(1024, src.length * 4)));
  }

  fail(code: string, message: string): never {
    throw new IgvmError(code, message, { offset: Math.min(this.pos, this.src.length), ...(this.file !== undefined ? { file: this.file } : {}) });
  }

  /** Reads `n` (0..16) bits, least significant first. */
  bits(n: number): number {
    while (this.bitCnt < n) {
      if (this.pos >= this.src.length) this.fail('inflate-truncated', 'compressed data ends early');
      this.bitBuf |= this.src[this.pos++]! << this.bitCnt;
      this.bitCnt += 8;
    }
    const v = this.bitBuf & ((1 << n) - 1);
    this.bitBuf >>>= n;
    this.bitCnt -= n;
    return v;
  }

  /** Drops the rest of the current byte (bits() never leaves a whole unread byte in the buffer). */
  alignToByte(): void {
    this.bitBuf = 0;
    this.bitCnt = 0;
  }

  get position(): number {
    return this.pos;
  }

  private ensure(extra: number): void {
    const need = this.outLen + extra;
    if (need > this.maxOutput) this.fail('inflate-too-large', `decompressed data exceeds ${this.maxOutput} bytes`);
    if (need <= this.out.length) return;
    let size = Math.max(1024, this.out.length * 2);
    while (size < need) size *= 2;
    const grown = new Uint8Array(Math.min(size, this.maxOutput));
    grown.set(this.out.subarray(0, this.outLen));
    this.out = grown;
  }

  result(): Uint8Array {
    return this.out.slice(0, this.outLen);
  }

  /** Builds a canonical code from code lengths; over-subscribed sets are errors, incomplete ones only if `allowIncomplete`. */
  build(lengths: ArrayLike<number>, what: string, allowIncomplete: boolean): Huffman {
    const counts = new Uint16Array(MAX_BITS + 1);
    for (let i = 0; i < lengths.length; i++) counts[lengths[i]!]!++;
    let left = 1;
    let used = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      left = (left << 1) - counts[len]!;
      if (left < 0) this.fail('inflate-bad-code', `over-subscribed ${what} code`);
      used += counts[len]!;
    }
    // An incomplete code is fine when it has a single code (RFC 1951 allows one distance code of one bit).
    if (left > 0 && !allowIncomplete && used > 1) this.fail('inflate-bad-code', `incomplete ${what} code`);
    const offsets = new Uint16Array(MAX_BITS + 2);
    for (let len = 1; len <= MAX_BITS; len++) offsets[len + 1] = offsets[len]! + counts[len]!;
    const symbols = new Uint16Array(used);
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      if (len !== 0) symbols[offsets[len]!++] = i;
    }
    return { counts, symbols };
  }

  /** Decodes one symbol: Huffman codes are packed most significant bit first. */
  decode(h: Huffman): number {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= MAX_BITS; len++) {
      code |= this.bits(1);
      const count = h.counts[len]!;
      if (code - first < count) return h.symbols[index + code - first]!;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    return this.fail('inflate-bad-symbol', 'invalid Huffman code in compressed data');
  }

  stored(): void {
    this.alignToByte();
    if (this.pos + 4 > this.src.length) this.fail('inflate-truncated', 'compressed data ends inside a stored block header');
    const s = this.src;
    const len = s[this.pos]! | (s[this.pos + 1]! << 8);
    const nlen = s[this.pos + 2]! | (s[this.pos + 3]! << 8);
    if ((len ^ 0xffff) !== nlen) this.fail('inflate-bad-stored', 'stored block length does not match its complement');
    this.pos += 4;
    if (this.pos + len > s.length) this.fail('inflate-truncated', 'compressed data ends inside a stored block');
    this.ensure(len);
    this.out.set(s.subarray(this.pos, this.pos + len), this.outLen);
    this.outLen += len;
    this.pos += len;
  }

  codes(lit: Huffman, dist: Huffman): void {
    for (;;) {
      const sym = this.decode(lit);
      if (sym < 256) {
        if (this.outLen >= this.out.length) this.ensure(1);
        this.out[this.outLen++] = sym;
        continue;
      }
      if (sym === 256) return;
      const li = sym - 257;
      if (li >= 29) this.fail('inflate-bad-symbol', `invalid length symbol ${sym}`);
      const length = LEN_BASE[li]! + this.bits(LEN_EXTRA[li]!);
      const ds = this.decode(dist);
      if (ds >= 30) this.fail('inflate-bad-symbol', `invalid distance symbol ${ds}`);
      const distance = DIST_BASE[ds]! + this.bits(DIST_EXTRA[ds]!);
      if (distance > this.outLen) this.fail('inflate-bad-distance', `distance ${distance} reaches before the start of the output`);
      this.ensure(length);
      const o = this.out;
      let from = this.outLen - distance;
      let to = this.outLen;
      // Byte by byte: source and destination may overlap (a run).
      for (let i = 0; i < length; i++) o[to++] = o[from++]!;
      this.outLen = to;
    }
  }

  fixedTables(): [Huffman, Huffman] {
    if (fixed) return fixed;
    const lengths = new Uint8Array(288);
    lengths.fill(8, 0, 144);
    lengths.fill(9, 144, 256);
    lengths.fill(7, 256, 280);
    lengths.fill(8, 280, 288);
    fixed = [this.build(lengths, 'fixed literal/length', false), this.build(new Uint8Array(30).fill(5), 'fixed distance', true)];
    return fixed;
  }

  dynamicTables(): [Huffman, Huffman] {
    const nlen = this.bits(5) + 257;
    const ndist = this.bits(5) + 1;
    const ncode = this.bits(4) + 4;
    if (nlen > 286 || ndist > 30) this.fail('inflate-bad-counts', 'too many length or distance codes in a dynamic block');
    const clLengths = new Uint8Array(19);
    for (let i = 0; i < ncode; i++) clLengths[CL_ORDER[i]!] = this.bits(3);
    const cl = this.build(clLengths, 'code-length', false);
    if (cl.symbols.length === 0) this.fail('inflate-bad-code', 'empty code-length code');
    const lengths = new Uint8Array(nlen + ndist);
    let i = 0;
    while (i < nlen + ndist) {
      const sym = this.decode(cl);
      if (sym < 16) {
        lengths[i++] = sym;
        continue;
      }
      let value = 0;
      let repeat: number;
      if (sym === 16) {
        if (i === 0) this.fail('inflate-bad-lengths', 'repeat of a previous code length with none before it');
        value = lengths[i - 1]!;
        repeat = 3 + this.bits(2);
      } else if (sym === 17) repeat = 3 + this.bits(3);
      else repeat = 11 + this.bits(7);
      if (i + repeat > nlen + ndist) this.fail('inflate-bad-lengths', 'code-length repeat runs past the end of the lengths');
      lengths.fill(value, i, i + repeat);
      i += repeat;
    }
    if (lengths[256] === 0) this.fail('inflate-bad-code', 'dynamic block has no end-of-block code');
    return [this.build(lengths.subarray(0, nlen), 'literal/length', false), this.build(lengths.subarray(nlen), 'distance', true)];
  }

  /** Runs DEFLATE blocks until the final one. */
  run(): void {
    let last = 0;
    while (!last) {
      last = this.bits(1);
      const type = this.bits(2);
      if (type === 0) this.stored();
      else if (type === 1) this.codes(...this.fixedTables());
      else if (type === 2) this.codes(...this.dynamicTables());
      else this.fail('inflate-bad-block', 'invalid DEFLATE block type 3');
    }
  }
}

/** Adler-32 (RFC 1950 §8.2) of `data`. */
export function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; ) {
    // 5552 is the largest run for which the sums cannot overflow before the modulo.
    const end = Math.min(i + 5552, data.length);
    for (; i < end; i++) {
      a += data[i]!;
      b += a;
    }
    a %= 65521;
    b %= 65521;
  }
  return ((b << 16) | a) >>> 0;
}

/** Decodes a raw DEFLATE stream (RFC 1951). Throws IgvmError on corrupt or oversized input. */
export function inflateRaw(data: Uint8Array, opts: InflateOptions = {}): Uint8Array {
  const inf = new Inflater(data, 0, opts.maxOutput ?? INFLATE_MAX_OUTPUT, opts.file);
  inf.run();
  return inf.result();
}

/** Decodes a zlib stream (RFC 1950: header, DEFLATE data, Adler-32). Bytes after the Adler-32 are ignored, as Python's zlib.decompress does. */
export function inflateZlib(data: Uint8Array, opts: InflateOptions = {}): Uint8Array {
  const fileDetail = opts.file !== undefined ? { file: opts.file } : {};
  if (data.length < 2) throw new IgvmError('zlib-truncated', 'zlib stream is shorter than its 2-byte header', { offset: 0, ...fileDetail });
  const cmf = data[0]!;
  const flg = data[1]!;
  if ((cmf & 0x0f) !== 8) throw new IgvmError('zlib-bad-header', `zlib compression method ${cmf & 0x0f} is not DEFLATE (8)`, { offset: 0, ...fileDetail });
  if (cmf >> 4 > 7) throw new IgvmError('zlib-bad-header', `zlib window size field ${cmf >> 4} is larger than 7`, { offset: 0, ...fileDetail });
  if (((cmf << 8) | flg) % 31 !== 0) throw new IgvmError('zlib-bad-header', 'zlib header check bits are wrong', { offset: 1, ...fileDetail });
  if (flg & 0x20) throw new IgvmError('zlib-dictionary', 'zlib stream needs a preset dictionary', { offset: 1, ...fileDetail });
  const inf = new Inflater(data, 2, opts.maxOutput ?? INFLATE_MAX_OUTPUT, opts.file);
  inf.run();
  inf.alignToByte();
  const p = inf.position;
  if (p + 4 > data.length) throw new IgvmError('zlib-truncated', 'zlib stream ends before its Adler-32 checksum', { offset: p, ...fileDetail });
  const out = inf.result();
  const want = ((data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!) >>> 0;
  const got = adler32(out);
  if (want !== got) throw new IgvmError('zlib-bad-checksum', `zlib Adler-32 mismatch: stream says 0x${want.toString(16)}, data gives 0x${got.toString(16)}`, { offset: p, ...fileDetail });
  return out;
}
