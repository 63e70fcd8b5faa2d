// Initialization section layouts: GUEST_POLICY, RELOCATABLE_REGION, PAGE_TABLE_RELOCATION, CORIM_DATA, CCA_POLICY (FORMAT.md §5).
import { defineStruct } from './struct.js';

export const IGVM_VHS_GUEST_POLICY = defineStruct('IGVM_VHS_GUEST_POLICY', 16, [
  { name: 'policy', kind: 'u64', offset: 0x0 },
  { name: 'compatibility_mask', kind: 'u32', offset: 0x8 },
  { name: 'reserved', kind: 'u32', offset: 0xc },
] as const);

export const IGVM_VHS_RELOCATABLE_REGION = defineStruct('IGVM_VHS_RELOCATABLE_REGION', 48, [
  { name: 'compatibility_mask', kind: 'u32', offset: 0x00 },
  { name: 'vp_index', kind: 'u16', offset: 0x04 },
  { name: 'vtl', kind: 'u8', offset: 0x06 },
  { name: 'flags', kind: 'u8', offset: 0x07 },
  { name: 'relocation_alignment', kind: 'u64', offset: 0x08 },
  { name: 'relocation_region_gpa', kind: 'u64', offset: 0x10 },
  { name: 'relocation_region_size', kind: 'u64', offset: 0x18 },
  { name: 'minimum_relocation_gpa', kind: 'u64', offset: 0x20 },
  { name: 'maximum_relocation_gpa', kind: 'u64', offset: 0x28 },
] as const);

export const IGVM_VHS_PAGE_TABLE_RELOCATION = defineStruct('IGVM_VHS_PAGE_TABLE_RELOCATION', 32, [
  { name: 'compatibility_mask', kind: 'u32', offset: 0x00 },
  { name: 'vp_index', kind: 'u16', offset: 0x04 },
  { name: 'vtl', kind: 'u8', offset: 0x06 },
  { name: 'reserved', kind: 'u8', offset: 0x07 },
  { name: 'gpa', kind: 'u64', offset: 0x08 },
  { name: 'size', kind: 'u64', offset: 0x10 },
  { name: 'used_size', kind: 'u64', offset: 0x18 },
] as const);

export const IGVM_VHS_CORIM_DATA = defineStruct('IGVM_VHS_CORIM_DATA', 16, [
  { name: 'compatibility_mask', kind: 'u32', offset: 0x0 },
  { name: 'file_offset', kind: 'u32', offset: 0x4 },
  { name: 'size_bytes', kind: 'u32', offset: 0x8 },
  { name: 'reserved', kind: 'u32', offset: 0xc },
] as const);

export const IGVM_VHS_CCA_POLICY = defineStruct('IGVM_VHS_CCA_POLICY', 32, [
  { name: 'compatibility_mask', kind: 'u32', offset: 0x00 },
  { name: 'reserved', kind: 'u32', offset: 0x04 },
  { name: 'attributes_required_zeroes', kind: 'u64', offset: 0x08 },
  { name: 'attributes_required_ones', kind: 'u64', offset: 0x10 },
  { name: 'hash_algorithm', kind: 'u8', offset: 0x18 },
  { name: 'lfa_policy', kind: 'u8', offset: 0x19 },
  { name: 'reserved2', kind: 'bytes', offset: 0x1a, size: 6 },
] as const);
