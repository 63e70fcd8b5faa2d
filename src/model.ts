// The IGVM file model: three discriminated unions (platform, initialization, directive headers) over the spec layouts (FORMAT.md §3–§7).
import type { IGVM_VHS_SUPPORTED_PLATFORM } from './spec/platform.js';
import type {
  IGVM_VHS_GUEST_POLICY,
  IGVM_VHS_RELOCATABLE_REGION,
  IGVM_VHS_PAGE_TABLE_RELOCATION,
  IGVM_VHS_CORIM_DATA,
  IGVM_VHS_CCA_POLICY,
} from './spec/initialization.js';
import type {
  IGVM_VHS_PAGE_DATA,
  IGVM_VHS_PARAMETER_AREA,
  IGVM_VHS_PARAMETER,
  IGVM_VHS_PARAMETER_INSERT,
  IGVM_VHS_VP_CONTEXT,
  IGVM_VHS_REQUIRED_MEMORY,
  IGVM_VHS_ERROR_RANGE,
} from './spec/directives.js';
import type { IGVM_VHS_SNP_ID_BLOCK } from './spec/snp-id-block.js';
import type { IGVM_VHS_VBS_MEASUREMENT } from './spec/vbs-measurement.js';
import type { ParameterType } from './spec/constants.js';

type Body<L> = L extends { read(...args: never[]): infer V } ? V : never;

/** Format revision from the fixed header. */
export interface IgvmRevision {
  format_version: 1 | 2;
  /** 0 = X64, 1 = AARCH64 (v1 files are always X64). */
  architecture: number;
  /** Always 4096 for files the crate accepts. */
  page_size: number;
}

// ---- platform headers ----
export type SupportedPlatform = { type: 'SUPPORTED_PLATFORM' } & Body<typeof IGVM_VHS_SUPPORTED_PLATFORM>;
export type PlatformHeader = SupportedPlatform;

// ---- initialization headers ----
export type GuestPolicy = { type: 'GUEST_POLICY' } & Body<typeof IGVM_VHS_GUEST_POLICY>;
export type RelocatableRegion = { type: 'RELOCATABLE_REGION' } & Body<typeof IGVM_VHS_RELOCATABLE_REGION>;
export type PageTableRelocation = { type: 'PAGE_TABLE_RELOCATION_REGION' } & Body<typeof IGVM_VHS_PAGE_TABLE_RELOCATION>;
export type CorimData = { type: 'CORIM_DOCUMENT' | 'CORIM_SIGNATURE'; data: Uint8Array | undefined } & Body<typeof IGVM_VHS_CORIM_DATA>;
export type CcaPolicy = { type: 'CCA_POLICY' } & Body<typeof IGVM_VHS_CCA_POLICY>;
export type InitializationHeader = GuestPolicy | RelocatableRegion | PageTableRelocation | CorimData | CcaPolicy;

// ---- VP context payloads ----
/** SEV-SNP / SEV-ES: a 4096-byte VMSA page (decode with `decodeVmsa`). */
export interface VmsaContext {
  kind: 'vmsa';
  data: Uint8Array;
}
/** NATIVE / SEV: IgvmNativeVpContextX64 in a 4096-byte page. */
export interface NativeX64Context {
  kind: 'native-x64';
  data: Uint8Array;
}
/** CCA: IgvmVpContextAArch64Cca in a 4096-byte page. */
export interface CcaContext {
  kind: 'cca';
  data: Uint8Array;
}
export interface VbsRegister {
  vtl: number;
  register_name: number;
  /** Name of the Hyper-V register (e.g. "Rip"), or undefined if not accepted. */
  name: string | undefined;
  mbz: Uint8Array;
  register_value: Uint8Array;
}
/** VSM_ISOLATION: register list (4 + 32·n bytes, not padded). */
export interface VbsContext {
  kind: 'vbs';
  data: Uint8Array;
  registers: VbsRegister[];
  /** The common VTL of the registers (the crate requires them all equal). */
  vtl: number;
}
/** A context whose mask matched no usable platform (only in a file with errors). */
export interface UnknownContext {
  kind: 'unknown';
  data: Uint8Array | undefined;
}
export type VpContextData = VmsaContext | NativeX64Context | CcaContext | VbsContext | UnknownContext;

