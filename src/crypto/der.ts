// Minimal DER (X.690 §8, §10) reader for key files, and PEM armour (RFC 7468) with a strict base64 (RFC 4648 §4) decoder.
import { IgvmError } from '../errors.js';

/** Universal tag numbers used by key structures. */
export const DER_INTEGER = 0x02;
export const DER_BIT_STRING = 0x03;
export const DER_OCTET_STRING = 0x04;
export const DER_NULL = 0x05;
export const DER_OID = 0x06;
export const DER_SEQUENCE = 0x30;

/** Where DER errors are reported: the error code, the file name and whether offsets are file offsets (raw DER input). */
export interface DerContext {
  code: string;
  file?: string;
  /** True when the DER bytes are the file itself (offsets then go into IgvmError.offset). */
  rawFile?: boolean;
}

/** One decoded TLV. `value` is a view into the source bytes. */
export interface DerNode {
  /** The identifier octet (class | constructed | tag number; tag numbers ≥ 31 are rejected). */
  tag: number;
  constructed: boolean;
  /** Offset of the identifier octet in the DER buffer. */
  offset: number;
  /** Offset of the content octets. */
  contentOffset: number;
  value: Uint8Array;
}

/** Context-specific tag [n] (constructed), e.g. ctxTag(0) = 0xA0. */
export function ctxTag(n: number): number {
  return 0xa0 | n;
}

function tagName(tag: number): string {
  switch (tag) {
    case DER_INTEGER: return 'INTEGER';
    case DER_BIT_STRING: return 'BIT STRING';
    case DER_OCTET_STRING: return 'OCTET STRING';
    case DER_NULL: return 'NULL';
    case DER_OID: return 'OBJECT IDENTIFIER';
    case DER_SEQUENCE: return 'SEQUENCE';
    default:
      if ((tag & 0xc0) === 0x80) return `[${tag & 0x1f}]`;
      return `tag 0x${tag.toString(16).padStart(2, '0')}`;
  }
}

/** Reader over one DER buffer; every error is an IgvmError with the context's code and a field path. */
export class DerReader {
  readonly bytes: Uint8Array;
  readonly ctx: DerContext;

  constructor(bytes: Uint8Array, ctx: DerContext) {
    this.bytes = bytes;
    this.ctx = ctx;
  }

  fail(path: string, at: number, message: string): never {
    const where = this.ctx.rawFile ? '' : ` (DER byte ${at})`;
    throw new IgvmError(this.ctx.code, `${message}${where}`, {
      ...(this.ctx.file !== undefined ? { file: this.ctx.file } : {}),
      ...(this.ctx.rawFile ? { offset: at } : {}),
      path,
    });
  }

  /** Decode the TLV at `offset`, which must end at or before `end`. */
  tlv(offset: number, end: number, path: string): DerNode {
    const b = this.bytes;
    if (offset + 2 > end) this.fail(path, offset, 'truncated DER: expected a tag and a length, found the end of the data');
    const tag = b[offset]!;
    if ((tag & 0x1f) === 0x1f) this.fail(path, offset, 'high tag numbers are not used in key structures');
    let len = b[offset + 1]!;
    let p = offset + 2;
    if (len === 0x80) this.fail(path, offset, 'indefinite lengths are not allowed in DER');
    if (len > 0x80) {
      const n = len & 0x7f;
      if (n > 4) this.fail(path, offset, `a ${n}-byte length field is too large`);
      if (p + n > end) this.fail(path, offset, 'truncated DER: the length field runs past the end of the data');
      len = 0;
      for (let i = 0; i < n; i++) len = len * 256 + b[p + i]!;
      p += n;
    }
    if (p + len > end) {
      this.fail(path, offset, `truncated DER: ${tagName(tag)} needs ${len} content bytes, only ${Math.max(0, end - p)} remain`);
    }
    return { tag, constructed: (tag & 0x20) !== 0, offset, contentOffset: p, value: b.subarray(p, p + len) };
  }

  /** The single top-level element; trailing bytes are an error. */
  root(tag: number, path: string): DerNode {
    const node = this.tlv(0, this.bytes.length, path);
    this.expectTag(node, tag, path);
    const end = node.contentOffset + node.value.length;
    if (end !== this.bytes.length) this.fail(path, end, `${this.bytes.length - end} unexpected bytes after the ${tagName(tag)}`);
    return node;
  }

