// Binary parser: fixed header, checksum, TLV framing and section order, per-record decoding (FORMAT.md §2, §3, §8, §9 steps 1–8).
import { ByteReader } from '../bytes.js';
import { IGVM_MAGIC, sectionOfType, vhtName, type Section } from '../spec/constants.js';
import { CHECKSUM_OFFSET } from '../spec/fixed-header.js';
import type { AnyHeader, IgvmFile, IgvmRevision, RecordInfo, SupportedPlatform, InitializationHeader, DirectiveHeader } from '../model.js';
import { ProblemSink, type Problem } from './problems.js';
import { DECODERS } from './decode-headers.js';
import { crc32 } from './crc32.js';
import { checkFileRules } from './file-rules.js';

export interface ReadResult {
  /** The model, when the fixed header could be read (headers with errors may be missing or partial). */
  file: IgvmFile | undefined;
  problems: Problem[];
}

const SECTION_RANK: Record<Section, number> = { platform: 0, initialization: 1, directive: 2 };
const SECTION_ERROR: Record<Section, string> = {
  platform: 'InvalidBinaryPlatformHeader',
  initialization: 'InvalidBinaryInitializationHeader',
  directive: 'InvalidBinaryDirectiveHeader',
};

function fixedError(sink: ProblemSink, code: string, message: string, offset: number, path: string, crate = 'InvalidFixedHeader'): void {
  sink.add({ severity: 'error', code, message, offset, path: `fixed_header.${path}`, crate });
}

/** Compute the checksum the fixed header should hold (FORMAT.md §2). */
export function computeChecksum(bytes: Uint8Array, fixedSize: number, vho: number, vhs: number): number {
  const fixed = bytes.slice(0, fixedSize);
  fixed.fill(0, CHECKSUM_OFFSET, CHECKSUM_OFFSET + 4);
  return crc32(bytes.subarray(vho, vho + vhs), crc32(fixed));
}

/**
 * Read a file, collecting problems. With `strict`, the first error is thrown as an IgvmError
 * (this is `parseIgvm`); otherwise reading goes on past per-record errors where the framing allows.
 */
