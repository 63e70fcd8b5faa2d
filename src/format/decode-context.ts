// Per-record decoding context shared by the header decoders: problem reporting and file-data extraction (FORMAT.md §8, §9.1).
import type { ByteReader } from '../bytes.js';
import type { Section } from '../spec/constants.js';
import type { SupportedPlatform } from '../model.js';
import type { ProblemSink } from './problems.js';

export interface DecodeContext {
  reader: ByteReader;
  /** Absolute offset where the file data section starts (variable_header_offset + variable_header_size). */
  fileDataStart: number;
  architecture: number;
  /** Platforms decoded so far (the platform section precedes everything else). */
  platforms: SupportedPlatform[];
  sink: ProblemSink;
  section: Section;
  headerIndex: number;
  /** Absolute offset of the record body (after type and length). */
  bodyOffset: number;
  /** Path of the header in the model, e.g. "directives[3]". */
  path: string;
}

const WRAPPER: Record<Section, string> = {
  platform: 'InvalidBinaryPlatformHeader',
  initialization: 'InvalidBinaryInitializationHeader',
  directive: 'InvalidBinaryDirectiveHeader',
};

type Field = { name: string; offset: number };

/** Add a problem located at a field of the current record (or at an absolute offset). */
function report(ctx: DecodeContext, severity: 'error' | 'warning', code: string, message: string, crate: string | undefined, field?: Field, absoluteOffset?: number): void {
  ctx.sink.add({
    severity,
    code,
    message,
    offset: absoluteOffset ?? ctx.bodyOffset + (field?.offset ?? 0),
    header_index: ctx.headerIndex,
    path: field ? `${ctx.path}.${field.name}` : ctx.path,
    ...(crate !== undefined ? { crate } : {}),
  });
}

/** Report a per-record error (a crate BinaryHeaderError, wrapped in the section's Error variant). */
export function headerError(ctx: DecodeContext, code: string, variant: string, message: string, field?: Field, absoluteOffset?: number): void {
  report(ctx, 'error', code, message, `${WRAPPER[ctx.section]}(${variant})`, field, absoluteOffset);
}

/** Report a per-record condition on which the crate panics instead of returning an error. */
export function headerPanic(ctx: DecodeContext, code: string, message: string, field?: Field, absoluteOffset?: number): void {
  report(ctx, 'error', code, `${message} (the microsoft/igvm crate panics on this input)`, 'panic', field, absoluteOffset);
}

/** Report a spec-only problem found while decoding (the crate accepts it). */
export function headerWarning(ctx: DecodeContext, code: string, message: string, field?: Field, absoluteOffset?: number): void {
  report(ctx, 'warning', code, message, undefined, field, absoluteOffset);
}

/** True when [fileOffset, fileOffset+size) lies inside the file data section (the crate's slice of file[fds..]). */
export function dataInRange(ctx: DecodeContext, fileOffset: number, size: number): boolean {
  return fileOffset >= ctx.fileDataStart && fileOffset + size <= ctx.reader.length;
}

/**
 * Extract `size` bytes of file data referenced by `fileOffset` (a view, not a copy), or report InvalidDataSize.
 * `what` names the data for the message ("page data", "parameter area data", …).
 */
export function readFileData(
  ctx: DecodeContext,
  fileOffset: number,
  size: number | bigint,
  what: string,
  field: { name: string; offset: number },
): Uint8Array | undefined {
  if (size <= ctx.reader.length && dataInRange(ctx, fileOffset, Number(size))) return ctx.reader.slice(fileOffset, Number(size));
  const where =
    fileOffset < ctx.fileDataStart
      ? `points before the file data section (which starts at 0x${ctx.fileDataStart.toString(16)})`
      : `runs past the end of the file (0x${ctx.reader.length.toString(16)} bytes)`;
  headerError(ctx, 'data-out-of-range', 'InvalidDataSize', `${what}: ${size} bytes at file offset 0x${fileOffset.toString(16)} ${where}`, field);
  return undefined;
}

export const PAGE = 0x1000;
export const isPageAligned = (v: number | bigint): boolean => (typeof v === 'bigint' ? (v & 0xfffn) === 0n : v % PAGE === 0);
export const hexOf = (v: number | bigint): string => '0x' + v.toString(16);
