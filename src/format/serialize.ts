// Serializer: compact (the microsoft/igvm crate's layout, deduplicated data) and preserve (byte-identical round trips) (FORMAT.md §10).
import { ByteWriter, bytesEqual } from '../bytes.js';
import { IGVM_MAGIC } from '../spec/constants.js';
import { IgvmError } from '../errors.js';
import type { AnyHeader, IgvmFile } from '../model.js';
import { allHeaders, isActive, sourceOffset } from '../model.js';
import { headerEncoding, canonicalBody, type HeaderEncoding } from './encode-headers.js';
import { crc32 } from './crc32.js';

export type SerializeMode = 'compact' | 'preserve';

export interface SerializeOptions {
  /**
   * compact (default): the crate's layout — header offset right after the fixed header, data chunks in first-reference
   * order, identical chunks shared, reserved fields zeroed, mask-0 headers dropped (as the crate's parser drops them).
   * preserve: keep the source file's layout (gap before the headers, record padding, data section) so an unmodified
   * parsed file serializes to exactly its original bytes; new or changed data is appended.
   */
  mode?: SerializeMode;
}

/** Content-addressed chunk store for deduplication (FNV-1a over 32-bit words, verified byte-wise). */
class ChunkTable {
  private readonly buckets = new Map<number, { bytes: Uint8Array; offset: number }[]>();
  readonly chunks: { bytes: Uint8Array; offset: number }[] = [];
  constructor(public end: number) {}

  place(bytes: Uint8Array): number {
    const key = fingerprint(bytes);
    const bucket = this.buckets.get(key);
    if (bucket) for (const c of bucket) if (bytesEqual(c.bytes, bytes)) return c.offset;
    const chunk = { bytes, offset: this.end };
    this.end += bytes.length;
    this.chunks.push(chunk);
    if (bucket) bucket.push(chunk);
    else this.buckets.set(key, [chunk]);
    return chunk.offset;
  }
}

function fingerprint(b: Uint8Array): number {
  let h = 0x811c9dc5 ^ b.length;
  const step = b.length > 256 ? 7 : 1; // sample long chunks; equality is always checked byte-wise
  for (let i = 0; i < b.length; i += step) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h >>> 0;
}

function padded(enc: HeaderEncoding, h: AnyHeader): Uint8Array | undefined {
  const data = enc.data;
  if (!data) return undefined;
  if (enc.padTo > 0 && data.length > enc.padTo) {
    throw new IgvmError('data-too-large', `${h.type} data is ${data.length} bytes, more than the ${enc.padTo} bytes it may hold`, { crate: 'InvalidDataSize' });
  }
  if (data.length >= enc.padTo) return data;
  if (enc.padTo > 0xffffffff) throw new IgvmError('file-too-large', `${h.type} data would be padded to ${enc.padTo} bytes, more than a file can hold`, { crate: 'TotalFileSizeTooLarge' });
  const out = new Uint8Array(enc.padTo);
  out.set(data);
  return out;
}

const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Serialize a model to IGVM bytes. */
export function serializeIgvm(file: IgvmFile, options: SerializeOptions = {}): Uint8Array {
  const mode = options.mode ?? 'compact';
  const src = mode === 'preserve' ? file.source : undefined;
  const headers = allHeaders(file).filter((h) => mode === 'preserve' || h.type === 'SUPPORTED_PLATFORM' || isActive(h));
  const fixedSize = file.revision.format_version === 1 ? 24 : 32;
  const vho = src && src.variable_header_offset >= fixedSize ? src.variable_header_offset : fixedSize;
  const encodings = headers.map(headerEncoding);
  let vhs = 0;
  for (const e of encodings) vhs += 8 + align8(e.layout.size);
  const fds = vho + vhs;

  // Place data: preserve keeps the source data section and the offsets into it; everything else is appended.
  const oldFds = src ? src.variable_header_offset + src.variable_header_size : 0;
  const kept = src ? src.bytes.subarray(oldFds) : new Uint8Array(0);
  const delta = fds - oldFds;
  const table = new ChunkTable(fds + kept.length);
  const offsets = headers.map((h, i) => {
    const enc = encodings[i]!;
    // Preserve keeps data that is a view into the source's data section at its (shifted) offset — including an empty
    // view behind a non-zero file_offset (PARAMETER_AREA number_of_bytes 0, CoRIM size_bytes 0).
    const own = 'data' in h ? h.data : h.type === 'VP_CONTEXT' ? h.context.data : undefined;
    const at = sourceOffset(src, own);
    if (own && at !== undefined && at >= oldFds && (own.length === 0 || own.length >= enc.padTo)) return at + delta;
    if (!enc.data || enc.data.length === 0) return 0;
    const chunk = padded(enc, h);
    return chunk ? table.place(chunk) : 0;
  });
  let total = table.end;
  if (total === fds) total += 1; // the format requires at least one byte of file data
  if (total > 0xffffffff) throw new IgvmError('file-too-large', `the file would be ${total} bytes, more than a u32 total_file_size can describe`, { crate: 'TotalFileSizeTooLarge' });

  const w = new ByteWriter(total);
  if (src) w.put(0, src.bytes.subarray(0, Math.min(vho, src.bytes.length)));
  w.u32(0x00, IGVM_MAGIC);
  w.u32(0x04, file.revision.format_version);
  w.u32(0x08, vho);
  w.u32(0x0c, vhs);
  w.u32(0x10, total);
  w.u32(0x14, 0);
  if (fixedSize === 32) {
    w.u32(0x18, file.revision.architecture);
    w.u32(0x1c, file.revision.page_size);
  }
  let off = vho;
  headers.forEach((h, i) => {
    const enc = encodings[i]!;
    const body = mode === 'compact' ? canonicalBody(h) : { ...h };
    if ('file_offset' in body) body['file_offset'] = offsets[i];
    if ('size_bytes' in body && (h.type === 'CORIM_DOCUMENT' || h.type === 'CORIM_SIGNATURE') && h.data) body['size_bytes'] = h.data.length;
    w.u32(off, enc.type);
    w.u32(off + 4, enc.layout.size);
    (enc.layout.write as (w: ByteWriter, o: number, v: Record<string, unknown>) => void)(w, off + 8, body);
    const padLen = align8(enc.layout.size) - enc.layout.size;
    const rec = src?.records.get(h);
    if (padLen > 0 && rec && rec.padding.length === padLen) w.put(off + 8 + enc.layout.size, rec.padding);
    off += 8 + align8(enc.layout.size);
  });
  w.put(fds, kept);
  for (const c of table.chunks) w.put(c.offset, c.bytes);
  const fixed = w.bytes.slice(0, fixedSize);
  w.u32(0x14, crc32(w.bytes.subarray(vho, vho + vhs), crc32(fixed)));
  return w.bytes;
}
