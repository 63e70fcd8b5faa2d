// The verdict of the igvm C library 0.4.0 that QEMU links (igvm_new_from_binary) and its C API error codes (FORMAT.md §9.2, §12).
//
// igvmkit's parser follows microsoft/igvm HEAD. The released 0.4.0 library differs in three ways that matter here:
// * it rejects a SEV-SNP/SEV-ES VMSA page whose bytes 0x670..0xFFF are not zero (InvalidVmsa, a record error);
// * it does not know CORIM_DOCUMENT, CORIM_SIGNATURE (the `corim` feature) or CCA_POLICY: an unknown type inside the
//   initialization range, InvalidBinaryInitializationHeader(InvalidVariableHeaderType);
// * it does not know platform type 6 (CCA): InvalidBinaryPlatformHeader(InvalidPlatformType).
// Record errors come in file order, after the fixed-header and checksum errors and before the whole-file rules.
import { readIgvm } from '../../format/parse.js';
import type { Problem } from '../../format/problems.js';
import { isActive, type AnyHeader, type IgvmFile } from '../../model.js';
import { PLATFORM_TYPE } from '../../spec/constants.js';
import { firstNonZero } from '../../bytes.js';
import { VMSA_FIELDS_END, VMSA_PAGE_SIZE } from '../../spec/vmsa.js';

/** igvm_c's IgvmApiError: −5 … −28 are the crate's Error variants in declaration order. */
export const C_API_ERRORS: readonly string[] = [
  'NoPlatformHeaders', 'FileDataSectionTooLarge', 'VariableHeaderSectionTooLarge', 'TotalFileSizeTooLarge',
  'InvalidBinaryPlatformHeader', 'InvalidBinaryInitializationHeader', 'InvalidBinaryDirectiveHeader',
  'MultiplePlatformHeadersWithSameIsolation', 'InvalidParameterAreaIndex', 'InvalidPlatformType', 'NoFreeCompatibilityMasks',
  'InvalidFixedHeader', 'InvalidBinaryVariableHeaderSection', 'InvalidChecksum', 'MultiplePageTableRelocationHeaders',
  'RelocationRegionsOverlap', 'ParameterInsertInsidePageTableRegion', 'NoMatchingVpContext', 'PlatformArchUnsupported',
  'InvalidHeaderArch', 'UnsupportedPageSize', 'InvalidFixedHeaderArch', 'MergeRevision', 'InvalidCcaPolicyCompatibilityMask',
];

/** The C API code of a crate error name such as "InvalidBinaryDirectiveHeader(UnalignedAddress)"; undefined if unknown. */
export function cApiCode(crate: string): number | undefined {
  const variant = crate.split('(')[0] ?? crate;
  const at = C_API_ERRORS.indexOf(variant);
  return at < 0 ? undefined : -5 - at;
}

/** The library's answer; on rejection `file` is igvmkit's lenient reading (for choosing defaults only). */
export type LibraryVerdict =
  | { ok: true; file: IgvmFile }
  | { ok: false; crate: string; code: number | undefined; message: string; file: IgvmFile | undefined };

interface Rejection {
  crate: string;
  message: string;
  /** Variable-header index, when the rejection is about one record. */
  index: number | undefined;
  phase: 'fixed' | 'record' | 'file';
}

/** Parse `bytes` as the igvm C library 0.4.0 does (no isolation filter). */
export function libraryVerdict(bytes: Uint8Array): LibraryVerdict {
  const { file, problems } = readIgvm(bytes, false);
  const first = firstRejection(problems, file);
  if (!first) {
    if (!file) throw new Error('unreachable: a file without errors has a model');
    return { ok: true, file };
  }
  const code = first.crate === 'panic' ? undefined : cApiCode(first.crate);
  if (first.crate !== 'panic' && code === undefined) throw new Error(`unmapped igvm error ${first.crate}`);
  return { ok: false, crate: first.crate, code, message: first.message, file };
}