  /** The elements inside a constructed node. */
  children(node: DerNode, path: string): DerNode[] {
    if (!node.constructed) this.fail(path, node.offset, `expected a constructed ${tagName(node.tag)}`);
    const out: DerNode[] = [];
    const end = node.contentOffset + node.value.length;
    let p = node.contentOffset;
    while (p < end) {
      const child = this.tlv(p, end, `${path}[${out.length}]`);
      out.push(child);
      p = child.contentOffset + child.value.length;
    }
    return out;
  }

  /** The single element that exactly fills `node`'s content (e.g. an OCTET STRING that holds DER). */
  inside(node: DerNode, tag: number, path: string): DerNode {
    const end = node.contentOffset + node.value.length;
    const inner = this.tlv(node.contentOffset, end, path);
    this.expectTag(inner, tag, path);
    const innerEnd = inner.contentOffset + inner.value.length;
    if (innerEnd !== end) this.fail(path, innerEnd, `${end - innerEnd} unexpected bytes after the ${tagName(tag)}`);
    return inner;
  }

  expectTag(node: DerNode | undefined, tag: number, path: string): DerNode {
    if (!node) this.fail(path, this.bytes.length, `expected ${tagName(tag)}, found the end of the structure`);
    if (node.tag !== tag) this.fail(path, node.offset, `expected ${tagName(tag)}, found ${tagName(node.tag)}`);
    return node;
  }

  /** A non-negative INTEGER as big-endian magnitude bytes (leading zero octets removed). */
  unsignedInteger(node: DerNode | undefined, path: string): Uint8Array {
    const n = this.expectTag(node, DER_INTEGER, path);
    const v = n.value;
    if (v.length === 0) this.fail(path, n.offset, 'an INTEGER has no content bytes');
    if (v[0]! & 0x80) this.fail(path, n.offset, 'expected a non-negative INTEGER');
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    return v.subarray(i);
  }

  /** A small non-negative INTEGER (up to 2^32). */
  smallInteger(node: DerNode | undefined, path: string): number {
    const mag = this.unsignedInteger(node, path);
    if (mag.length > 4) this.fail(path, node!.offset, 'INTEGER is too large');
    let x = 0;
    for (const b of mag) x = x * 256 + b;
    return x;
  }

  octetString(node: DerNode | undefined, path: string): Uint8Array {
    return this.expectTag(node, DER_OCTET_STRING, path).value;
  }

  /** A BIT STRING's bytes; only whole-octet strings (0 unused bits) are accepted. */
  bitString(node: DerNode | undefined, path: string): Uint8Array {
    const n = this.expectTag(node, DER_BIT_STRING, path);
    if (n.value.length === 0) this.fail(path, n.offset, 'a BIT STRING has no content bytes');
    if (n.value[0] !== 0) this.fail(path, n.offset, `expected a BIT STRING of whole octets, found ${n.value[0]} unused bits`);
    return n.value.subarray(1);
  }

  /** An OBJECT IDENTIFIER in dotted form, e.g. "1.3.132.0.34". */
  oid(node: DerNode | undefined, path: string): string {
    const n = this.expectTag(node, DER_OID, path);
    const v = n.value;
    if (v.length === 0 || (v[v.length - 1]! & 0x80) !== 0) this.fail(path, n.offset, 'malformed OBJECT IDENTIFIER');
    const arcs: number[] = [];
    let acc = 0;
    let first = true;
    for (let i = 0; i < v.length; i++) {
      const b = v[i]!;
      if (acc === 0 && b === 0x80) this.fail(path, n.offset, 'OBJECT IDENTIFIER arc has a non-minimal encoding');
      acc = acc * 128 + (b & 0x7f);
      if (acc > Number.MAX_SAFE_INTEGER / 128) this.fail(path, n.offset, 'OBJECT IDENTIFIER arc is too large');
      if ((b & 0x80) === 0) {
        if (first) {
          const top = acc < 40 ? 0 : acc < 80 ? 1 : 2;
          arcs.push(top, acc - top * 40);
          first = false;
        } else {
          arcs.push(acc);
        }
        acc = 0;
      }
    }
    return arcs.join('.');
  }
}

// ---- PEM ----

