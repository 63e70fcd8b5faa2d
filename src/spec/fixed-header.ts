// IGVM_FIXED_HEADER (v1, 24 bytes) and IGVM_FIXED_HEADER_V2 (32 bytes) (FORMAT.md §2).
import { defineStruct } from './struct.js';

export const IGVM_FIXED_HEADER = defineStruct('IGVM_FIXED_HEADER', 24, [
  { name: 'magic', kind: 'u32', offset: 0x00 },
  { name: 'format_version', kind: 'u32', offset: 0x04 },
  { name: 'variable_header_offset', kind: 'u32', offset: 0x08 },
  { name: 'variable_header_size', kind: 'u32', offset: 0x0c },
  { name: 'total_file_size', kind: 'u32', offset: 0x10 },
  { name: 'checksum', kind: 'u32', offset: 0x14 },
] as const);

export const IGVM_FIXED_HEADER_V2 = defineStruct('IGVM_FIXED_HEADER_V2', 32, [
  ...IGVM_FIXED_HEADER.fields,
  { name: 'architecture', kind: 'u32', offset: 0x18 },
  { name: 'page_size', kind: 'u32', offset: 0x1c },
] as const);

export const CHECKSUM_OFFSET = 0x14;

/** The TLV prefix of every variable header. */
export const IGVM_VHS_VARIABLE_HEADER = defineStruct('IGVM_VHS_VARIABLE_HEADER', 8, [
  { name: 'typ', kind: 'u32', offset: 0x0 },
  { name: 'length', kind: 'u32', offset: 0x4 },
] as const);