function firstRejection(problems: readonly Problem[], file: IgvmFile | undefined): Rejection | undefined {
  const head: Rejection[] = [];
  for (const p of problems) {
    if (p.severity === 'error' && p.crate !== undefined) head.push({ crate: p.crate, message: p.message, index: p.header_index, phase: phaseOf(p) });
    else if (p.code === 'vmsa-tail-not-zero') head.push({ crate: 'InvalidBinaryDirectiveHeader(InvalidVmsa)', message: p.message, index: p.header_index, phase: 'record' });
  }
  const extra = file ? unknownTo040(file) : [];
  const fixed = head.filter((r) => r.phase === 'fixed');
  if (fixed.length) return fixed[0];
  const records = [...extra, ...head.filter((r) => r.phase === 'record')];
  records.sort((a, b) => (a.index ?? 0) - (b.index ?? 0));
  if (records.length) return records[0];
  return head.find((r) => r.phase === 'file');
}

/** Panics of the crate while decoding one record (the others happen in the whole-file rules). */
const RECORD_PANICS = new Set(['relocation-alignment-zero', 'vbs-context-out-of-range', 'vbs-mixed-vtl', 'vbs-vp-index']);

function phaseOf(p: Problem): Rejection['phase'] {
  const c = p.crate ?? '';
  if (c === 'InvalidFixedHeader' || c === 'InvalidChecksum' || c.startsWith('UnsupportedPageSize')) return 'fixed';
  if (c === 'panic') return p.header_index === undefined ? 'fixed' : RECORD_PANICS.has(p.code) ? 'record' : 'file';
  if (c.startsWith('InvalidBinary')) return 'record';
  return 'file';
}

/** Records the 0.4.0 library rejects although HEAD accepts them (header comment), with their record index. */
function unknownTo040(file: IgvmFile): Rejection[] {
  const records = file.source?.records;
  const indexOf = (h: AnyHeader): number | undefined => records?.get(h)?.index;
  const out: Rejection[] = [];
  for (const h of library040Rejections(file)) out.push({ ...h.rejection, index: indexOf(h.header) });
  return out;
}

/**
 * The headers of a model (HEAD rules) that the 0.4.0 library refuses, in file order — usable on a model without its
 * bytes (e.g. for measuring a file already parsed).
 */
export function library040Rejections(file: IgvmFile): { header: AnyHeader; rejection: Omit<Rejection, 'index'> }[] {
  const out: { header: AnyHeader; rejection: Omit<Rejection, 'index'> }[] = [];
  for (const p of file.platforms) {
    if (p.platform_type === PLATFORM_TYPE.CCA) {
      out.push({ header: p, rejection: { crate: 'InvalidBinaryPlatformHeader(InvalidPlatformType)', message: 'platform type 6 (CCA) is unknown to igvm 0.4.0', phase: 'record' } });
    }
  }
  for (const h of file.initializations) {
    if (h.type === 'CORIM_DOCUMENT' || h.type === 'CORIM_SIGNATURE' || h.type === 'CCA_POLICY') {
      out.push({ header: h, rejection: { crate: 'InvalidBinaryInitializationHeader(InvalidVariableHeaderType)', message: `${h.type} is unknown to igvm 0.4.0`, phase: 'record' } });
    }
  }
  for (const d of file.directives) {
    if (d.type !== 'VP_CONTEXT' || d.context.kind !== 'vmsa' || !isActive(d)) continue;
    if (firstNonZero(d.context.data, VMSA_FIELDS_END, Math.min(VMSA_PAGE_SIZE, d.context.data.length)) >= 0) {
      out.push({ header: d, rejection: { crate: 'InvalidBinaryDirectiveHeader(InvalidVmsa)', message: 'VMSA bytes 0x670..0xfff are not zero (igvm 0.4.0 InvalidVmsa)', phase: 'record' } });
    }
  }
  return out;
}

/** The C API code QEMU would print for a model the 0.4.0 library refuses; undefined when it accepts it. */
export function library040Code(file: IgvmFile): number | undefined {
  const first = library040Rejections(file)[0];
  return first ? cApiCode(first.rejection.crate) : undefined;
}