// ---- directive headers ----
export type PageData = { type: 'PAGE_DATA'; data: Uint8Array | undefined } & Body<typeof IGVM_VHS_PAGE_DATA>;
export type ParameterArea = { type: 'PARAMETER_AREA'; data: Uint8Array | undefined } & Body<typeof IGVM_VHS_PARAMETER_AREA>;
export type Parameter = { type: ParameterType } & Body<typeof IGVM_VHS_PARAMETER>;
export type ParameterInsert = { type: 'PARAMETER_INSERT' } & Body<typeof IGVM_VHS_PARAMETER_INSERT>;
export type VpContext = { type: 'VP_CONTEXT'; context: VpContextData } & Body<typeof IGVM_VHS_VP_CONTEXT>;
export type RequiredMemory = { type: 'REQUIRED_MEMORY' } & Body<typeof IGVM_VHS_REQUIRED_MEMORY>;
export type ErrorRange = { type: 'ERROR_RANGE' } & Body<typeof IGVM_VHS_ERROR_RANGE>;
export type SnpIdBlock = { type: 'SNP_ID_BLOCK' } & Body<typeof IGVM_VHS_SNP_ID_BLOCK>;
export type VbsMeasurement = { type: 'VBS_MEASUREMENT' } & Body<typeof IGVM_VHS_VBS_MEASUREMENT>;
export type DirectiveHeader =
  | PageData
  | ParameterArea
  | Parameter
  | ParameterInsert
  | VpContext
  | RequiredMemory
  | ErrorRange
  | SnpIdBlock
  | VbsMeasurement;

export type AnyHeader = PlatformHeader | InitializationHeader | DirectiveHeader;

/** Where a header came from in a parsed file (used by preserve-mode serialization and by problems). */
export interface RecordInfo {
  /** Index of the record among all variable headers (0-based). */
  index: number;
  /** Absolute offset of the TLV (type field). */
  offset: number;
  type: number;
  length: number;
  /** Padding bytes after the body, as found in the file. */
  padding: Uint8Array;
}

/** Layout of the file a model was parsed from. */
export interface SourceLayout {
  bytes: Uint8Array;
  variable_header_offset: number;
  variable_header_size: number;
  checksum: number;
  /** Record info per header, keyed by the header object. */
  records: ReadonlyMap<AnyHeader, RecordInfo>;
}

export interface IgvmFile {
  revision: IgvmRevision;
  platforms: PlatformHeader[];
  initializations: InitializationHeader[];
  directives: DirectiveHeader[];
  /** Present when the model came from `parseIgvm`. */
  source?: SourceLayout;
}

/** Offset of `data` in the source file when it is a view into it (data from a parsed file), else undefined. */
export function sourceOffset(source: SourceLayout | undefined, data: Uint8Array | undefined): number | undefined {
  if (!source || !data || data.buffer !== source.bytes.buffer) return undefined;
  const at = data.byteOffset - source.bytes.byteOffset;
  return at >= 0 && at + data.length <= source.bytes.length ? at : undefined;
}

/**
 * The platform a compatibility mask names, as the crate resolves it: the LAST declared platform whose mask equals `mask`
 * (the crate fills a mask → platform map in file order, so later duplicates win).
 */
export function platformForMask(platforms: readonly SupportedPlatform[], mask: number): SupportedPlatform | undefined {
  let found: SupportedPlatform | undefined;
  for (const p of platforms) if (p.compatibility_mask === mask) found = p;
  return found;
}

/** The bit numbers set in a compatibility mask, lowest first. */
export function maskBits(mask: number): number[] {
  const out: number[] = [];
  for (let b = 0; b < 32; b++) if ((mask >>> b) & 1) out.push(b);
  return out;
}

/** Headers the crate keeps after its isolation filter: a header with compatibility_mask 0 is silently dropped. */
export function isActive(h: AnyHeader): boolean {
  return headerMask(h) !== 0;
}

/** Headers that carry a compatibility mask. */
export function headerMask(h: AnyHeader): number | undefined {
  return 'compatibility_mask' in h ? h.compatibility_mask : undefined;
}

/** All headers in file order. */
export function allHeaders(file: IgvmFile): AnyHeader[] {
  return [...file.platforms, ...file.initializations, ...file.directives];
}
