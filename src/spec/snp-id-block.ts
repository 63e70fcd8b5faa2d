// IGVM_VHS_SNP_ID_BLOCK (type 0x30B, 696 bytes) with its signature and public-key sub-structures (FORMAT.md §6, Appendix A).
import { defineStruct } from './struct.js';

export const IGVM_VHS_SNP_ID_BLOCK_SIGNATURE = defineStruct('IGVM_VHS_SNP_ID_BLOCK_SIGNATURE', 144, [
  { name: 'r_comp', kind: 'bytes', offset: 0x00, size: 72 },
  { name: 's_comp', kind: 'bytes', offset: 0x48, size: 72 },
] as const);

export const IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY = defineStruct('IGVM_VHS_SNP_ID_BLOCK_PUBLIC_KEY', 152, [
  { name: 'curve', kind: 'u32', offset: 0x00 },
  { name: 'reserved', kind: 'u32', offset: 0x04 },
  { name: 'qx', kind: 'bytes', offset: 0x08, size: 72 },
  { name: 'qy', kind: 'bytes', offset: 0x50, size: 72 },
] as const);

export const IGVM_VHS_SNP_ID_BLOCK = defineStruct('IGVM_VHS_SNP_ID_BLOCK', 696, [
  { name: 'compatibility_mask', kind: 'u32', offset: 0x000 },
  { name: 'author_key_enabled', kind: 'u8', offset: 0x004 },
  { name: 'reserved', kind: 'bytes', offset: 0x005, size: 3 },
  { name: 'ld', kind: 'bytes', offset: 0x008, size: 48 },
  { name: 'family_id', kind: 'bytes', offset: 0x038, size: 16 },
  { name: 'image_id', kind: 'bytes', offset: 0x048, size: 16 },
  { name: 'version', kind: 'u32', offset: 0x058 },
  { name: 'guest_svn', kind: 'u32', offset: 0x05c },
  { name: 'id_key_algorithm', kind: 'u32', offset: 0x060 },
  { name: 'author_key_algorithm', kind: 'u32', offset: 0x064 },
  { name: 'id_key_signature', kind: 'bytes', offset: 0x068, size: 144 },
  { name: 'id_public_key', kind: 'bytes', offset: 0x0f8, size: 152 },
  { name: 'author_key_signature', kind: 'bytes', offset: 0x190, size: 144 },
  { name: 'author_public_key', kind: 'bytes', offset: 0x220, size: 152 },
] as const);

/** SNP ID block curve / algorithm codes. */
export const SNP_CURVE_P384 = 2;
export const SNP_ALGORITHM_ECDSA_P384_SHA384 = 1;
