// SNP_ID_BLOCK → the SEV-SNP ID block (96 bytes) and ID authentication structure (4096 bytes) QEMU builds (QEMU-LOADER.md §5.9, MEASUREMENT.md §7.1).
import { ByteWriter } from '../../bytes.js';
import type { SnpIdBlock } from '../../model.js';

/** QEMU forces the ID block version (IGVM_SEV_ID_BLOCK_VERSION). */
export const ID_BLOCK_VERSION = 1;
export const ID_BLOCK_SIZE = 96;
export const ID_AUTH_SIZE = 4096;

/** The ID block with `policy` (the GUEST_POLICY value, filled in at the end of loading). */
export function idBlockBytes(h: SnpIdBlock, policy: bigint): Uint8Array {
  const w = new ByteWriter(ID_BLOCK_SIZE);
  w.put(0x00, h.ld);
  w.put(0x30, h.family_id);
  w.put(0x40, h.image_id);
  w.u32(0x50, ID_BLOCK_VERSION);
  w.u32(0x54, h.guest_svn);
  w.u64(0x58, policy);
  return w.bytes;
}

/**
 * The ID authentication structure: algorithms, the {R, S} signatures copied into the 512-byte fields, and each public
 * key as curve u32 ‖ Qx ‖ Qy (the IGVM structure's reserved u32 after the curve is dropped).
 */
export function idAuthBytes(h: SnpIdBlock): Uint8Array {
  const w = new ByteWriter(ID_AUTH_SIZE);
  w.u32(0x000, h.id_key_algorithm);
  w.u32(0x004, h.author_key_algorithm);
  w.put(0x040, h.id_key_signature);
  putKey(w, 0x240, h.id_public_key);
  w.put(0x680, h.author_key_signature);
  putKey(w, 0x880, h.author_public_key);
  return w.bytes;
}

function putKey(w: ByteWriter, at: number, igvmKey: Uint8Array): void {
  w.put(at, igvmKey.subarray(0, 4));
  w.put(at + 4, igvmKey.subarray(8, 80));
  w.put(at + 76, igvmKey.subarray(80, 152));
}

/** The author key is enabled iff the first byte of the author key (its curve) is non-zero. */
export function authorKeyEnabled(idAuth: Uint8Array): boolean {
  return idAuth[0x880] !== 0;
}
