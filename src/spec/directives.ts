// Directive section layouts: PAGE_DATA, PARAMETER_AREA, PARAMETER, PARAMETER_INSERT, VP_CONTEXT, REQUIRED_MEMORY, ERROR_RANGE (FORMAT.md §6–§7).
import { defineStruct } from './struct.js';

export const IGVM_VHS_PAGE_DATA = defineStruct('IGVM_VHS_PAGE_DATA', 24, [
  { name: 'gpa', kind: 'u64', offset: 0x00 },
  { name: 'compatibility_mask', kind: 'u32', offset: 0x08 },
  { name: 'file_offset', kind: 'u32', offset: 0x0c },
  { name: 'flags', kind: 'u32', offset: 0x10 },
  { name: 'data_type', kind: 'u16', offset: 0x14 },
  { name: 'reserved', kind: 'u16', offset: 0x16 },
] as const);

export const IGVM_VHS_PARAMETER_AREA = defineStruct('IGVM_VHS_PARAMETER_AREA', 16, [
  { name: 'number_of_bytes', kind: 'u64', offset: 0x0 },
  { name: 'parameter_area_index', kind: 'u32', offset: 0x8 },
  { name: 'file_offset', kind: 'u32', offset: 0xc },
] as const);

export const IGVM_VHS_PARAMETER = defineStruct('IGVM_VHS_PARAMETER', 8, [
  { name: 'parameter_area_index', kind: 'u32', offset: 0x0 },
  { name: 'byte_offset', kind: 'u32', offset: 0x4 },
] as const);

export const IGVM_VHS_PARAMETER_INSERT = defineStruct('IGVM_VHS_PARAMETER_INSERT', 16, [
  { name: 'gpa', kind: 'u64', offset: 0x0 },
  { name: 'compatibility_mask', kind: 'u32', offset: 0x8 },
  { name: 'parameter_area_index', kind: 'u32', offset: 0xc },
] as const);

/** 20-byte body; the record is padded to 24 in the variable header section. */
export const IGVM_VHS_VP_CONTEXT = defineStruct('IGVM_VHS_VP_CONTEXT', 20, [
  { name: 'gpa', kind: 'u64', offset: 0x00 },
  { name: 'compatibility_mask', kind: 'u32', offset: 0x08 },
  { name: 'file_offset', kind: 'u32', offset: 0x0c },
  { name: 'vp_index', kind: 'u16', offset: 0x10 },
  { name: 'reserved', kind: 'u16', offset: 0x12 },
] as const);

export const IGVM_VHS_REQUIRED_MEMORY = defineStruct('IGVM_VHS_REQUIRED_MEMORY', 24, [
  { name: 'gpa', kind: 'u64', offset: 0x00 },
  { name: 'compatibility_mask', kind: 'u32', offset: 0x08 },
  { name: 'number_of_bytes', kind: 'u32', offset: 0x0c },
  { name: 'flags', kind: 'u32', offset: 0x10 },
  { name: 'reserved', kind: 'u32', offset: 0x14 },
] as const);

export const IGVM_VHS_ERROR_RANGE = defineStruct('IGVM_VHS_ERROR_RANGE', 16, [
  { name: 'gpa', kind: 'u64', offset: 0x0 },
  { name: 'compatibility_mask', kind: 'u32', offset: 0x8 },
  { name: 'size_bytes', kind: 'u32', offset: 0xc },
] as const);

/** Parameter payloads the loader deposits: memory map entry and MMIO ranges (FORMAT.md §6). */
export const IGVM_VHS_MEMORY_MAP_ENTRY = defineStruct('IGVM_VHS_MEMORY_MAP_ENTRY', 24, [
  { name: 'starting_gpa_page_number', kind: 'u64', offset: 0x00 },
  { name: 'number_of_pages', kind: 'u64', offset: 0x08 },
  { name: 'entry_type', kind: 'u16', offset: 0x10 },
  { name: 'flags', kind: 'u16', offset: 0x12 },
  { name: 'reserved', kind: 'u32', offset: 0x14 },
] as const);

export const IGVM_VHS_MEMORY_RANGE = defineStruct('IGVM_VHS_MEMORY_RANGE', 16, [
  { name: 'starting_gpa_page_number', kind: 'u64', offset: 0x0 },
  { name: 'number_of_pages', kind: 'u64', offset: 0x8 },
] as const);
