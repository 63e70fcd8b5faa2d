// IGVM constants: magic, format versions, variable-header type codes, platform and data types (FORMAT.md §2–§6, §3.1).

export const IGVM_MAGIC = 0x4d564749; // "IGVM" read as a little-endian u32
export const IGVM_FORMAT_VERSION_1 = 1;
export const IGVM_FORMAT_VERSION_2 = 2;
export const IGVM_VHT_OPTIONAL_BIT = 0x8000_0000;
export const PAGE_SIZE = 0x1000;

/** Variable header type codes (IGVM_VHT_*), with the spec's names. */
export const VHT = {
  SUPPORTED_PLATFORM: 0x001,
  GUEST_POLICY: 0x101,
  RELOCATABLE_REGION: 0x102,
  PAGE_TABLE_RELOCATION_REGION: 0x103,
  CORIM_DOCUMENT: 0x104,
  CORIM_SIGNATURE: 0x105,
  CCA_POLICY: 0x106,
  PARAMETER_AREA: 0x301,
  PAGE_DATA: 0x302,
  PARAMETER_INSERT: 0x303,
  VP_CONTEXT: 0x304,
  REQUIRED_MEMORY: 0x305,
  RESERVED_DO_NOT_USE: 0x306,
  VP_COUNT_PARAMETER: 0x307,
  SRAT: 0x308,
  MADT: 0x309,
  MMIO_RANGES: 0x30a,
  SNP_ID_BLOCK: 0x30b,
  MEMORY_MAP: 0x30c,
  ERROR_RANGE: 0x30d,
  COMMAND_LINE: 0x30e,
  SLIT: 0x30f,
  PPTT: 0x310,
  VBS_MEASUREMENT: 0x311,
  DEVICE_TREE: 0x312,
  ENVIRONMENT_INFO_PARAMETER: 0x313,
} as const;

export type VhtName = keyof typeof VHT;

const VHT_NAMES = new Map<number, VhtName>(Object.entries(VHT).map(([k, v]) => [v, k as VhtName]));

export function vhtName(type: number): string {
  return VHT_NAMES.get(type) ?? `UNKNOWN_0x${type.toString(16)}`;
}

/** Section a type code belongs to by range, ignoring whether the crate knows it. */
export type Section = 'platform' | 'initialization' | 'directive';
export function sectionOfType(type: number): Section | undefined {
  if (type >= 0x001 && type <= 0x100) return 'platform';
  if (type >= 0x101 && type <= 0x200) return 'initialization';
  if (type >= 0x301 && type <= 0x400) return 'directive';
  return undefined;
}

/** The directives that carry an IGVM_VHS_PARAMETER body (no compatibility mask). */
export const PARAMETER_TYPES = [
  'VP_COUNT_PARAMETER',
  'SRAT',
  'MADT',
  'MMIO_RANGES',
  'MEMORY_MAP',
  'COMMAND_LINE',
  'SLIT',
  'PPTT',
  'DEVICE_TREE',
  'ENVIRONMENT_INFO_PARAMETER',
] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** IGVM_PLATFORM_TYPE values. */
export const PLATFORM_TYPE = {
  NATIVE: 0x00,
  VSM_ISOLATION: 0x01,
  SEV_SNP: 0x02,
  TDX: 0x03,
  SEV: 0x04,
  SEV_ES: 0x05,
  CCA: 0x06,
} as const;
export type PlatformTypeName = keyof typeof PLATFORM_TYPE;
const PLATFORM_NAMES = new Map<number, PlatformTypeName>(
  Object.entries(PLATFORM_TYPE).map(([k, v]) => [v, k as PlatformTypeName]),
);
export function platformTypeName(t: number): string {
  return PLATFORM_NAMES.get(t) ?? `UNKNOWN_0x${t.toString(16)}`;
}

/** Fixed header architecture (v2). */
export const ARCHITECTURE = { X64: 0, AARCH64: 1 } as const;
export function architectureName(a: number): string {
  return a === 0 ? 'X64' : a === 1 ? 'AARCH64' : `UNKNOWN_0x${a.toString(16)}`;
}

/** IGVM_PAGE_DATA_TYPE values. */
export const PAGE_DATA_TYPE = { NORMAL: 0, SECRETS: 1, CPUID_DATA: 2, CPUID_XF: 3 } as const;
export function pageDataTypeName(t: number): string {
  return ['NORMAL', 'SECRETS', 'CPUID_DATA', 'CPUID_XF'][t] ?? `UNKNOWN_0x${t.toString(16)}`;
}

/** IgvmPageDataFlags bits. */
export const PAGE_DATA_FLAGS = { IS_2MB_PAGE: 0x1, UNMEASURED: 0x2, SHARED: 0x4 } as const;
export const PAGE_DATA_FLAGS_RESERVED = ~0x7 >>> 0;

/** Relocatable region flags. */
export const RELOCATION_FLAGS = { IS_VTL2: 0x1, APPLY_RIP: 0x2, APPLY_GDTR: 0x4 } as const;

/** REQUIRED_MEMORY flags. */
export const REQUIRED_MEMORY_FLAGS = { VTL2_PROTECTABLE: 0x1 } as const;

/** Memory map entry types. */
export const MEMORY_MAP_ENTRY_TYPE = {
  MEMORY: 0,
  PLATFORM_RESERVED: 1,
  PERSISTENT: 2,
  VTL2_PROTECTABLE: 3,
  SPECIFIC_PURPOSE: 4,
  HIDDEN: 5,
} as const;

/** CCA hash algorithms. */
export const CCA_HASH_ALGORITHM = { SHA256: 0, SHA512: 1, SHA384: 2 } as const;
