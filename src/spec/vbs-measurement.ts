// IGVM_VHS_VBS_MEASUREMENT (type 0x311, 864 bytes) (FORMAT.md §6).
import { defineStruct } from './struct.js';

export const IGVM_VHS_VBS_MEASUREMENT = defineStruct('IGVM_VHS_VBS_MEASUREMENT', 864, [
  { name: 'compatibility_mask', kind: 'u32', offset: 0x000 },
  { name: 'version', kind: 'u32', offset: 0x004 },
  { name: 'product_id', kind: 'u32', offset: 0x008 },
  { name: 'module_id', kind: 'u32', offset: 0x00c },
  { name: 'security_version', kind: 'u32', offset: 0x010 },
  { name: 'policy_flags', kind: 'u32', offset: 0x014 },
  { name: 'boot_digest_algo', kind: 'u32', offset: 0x018 },
  { name: 'signing_algo', kind: 'u32', offset: 0x01c },
  { name: 'boot_measurement_digest', kind: 'bytes', offset: 0x020, size: 64 },
  { name: 'signature', kind: 'bytes', offset: 0x060, size: 256 },
  { name: 'public_key', kind: 'bytes', offset: 0x160, size: 512 },
] as const);
