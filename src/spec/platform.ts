// Platform section: IGVM_VHS_SUPPORTED_PLATFORM (type 0x001, 16 bytes) (FORMAT.md §4).
import { defineStruct } from './struct.js';

export const IGVM_VHS_SUPPORTED_PLATFORM = defineStruct('IGVM_VHS_SUPPORTED_PLATFORM', 16, [
  { name: 'compatibility_mask', kind: 'u32', offset: 0x0 },
  { name: 'highest_vtl', kind: 'u8', offset: 0x4 },
  { name: 'platform_type', kind: 'u8', offset: 0x5 },
  { name: 'platform_version', kind: 'u16', offset: 0x6 },
  { name: 'shared_gpa_boundary', kind: 'u64', offset: 0x8 },
] as const);
