// QEMU's E820 table and RAM split for the pc and q35 machines, as the IGVM MEMORY_MAP parameter sees it (QEMU-LOADER.md §8).
//
// Modelled from hw/i386/pc_piix.c, pc_q35.c, pc.c and target/i386/kvm/kvm.c:
// * RAM below 4 GiB from 0: all of it when it fits, else 3 GiB on `pc` (RAM ≥ 3.5 GiB, max-ram-below-4g default) or
//   2 GiB on `q35` (RAM ≥ 2.75 GiB); no holes for 0xA0000–0xFFFFF and no ROM/MMIO entries.
// * The rest from 4 GiB, moved to 1 TiB on AMD CPUs when the 64-bit address space in use would reach the
//   HyperTransport hole (end of RAM above 4 GiB + the default 64-bit PCI hole: 2 GiB pc, 32 GiB q35).
// * AMD CPUs with ≥ 40 physical address bits: a reserved entry for the HyperTransport hole 0xFD00000000, 12 GiB.
// * KVM: a reserved 4-page entry at 0xFEFFC000 (identity map and TSS), created at accelerator start, i.e. first.
import type { QemuMachine, QemuAccel } from './plan.js';

export const E820_TYPE = { RAM: 1, RESERVED: 2, ACPI: 3, NVS: 4, UNUSABLE: 5 } as const;
export type E820TypeName = 'ram' | 'reserved' | 'acpi' | 'nvs' | 'unusable';

export interface E820Entry {
  address: bigint;
  length: bigint;
  /** E820 type code (1 RAM, 2 reserved, 3 ACPI, 4 NVS, 5 unusable). */
  type: number;
}

export interface RamLayout {
  /** RAM size after QEMU's rounding to 8 KiB. */
  size: bigint;
  below4g: bigint;
  above4g: bigint;
  /** Where the RAM above 4 GiB starts (4 GiB, or 1 TiB when relocated). */
  above4gStart: bigint;
}

export interface MachineShape {
  memory: bigint;
  machine: QemuMachine;
  accel: QemuAccel;
  cpuVendor: 'amd' | 'intel';
  physBits: number;
}

const GiB = 1n << 30n;
const FOUR_GIB = 4n * GiB;
const ONE_TIB = 1n << 40n;
export const AMD_HT_START = 0xfd00000000n;
export const AMD_HT_SIZE = 0x300000000n;
export const KVM_IDENTITY_BASE = 0xfeffc000n;
const KVM_IDENTITY_SIZE = 0x4000n;
const PCI_HOLE64_DEFAULT: Record<QemuMachine, bigint> = { pc: 2n * GiB, q35: 32n * GiB };

/** QEMU rounds -m up to a multiple of 8 KiB. */
export function alignRamSize(memory: bigint): bigint {
  return (memory + 0x1fffn) & ~0x1fffn;
}

/** How much RAM is mapped below 4 GiB (pc_init1 / pc_q35_init). */
export function lowRamSize(memory: bigint, machine: QemuMachine): bigint {
  if (machine === 'pc') {
    // max-ram-below-4g defaults to 3.5 GiB; gigabyte_align lowers it to 3 GiB when the RAM does not fit.
    const lowmem = memory >= 0xe0000000n ? 0xc0000000n : 0xe0000000n;
    return memory >= lowmem ? lowmem : memory;
  }
  const lowmem = memory >= 0xb0000000n ? 0x80000000n : 0xb0000000n;
  return memory >= lowmem ? lowmem : memory;
}

/** The RAM split and where the part above 4 GiB goes (x86_update_above_4g_mem_start for AMD CPUs). */
export function ramLayout(m: MachineShape): RamLayout {
  const size = alignRamSize(m.memory);
  const below4g = lowRamSize(size, m.machine);
  const above4g = size - below4g;
  let above4gStart = FOUR_GIB;
  if (m.cpuVendor === 'amd' && above4g > 0n) {
    const aboveEnd = alignUp(above4gStart + above4g, GiB);
    const maxUsed = aboveEnd + PCI_HOLE64_DEFAULT[m.machine] - 1n;
    if (maxUsed >= AMD_HT_START) above4gStart = ONE_TIB;
  }
  return { size, below4g, above4g, above4gStart };
}

function alignUp(v: bigint, a: bigint): bigint {
  return ((v + a - 1n) / a) * a;
}

/** The HyperTransport hole is advertised on AMD CPUs whose address space covers it (≥ 40 physical bits). */
function hasHtHoleEntry(m: MachineShape): boolean {
  return m.cpuVendor === 'amd' && m.physBits >= 40;
}

/** QEMU's E820 table in creation order (the KVM entry is made at accelerator start, before the machine's). */
export function e820Table(m: MachineShape): E820Entry[] {
  const ram = ramLayout(m);
  const out: E820Entry[] = [];
  if (m.accel === 'kvm') out.push({ address: KVM_IDENTITY_BASE, length: KVM_IDENTITY_SIZE, type: E820_TYPE.RESERVED });
  out.push({ address: 0n, length: ram.below4g, type: E820_TYPE.RAM });
  if (ram.above4g > 0n) out.push({ address: ram.above4gStart, length: ram.above4g, type: E820_TYPE.RAM });
  if (hasHtHoleEntry(m)) out.push({ address: AMD_HT_START, length: AMD_HT_SIZE, type: E820_TYPE.RESERVED });
  return out;
}

export function e820TypeName(type: number): E820TypeName | undefined {
  switch (type) {
    case E820_TYPE.RAM: return 'ram';
    case E820_TYPE.RESERVED: return 'reserved';
    case E820_TYPE.ACPI: return 'acpi';
    case E820_TYPE.NVS: return 'nvs';
    case E820_TYPE.UNUSABLE: return 'unusable';
    default: return undefined;
  }
}
