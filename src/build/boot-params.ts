// The loader's low-memory layout, the e820 table and struct boot_params for `igvm build` (LINUX-NATIVE-BOOT.md; Linux boot protocol, zero-page.rst).
import { IgvmError } from '../errors.js';
import { ramLayout, type RamLayout } from '../load/e820.js';

/** Fixed GPAs of everything the builder adds besides kernel, initrd and ACPI. */
export const LAYOUT = {
  /** boot_params for NATIVE and SEV-ES (identical for both). */
  bootParams: 0x10000,
  /** boot_params for SEV-SNP (differs by cc_blob_address). */
  bootParamsSnp: 0x11000,
  /** NUL-terminated command line (up to the reserved area). */
  cmdline: 0x12000,
  /** Start of the loader's reserved area: the e820 low RAM entry ends here. */
  reservedStart: 0x9a000,
  /** Parameter area 0 (MEMORY_MAP at offset 0) is inserted here. */
  memoryMap: 0x9a000,
  /** Parameter area 1 (VP_COUNT at 0, ENVIRONMENT_INFO at 4) is inserted here. */
  vpInfo: 0x9b000,
  /** SEV-SNP: struct cc_blob_sev_info. */
  ccBlob: 0x9c000,
  /** SEV-SNP: CPUID page (IGVM data type CPUID_DATA). */
  cpuid: 0x9d000,
  /** SEV-SNP: secrets page (IGVM data type SECRETS). */
  secrets: 0x9e000,
  /** ACPI: RSDP page and the first table page (in the reserved hole 0x9A000–0x100000). */
  rsdp: 0xe0000,
  acpiBase: 0xe1000,
  /** Where e820 RAM resumes. */
  highRam: 0x100000,
} as const;

/** The SEV-SNP VMSA GPA QEMU/KVM requires (QEMU-LOADER.md §7.3). */
export const KVM_VMSA_GPA = 0xfffffffff000n;

export const E820_RAM = 1;
export const E820_RESERVED = 2;

export interface E820Entry {
  addr: bigint;
  size: bigint;
  type: number;
}

export type Machine = 'q35' | 'pc';

/** QEMU's RAM split for `memory` (AMD vendor, as qemu64 and every SEV host). */
export function qemuRam(memory: bigint, machine: Machine): RamLayout {
  return ramLayout({ memory, machine, accel: 'kvm', cpuVendor: 'amd', physBits: 48 });
}

/** e820 as the guest gets it in boot_params: low RAM, the loader's reserved hole up to 1 MiB, RAM to QEMU's below-4G split, RAM above 4 GiB. */
export function e820For(ram: RamLayout): E820Entry[] {
  if (ram.below4g <= BigInt(LAYOUT.highRam)) {
    throw new IgvmError('memory-too-small', `--memory ${ram.size} bytes leaves no RAM above 1 MiB for the kernel`, { path: '--memory' });
  }
  const out: E820Entry[] = [
    { addr: 0n, size: BigInt(LAYOUT.reservedStart), type: E820_RAM },
    { addr: BigInt(LAYOUT.reservedStart), size: BigInt(LAYOUT.highRam - LAYOUT.reservedStart), type: E820_RESERVED },
    { addr: BigInt(LAYOUT.highRam), size: ram.below4g - BigInt(LAYOUT.highRam), type: E820_RAM },
  ];
  if (ram.above4g > 0n) out.push({ addr: ram.above4gStart, size: ram.above4g, type: E820_RAM });
  return out;
}

export interface BootParamsInput {
  /** Setup header bytes copied to 0x1F1 (bzImage), or undefined (ELF). */
  setupHeader: Uint8Array | undefined;
  code32Start: number;
  cmdLinePtr: number;
  ramdisk: { addr: number; size: number } | undefined;
  acpiRsdpAddr: number;
  ccBlobAddress: number | undefined;
  e820: readonly E820Entry[];
}

/** struct boot_params offsets used. */
export const BP = {
  acpiRsdpAddr: 0x070,
  extRamdiskImage: 0x0c0,
  extRamdiskSize: 0x0c4,
  extCmdLinePtr: 0x0c8,
  ccBlobAddress: 0x13c,
  e820Entries: 0x1e8,
  setupHeader: 0x1f1,
  typeOfLoader: 0x210,
  code32Start: 0x214,
  ramdiskImage: 0x218,
  ramdiskSize: 0x21c,
  cmdLinePtr: 0x228,
  e820Table: 0x2d0,
} as const;
const E820_MAX = 128;

/** The 4096-byte zero page; fields not listed stay as the kernel's setup header has them (or zero). */
export function encodeBootParams(p: BootParamsInput): Uint8Array {
  const page = new Uint8Array(0x1000);
  const dv = new DataView(page.buffer);
  if (p.setupHeader) page.set(p.setupHeader, BP.setupHeader);
  dv.setUint8(BP.typeOfLoader, 0xff);
  dv.setUint32(BP.code32Start, p.code32Start >>> 0, true);
  if (p.ramdisk) {
    dv.setUint32(BP.ramdiskImage, p.ramdisk.addr >>> 0, true);
    dv.setUint32(BP.ramdiskSize, p.ramdisk.size >>> 0, true);
  }
  dv.setUint32(BP.cmdLinePtr, p.cmdLinePtr >>> 0, true);
  dv.setBigUint64(BP.acpiRsdpAddr, BigInt(p.acpiRsdpAddr), true);
  if (p.ccBlobAddress !== undefined) dv.setUint32(BP.ccBlobAddress, p.ccBlobAddress >>> 0, true);
  if (p.e820.length > E820_MAX) throw new IgvmError('e820-too-many', `${p.e820.length} e820 entries; boot_params holds at most ${E820_MAX}`);
  dv.setUint8(BP.e820Entries, p.e820.length);
  p.e820.forEach((e, i) => {
    const at = BP.e820Table + i * 20;
    dv.setBigUint64(at, e.addr, true);
    dv.setBigUint64(at + 8, e.size, true);
    dv.setUint32(at + 16, e.type, true);
  });
  return page;
}
