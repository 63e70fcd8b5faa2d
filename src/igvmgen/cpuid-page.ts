// igvmgen's SEV-SNP CPUID page: Hyper-V HV_PSP_CPUID_PAGE with 38 leaves, all outputs zero (IGVMGEN.md §7.3, §7.4).
import { PAGE } from './guest-memory.js';

/** [EaxIn, EcxIn, XfemIn] of each leaf, in the original's order. */
const LEAVES: readonly (readonly [number, number, number])[] = [
  [0x8000001f, 0, 0], [0x0, 0, 0], [0x1, 0, 0], [0x80000000, 0, 0], [0x2, 0, 0], [0x5, 0, 0], [0x6, 0, 0], [0x9, 0, 0],
  [0xa, 0, 0], [0x7, 0, 0], [0x4, 0, 0], [0x4, 1, 0], [0x4, 2, 0], [0xb, 0, 0], [0xb, 1, 0], [0x80000001, 0, 0],
  [0x80000005, 0, 0], [0x80000006, 0, 0], [0x80000007, 0, 0], [0x80000008, 0, 0], [0x8000000a, 0, 0], [0x8000001e, 0, 0],
  ...Array.from({ length: 9 }, (_, i) => [0xd, i, 1] as const),
  [0x80000002, 0, 0], [0x80000003, 0, 0], [0x80000004, 0, 0],
  ...Array.from({ length: 4 }, (_, i) => [0x8000001d, i, 0] as const),
];

const HEADER = 16;
const LEAF = 48;

/** The 4096-byte CPUID page: Count u32, reserved, then 48-byte leaves {EaxIn, EcxIn, XfemIn u64, XssIn u64, outputs, reserved}. */
export function cpuidPage(): Uint8Array {
  const page = new Uint8Array(PAGE);
  const dv = new DataView(page.buffer);
  dv.setUint32(0, LEAVES.length, true);
  LEAVES.forEach(([eax, ecx, xfem], i) => {
    const at = HEADER + i * LEAF;
    dv.setUint32(at, eax, true);
    dv.setUint32(at + 4, ecx, true);
    dv.setBigUint64(at + 8, BigInt(xfem), true);
  });
  return page;
}
