// Linux x86 boot protocol pieces igvmgen uses: setup header checks, boot_params, e820, cc_blob_sev_info (IGVMGEN.md §3.1, §3.4, §3.5).
import { IgvmError } from '../errors.js';
import { PAGE } from './guest-memory.js';

/** The setup header igvmgen copies: 123 bytes at file offset 0x1F1 (up to and including kernel_info_offset). */
export const SETUP_HEADER_OFFSET = 0x1f1;
export const SETUP_HEADER_SIZE = 123;

export interface SetupHeader {
  /** The raw 123 bytes. */
  raw: Uint8Array;
  setupSects: number;
  prefAddress: number;
  initSize: number;
  xloadflags: number;
  version: number;
}

/** Parse and check a bzImage's setup header (§3.1); `file` names it in errors. */
export function readSetupHeader(kernel: Uint8Array, file: string): SetupHeader {
  const fail = (code: string, message: string, offset: number, path: string): never => {
    throw new IgvmError(code, message, { file, offset, path });
  };
  if (kernel.length < SETUP_HEADER_OFFSET + SETUP_HEADER_SIZE) {
    fail('bzimage-truncated', `a bzImage has a setup header at 0x1f1..0x26c; the file is only ${kernel.length} bytes`, kernel.length, 'setup_header');
  }
  const dv = new DataView(kernel.buffer, kernel.byteOffset, kernel.byteLength);
  const sig = dv.getUint32(0x202, true);
  if (sig !== 0x53726448) {
    const got = Array.from(kernel.subarray(0x202, 0x206), (b) => b.toString(16).padStart(2, '0')).join(' ');
    fail('bzimage-bad-signature', `not a Linux bzImage: expected the boot protocol signature "HdrS" (48 64 72 53) at offset 0x202, found ${got}`, 0x202, 'setup_header.header');
  }
  const version = dv.getUint16(0x206, true);
  const xloadflags = dv.getUint16(0x236, true);
  const prefBig = dv.getBigUint64(0x258, true);
  const initSize = dv.getUint32(0x260, true);
  if (prefBig <= 0x300000n) {
    fail('bzimage-bad-pref-address', `pref_address 0x${prefBig.toString(16)} must be above 3 MiB (0x300000)`, 0x258, 'setup_header.pref_address');
  }
  if (prefBig >= 2n ** 48n) {
    fail('bzimage-bad-pref-address', `pref_address 0x${prefBig.toString(16)} is beyond the 48-bit guest physical address space`, 0x258, 'setup_header.pref_address');
  }
  if ((xloadflags & 1) === 0) {
    fail('bzimage-not-64bit', `xloadflags 0x${xloadflags.toString(16)} lacks XLF_KERNEL_64 (bit 0): the kernel has no 64-bit entry`, 0x236, 'setup_header.xloadflags');
  }
  const prefAddress = Number(prefBig);
  if (prefAddress % PAGE !== 0) {
    fail('bzimage-unaligned', `pref_address 0x${prefAddress.toString(16)} is not a multiple of 4096`, 0x258, 'setup_header.pref_address');
  }
  if (initSize % PAGE !== 0) {
    fail('bzimage-unaligned', `init_size 0x${initSize.toString(16)} is not a multiple of 4096`, 0x260, 'setup_header.init_size');
  }
  return {
    raw: kernel.slice(SETUP_HEADER_OFFSET, SETUP_HEADER_OFFSET + SETUP_HEADER_SIZE),
    setupSects: kernel[SETUP_HEADER_OFFSET] ?? 0,
    prefAddress,
    initSize,
    xloadflags,
    version,
  };
}

/** Protected-mode kernel: the file from (setup_sects + 1) × 512 to the end (no "0 means 4" rule, as the original). */
export function protectedModeImage(kernel: Uint8Array, h: SetupHeader): Uint8Array {
  return kernel.subarray(Math.min(kernel.length, (h.setupSects + 1) * 512));
}

export const E820_RAM = 1;
export const E820_RESERVED = 2;
export const E820_ACPI = 3;

export interface E820Entry {
  addr: number;
  size: number;
  type: number;
}

/** boot_params fields igvmgen sets (struct boot_params offsets). */
export interface BootParams {
  setupHeader: Uint8Array | undefined;
  /** Field overrides inside the copied setup header, absent ones untouched. */
  typeOfLoader?: number;
  code32Start?: number;
  ramdiskImage?: number;
  ramdiskSize?: number;
  cmdLinePtr: number;
  cmdlineSize: number;
  acpiRsdpAddr: number;
  ccBlobAddress?: number;
  e820: readonly E820Entry[];
}

const E820_MAX = 128;

/** Encode the 4096-byte zero page. */
export function encodeBootParams(p: BootParams): Uint8Array {
  const page = new Uint8Array(PAGE);
  const dv = new DataView(page.buffer);
  if (p.setupHeader) page.set(p.setupHeader, SETUP_HEADER_OFFSET);
  if (p.typeOfLoader !== undefined) dv.setUint8(0x210, p.typeOfLoader);
  if (p.code32Start !== undefined) dv.setUint32(0x214, p.code32Start >>> 0, true);
  if (p.ramdiskImage !== undefined) dv.setUint32(0x218, p.ramdiskImage >>> 0, true);
  if (p.ramdiskSize !== undefined) dv.setUint32(0x21c, p.ramdiskSize >>> 0, true);
  dv.setUint32(0x228, p.cmdLinePtr >>> 0, true);
  dv.setUint32(0x238, p.cmdlineSize >>> 0, true);
  dv.setBigUint64(0x070, BigInt(p.acpiRsdpAddr), true);
  if (p.ccBlobAddress !== undefined) dv.setUint32(0x13c, p.ccBlobAddress >>> 0, true);
  if (p.e820.length > E820_MAX) throw new IgvmError('e820-too-many', `${p.e820.length} e820 entries; boot_params holds at most ${E820_MAX}`);
  dv.setUint8(0x1e8, p.e820.length);
  p.e820.forEach((e, i) => {
    const at = 0x2d0 + i * 20;
    dv.setBigUint64(at, BigInt(e.addr), true);
    dv.setBigUint64(at + 8, BigInt(e.size), true);
    dv.setUint32(at + 16, e.type, true);
  });
  return page;
}

/** struct cc_blob_sev_info (40 bytes): magic "AMDE", secrets and CPUID page addresses (§3.4). */
export function encodeCcBlob(secretsGpa: number, cpuidGpa: number): Uint8Array {
  const b = new Uint8Array(40);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0x45444d41, true);
  dv.setBigUint64(8, BigInt(secretsGpa), true);
  dv.setUint32(16, PAGE, true);
  dv.setBigUint64(24, BigInt(cpuidGpa), true);
  dv.setUint32(32, PAGE, true);
  return b;
}