export function readIgvm(bytes: Uint8Array, strict: boolean): ReadResult {
  const sink = new ProblemSink(strict);
  const r = new ByteReader(bytes);
  const len = bytes.length;
  if (len < 24) {
    fixedError(sink, 'file-too-short', `file is ${len} bytes, shorter than the 24-byte fixed header`, 0, 'magic');
    return { file: undefined, problems: sink.problems };
  }
  const magic = r.u32(0);
  if (magic !== IGVM_MAGIC) {
    fixedError(sink, 'bad-magic', `magic is 0x${magic.toString(16).padStart(8, '0')}, expected 0x4d564749 ("IGVM")`, 0, 'magic');
    return { file: undefined, problems: sink.problems };
  }
  const version = r.u32(4);
  let revision: IgvmRevision;
  if (version === 1) {
    revision = { format_version: 1, architecture: 0, page_size: 0x1000 };
  } else if (version === 2) {
    if (len < 32) {
      fixedError(sink, 'file-too-short', `format version 2 needs a 32-byte fixed header, file is ${len} bytes`, 0, 'format_version');
      return { file: undefined, problems: sink.problems };
    }
    const architecture = r.u32(0x18);
    const page_size = r.u32(0x1c);
    if (architecture > 1) {
      fixedError(sink, 'bad-architecture', `architecture ${architecture} is not X64 (0) or AARCH64 (1)`, 0x18, 'architecture');
      return { file: undefined, problems: sink.problems };
    }
    if (page_size !== 0x1000) {
      fixedError(sink, 'unsupported-page-size', `page_size 0x${page_size.toString(16)} is not supported (only 0x1000)`, 0x1c, 'page_size', `UnsupportedPageSize(${page_size})`);
      return { file: undefined, problems: sink.problems };
    }
    revision = { format_version: 2, architecture, page_size };
  } else {
    fixedError(sink, 'bad-format-version', `format_version ${version} is not 1 or 2`, 4, 'format_version');
    return { file: undefined, problems: sink.problems };
  }
  const fixedSize = version === 1 ? 24 : 32;
  const vho = r.u32(8);
  const vhs = r.u32(0xc);
  const total = r.u32(0x10);
  const checksum = r.u32(0x14);
  if (total !== len) {
    fixedError(sink, 'total-size-mismatch', `total_file_size is 0x${total.toString(16)} but the file is 0x${len.toString(16)} bytes`, 0x10, 'total_file_size');
    return { file: undefined, problems: sink.problems };
  }
  if (vho >= len) {
    fixedError(sink, 'header-offset-out-of-range', `variable_header_offset 0x${vho.toString(16)} is not inside the file (0x${len.toString(16)} bytes)`, 8, 'variable_header_offset');
    return { file: undefined, problems: sink.problems };
  }
  const fds = vho + vhs;
  if (fds > 0xffffffff && fds - 2 ** 32 < len) {
    // The crate adds the two u32 fields with wrapping arithmetic (release build): the wrapped sum
    // passes its `< file length` check and the following `split_at(variable_header_size)` panics.
    fixedError(sink, 'header-size-overflow', `variable_header_offset + variable_header_size = 0x${fds.toString(16)} overflows 32 bits (the microsoft/igvm crate panics on this input)`, 0xc, 'variable_header_size', 'panic');
    return { file: undefined, problems: sink.problems };
  }
  if (fds >= len) {
    fixedError(sink, 'no-file-data', `variable headers end at 0x${fds.toString(16)}, at or past the end of the file (0x${len.toString(16)}): at least one byte of file data must follow`, 0xc, 'variable_header_size');
    return { file: undefined, problems: sink.problems };
  }
  const expected = computeChecksum(bytes, fixedSize, vho, vhs);
  if (expected !== checksum) {
    fixedError(sink, 'bad-checksum', `checksum is 0x${checksum.toString(16).padStart(8, '0')}, computed 0x${expected.toString(16).padStart(8, '0')}`, 0x14, 'checksum', 'InvalidChecksum');
  }

  const records = new Map<AnyHeader, RecordInfo>();
  const platforms: SupportedPlatform[] = [];
  const initializations: InitializationHeader[] = [];
  const directives: DirectiveHeader[] = [];
  let current: Section = 'platform';
  let index = 0;
  let off = vho;
  while (off < fds) {
    const sectionError = (code: string, message: string) =>
      sink.add({ severity: 'error', code, message, offset: off, header_index: index, crate: 'InvalidBinaryVariableHeaderSection' });
    if (fds - off < 8) {
      sectionError('truncated-record', `${fds - off} bytes left at the end of the variable header section, too few for a record header (8)`);
      break;
    }
    const type = r.u32(off);
    const length = r.u32(off + 4);
    const section = sectionOfType(type);
    if (section === undefined) {
      sectionError('bad-record-type', `record type 0x${type.toString(16)} is not in a known range${type & 0x80000000 ? ' (the optional bit 31 is not supported by the microsoft/igvm crate)' : ''}`);
      break;
    }
    if (SECTION_RANK[section] < SECTION_RANK[current]) {
      sectionError('section-order', `${section} record ${vhtName(type)} after the ${current} section started`);
      break;
    }
    current = section;
    const decoder = DECODERS.get(type);
    const padded = Math.ceil(length / 8) * 8;
    const next = off + 8 + padded;
    const recordError = (code: string, variant: string, message: string, at = off) =>
      sink.add({ severity: 'error', code, message, offset: at, header_index: index, crate: `${SECTION_ERROR[section]}(${variant})` });
    if (!decoder) {
      recordError('unknown-record-type', 'InvalidVariableHeaderType', `record type 0x${type.toString(16)} (${section} range) is not a type the format defines`);
    } else if (length !== decoder.layout.size) {
      recordError('bad-record-length', 'InvalidVariableHeaderType', `${decoder.name} record has length ${length}, expected exactly ${decoder.layout.size}`, off + 4);
    } else if (next > fds) {
      recordError('record-truncated', 'InvalidVariableHeaderSize', `${decoder.name} record (${8 + padded} bytes with padding) runs past the end of the variable header section at 0x${fds.toString(16)}`);
      break;
    } else {
      const listName = section === 'platform' ? 'platforms' : section === 'initialization' ? 'initializations' : 'directives';
      const list = section === 'platform' ? platforms : section === 'initialization' ? initializations : directives;
      const header = decoder.decode({
        reader: r,
        fileDataStart: fds,
        architecture: revision.architecture,
        platforms,
        sink,
        section,
        headerIndex: index,
        bodyOffset: off + 8,
        path: `${listName}[${list.length}]`,
      });
      (list as AnyHeader[]).push(header);
      records.set(header, { index, offset: off, type, length, padding: r.slice(off + 8 + length, padded - length) });
    }
    if (next > fds || next <= off) break;
    off = next;
    index++;
  }
  if (platforms.length === 0 && sink.errorCount === 0) {
    sink.add({ severity: 'error', code: 'no-platforms', message: 'the file declares no SUPPORTED_PLATFORM header', offset: vho, crate: 'NoPlatformHeaders' });
  }
  const file: IgvmFile = {
    revision,
    platforms,
    initializations,
    directives,
    source: { bytes, variable_header_offset: vho, variable_header_size: vhs, checksum, records },
  };
  checkFileRules(file, sink);
  return { file, problems: sink.problems };
}

