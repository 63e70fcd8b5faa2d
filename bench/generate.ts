// Benchmark inputs: a v1 IGVM file (FORMAT.md §2–§6) with platforms, an optional GUEST_POLICY and N PAGE_DATA of distinct pseudo-random pages.
import { crc32 } from '../src/format/crc32.js';

export interface GenerateOptions {
  pages: number;
  /** SUPPORTED_PLATFORM types in order; platform i gets mask 1 << i (VSM_ISOLATION gets highest VTL 2). */
  platforms: readonly number[];
  /** GUEST_POLICY value for mask 1, or undefined for none. */
  policy?: bigint;
  /** Page number whose byte 100 is flipped (to make a second, nearly equal file). */
  flip?: number;
}

/** The file and a view of its page data (the pages' bytes, back to back). */
export function generateIgvm(o: GenerateOptions): { bytes: Uint8Array; data: Uint8Array } {
  const FIXED = 24;
  const pageMask = (1 << o.platforms.length) - 1;
  const headers = o.platforms.length * 24 + (o.policy !== undefined ? 24 : 0) + o.pages * 32;
  const dataStart = FIXED + headers;
  const bytes = new Uint8Array(dataStart + o.pages * 4096);
  const dv = new DataView(bytes.buffer);
  let at = FIXED;
  const tlv = (type: number, length: number): number => {
    dv.setUint32(at, type, true);
    dv.setUint32(at + 4, length, true);
    const body = at + 8;
    at += 8 + length;
    return body;
  };
  o.platforms.forEach((type, i) => {
    const b = tlv(0x001, 16); // SUPPORTED_PLATFORM
    dv.setUint32(b, 1 << i, true);
    dv.setUint8(b + 4, type === 1 ? 2 : 0);
    dv.setUint8(b + 5, type);
    dv.setUint16(b + 6, 1, true);
  });
  if (o.policy !== undefined) {
    const b = tlv(0x101, 16); // GUEST_POLICY
    dv.setBigUint64(b, o.policy, true);
    dv.setUint32(b + 8, 1, true);
  }
  for (let p = 0; p < o.pages; p++) {
    const b = tlv(0x302, 24); // PAGE_DATA
    dv.setBigUint64(b, BigInt(0x100000 + p * 4096), true);
    dv.setUint32(b + 8, pageMask, true);
    dv.setUint32(b + 12, dataStart + p * 4096, true);
  }
  // Pseudo-random page contents (xorshift32), each page stamped with its index so that no two are equal.
  const words = new Uint32Array(bytes.buffer, dataStart, o.pages * 1024);
  let x = 0x2545f491;
  for (let w = 0; w < words.length; w++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[w] = x >>> 0;
  }
  for (let p = 0; p < o.pages; p++) words[p * 1024] = p;
  if (o.flip !== undefined) bytes[dataStart + o.flip * 4096 + 100] = (bytes[dataStart + o.flip * 4096 + 100] ?? 0) ^ 0x5a;
  dv.setUint32(0, 0x4d564749, true); // 'IGVM'
  dv.setUint32(4, 1, true);
  dv.setUint32(8, FIXED, true);
  dv.setUint32(12, headers, true);
  dv.setUint32(16, bytes.length, true);
  dv.setUint32(20, crc32(bytes.subarray(FIXED, dataStart), crc32(bytes.subarray(0, FIXED))), true);
  return { bytes, data: bytes.subarray(dataStart) };
}