/** One PEM block: its label, any RFC 1421 headers (e.g. "Proc-Type") and the decoded bytes. */
export interface PemBlock {
  label: string;
  headers: Record<string, string>;
  der: Uint8Array;
  /** 1-based line of the BEGIN line. */
  line: number;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX: Int16Array = (() => {
  const t = new Int16Array(128).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/** Strict base64 (RFC 4648 §4) decoding; whitespace is ignored, padding is required. Throws Error with a position. */
export function base64Decode(text: string): Uint8Array {
  const s = text.replace(/[ \t\r\n]/g, '');
  if (s.length % 4 !== 0) throw new Error(`base64 length ${s.length} is not a multiple of 4`);
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let quad = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      let v: number;
      if (c === 0x3d /* = */ && i + 4 === s.length && j >= 4 - pad) v = 0;
      else {
        v = c < 128 ? B64_INDEX[c]! : -1;
        if (v < 0) throw new Error(`invalid base64 character ${JSON.stringify(s[i + j])} at position ${i + j}`);
      }
      quad = (quad << 6) | v;
    }
    out[o++] = (quad >>> 16) & 0xff;
    if (o < out.length) out[o++] = (quad >>> 8) & 0xff;
    if (o < out.length) out[o++] = quad & 0xff;
  }
  return out;
}

/** Bytes → string, one char per byte (PEM is ASCII; anything else shows up as an invalid base64 character). */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x2000) {
    s += String.fromCharCode(...bytes.subarray(i, Math.min(bytes.length, i + 0x2000)));
  }
  return s;
}

/** True when the text contains a PEM BEGIN line. */
export function looksLikePem(text: string): boolean {
  return /-----BEGIN [^\r\n-]*-----/.test(text);
}

/**
 * All PEM blocks in `text` (text outside blocks is ignored, RFC 7468 §2).
 * Throws IgvmError(code) when there is none, an END line is missing or mismatched, or the base64 is bad
 * (the file name goes into the error's `file`, so `describe()` prints it).
 */
export function parsePem(text: string, code: string, file?: string): PemBlock[] {
  const details = file !== undefined ? { file } : {};
  const lines = text.split(/\r\n|\r|\n/);
  const blocks: PemBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const begin = /^-----BEGIN ([^-]*)-----\s*$/.exec(lines[i]!.trim());
    if (!begin) continue;
    const label = begin[1]!;
    const start = i;
    const headers: Record<string, string> = {};
    const body: string[] = [];
    let ended = false;
    for (i++; i < lines.length; i++) {
      const line = lines[i]!.trim();
      const end = /^-----END ([^-]*)-----$/.exec(line);
      if (end) {
        if (end[1] !== label) {
          throw new IgvmError(code, `line ${i + 1}: "-----END ${end[1]}-----" does not close "-----BEGIN ${label}-----" (line ${start + 1})`, details);
        }
        ended = true;
        break;
      }
      if (line.startsWith('-----')) {
        throw new IgvmError(code, `line ${i + 1}: expected base64 or "-----END ${label}-----", found ${JSON.stringify(line)}`, details);
      }
      const header = body.length === 0 ? /^([A-Za-z][A-Za-z0-9-]*):\s*(.*)$/.exec(line) : null;
      if (header) headers[header[1]!] = header[2]!;
      else body.push(line);
    }
    if (!ended) throw new IgvmError(code, `"-----BEGIN ${label}-----" (line ${start + 1}) has no "-----END ${label}-----" line`, details);
    let der: Uint8Array;
    try {
      der = base64Decode(body.join(''));
    } catch (e) {
      throw new IgvmError(code, `the base64 inside "-----BEGIN ${label}-----" (line ${start + 1}) is malformed: ${(e as Error).message}`, details);
    }
    if (der.length === 0) throw new IgvmError(code, `the "${label}" block (line ${start + 1}) is empty`, details);
    blocks.push({ label, headers, der, line: start + 1 });
  }
  if (blocks.length === 0) throw new IgvmError(code, `expected a PEM block ("-----BEGIN ...-----"), found none`, details);
  return blocks;
}

// ---- ECDSA signatures ----

/**
 * ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (RFC 3279 §2.2.3, RFC 5480 §2.2): the big-endian magnitudes of
 * r and s (leading zero octets removed). Errors are IgvmErrors with the context's code and a field path.
 */
export function parseEcdsaSigValue(der: Uint8Array, ctx: DerContext): { r: Uint8Array; s: Uint8Array } {
  const P = 'ECDSA-Sig-Value';
  const rd = new DerReader(der, ctx);
  const kids = rd.children(rd.root(DER_SEQUENCE, P), P);
  const r = rd.unsignedInteger(kids[0], `${P}.r`);
  const s = rd.unsignedInteger(kids[1], `${P}.s`);
  if (kids.length > 2) rd.fail(`${P}[2]`, kids[2]!.offset, 'unexpected element after s');
  return { r, s };
}
