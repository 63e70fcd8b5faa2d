// The pc/q35 guest-physical address space QEMU's IGVM loader prepares memory in: memory_region_find and qigvm_prepare_memory (QEMU-LOADER.md §5.1).
//
// What is mapped when the IGVM file is processed (end of pc_q35_init / pc_init1, `-nodefaults`, no firmware loaded):
// * `pc.ram` 0 … below-4G size and from 4 GiB (or 1 TiB) for the rest — RAM. The VGA window 0xA0000–0xBFFFF and
//   0xE0000–0xFFFFF show RAM: the SMRAM and PAM aliases there point into the PCI address space, which is empty
//   (no VGA with -nodefaults; with IGVM QEMU loads no BIOS, so no isa-bios), and empty containers are transparent.
// * `pc.rom` 0xC0000–0xDFFFF (128 KiB option-ROM area, still created with IGVM, visible through the PAM aliases) —
//   RAM for memory_region_is_ram (read-only for the guest on PCI machines unless guest_memfd), so the loader writes
//   into it, and a page region crossing 0xC0000 or 0xE0000 exceeds the RAM range it starts in.
// * MMIO: the IOAPIC 0xFEC00000 (4 KiB), the HPET 0xFED00000 (1 KiB), the local APIC 0xFEE00000 (1 MiB).
// * Nothing else at reset: PCI BARs are unassigned, q35's MMCONFIG (PCIEXBAR), RCRB, TSEG and SMBASE windows are
//   disabled, and there is no BIOS flash below 4 GiB. Everything else is unmapped.
// memory_region_find returns the lowest flat range intersecting [addr, addr+size) clipped to it; ranges the loader
// creates (`igvm.<HEX>`) only go where nothing is mapped, so they never overlap anything.
import type { RamLayout } from '../e820.js';
import type { AddressRange, QemuAccel, RamTarget } from '../plan.js';
import { MSG } from './messages.js';

export interface FlatRange extends AddressRange {
  /** Offset in the memory region of `start`. */
  offset: bigint;
  guestMemfd: boolean;
}

export const IOAPIC_BASE = 0xfec00000n;
export const HPET_BASE = 0xfed00000n;
export const LAPIC_BASE = 0xfee00000n;
export const PC_ROM_BASE = 0xc0000n;
export const PC_ROM_SIZE = 0x20000n;

/** Why preparing a range failed, with QEMU's message. */
export type PrepareResult =
  | { ok: true; ram: RamTarget }
  | { ok: false; message: string; detail: string };

export class AddressSpace {
  private ranges: FlatRange[];

  constructor(ram: RamLayout, accel: QemuAccel, guestMemfd: boolean) {
    this.ranges = staticMap(ram, accel, guestMemfd);
  }

  /** The flat view, lowest address first. */
  view(): AddressRange[] {
    return this.ranges.map(({ start, end, name, kind, readonly, created }) => ({ start, end, name, kind, readonly, created }));
  }

  /** memory_region_find: the lowest flat range intersecting [addr, addr+size), and the size of the intersection. */
  find(addr: bigint, size: bigint): { range: FlatRange; size: bigint } | undefined {
    const end = addr + size;
    for (const r of this.ranges) {
      if (size === 0n ? r.start < addr && addr < r.end : r.start < end && addr < r.end) {
        const lo = addr > r.start ? addr : r.start;
        const hi = end < r.end ? end : r.end;
        return { range: r, size: hi - lo };
      }
    }
    return undefined;
  }

  /**
   * qigvm_prepare_memory: RAM covering the whole range, an error for MMIO or a too small RAM range, or a new RAM
   * region `igvm.<HEX index>` of exactly that size where nothing is mapped.
   */
  prepare(addr: bigint, size: bigint, index: number, guestMemfd: boolean): PrepareResult {
    const hit = this.find(addr, size);
    if (hit) {
      const where = `0x${addr.toString(16)}–0x${(addr + size - 1n).toString(16)} meets ${hit.range.name} (0x${hit.range.start.toString(16)}–0x${(hit.range.end - 1n).toString(16)})`;
      if (hit.range.kind !== 'ram') return { ok: false, message: MSG.nonRamRegion(addr), detail: `the range ${where}, which is MMIO` };
      if (hit.size < size) return { ok: false, message: MSG.regionSizeExceeded(addr), detail: `the range ${where}, which holds only 0x${hit.size.toString(16)} bytes of it` };
      const r = hit.range;
      return { ok: true, ram: { name: r.name, offset: r.offset + (addr - r.start), created: false, guestMemfd: r.guestMemfd, readonly: r.readonly } };
    }
    const name = `igvm.${index.toString(16).toUpperCase()}`;
    if (size > 0n) this.insert({ start: addr, end: addr + size, name, kind: 'ram', readonly: false, created: true, offset: 0n, guestMemfd });
    return { ok: true, ram: { name, offset: 0n, created: true, guestMemfd, readonly: false } };
  }

  private insert(r: FlatRange): void {
    this.ranges.push(r);
    this.ranges.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  }
}

function staticMap(ram: RamLayout, accel: QemuAccel, guestMemfd: boolean): FlatRange[] {
  const out: FlatRange[] = [];
  const ramRange = (start: bigint, end: bigint, offset: bigint): void => {
    if (end > start) out.push({ start, end, name: 'pc.ram', kind: 'ram', readonly: false, created: false, offset, guestMemfd });
  };
  const low = ram.below4g;
  ramRange(0n, low < PC_ROM_BASE ? low : PC_ROM_BASE, 0n);
  // pc.rom is read-only on PCI machines, except as guest_memfd RAM (sev-snp-guest), which QEMU leaves writable.
  out.push({ start: PC_ROM_BASE, end: PC_ROM_BASE + PC_ROM_SIZE, name: 'pc.rom', kind: 'ram', readonly: !guestMemfd, created: false, offset: 0n, guestMemfd });
  ramRange(PC_ROM_BASE + PC_ROM_SIZE, low, PC_ROM_BASE + PC_ROM_SIZE);
  const kvm = accel === 'kvm';
  const mmio = (start: bigint, size: bigint, name: string): void => {
    out.push({ start, end: start + size, name, kind: 'mmio', readonly: false, created: false, offset: 0n, guestMemfd: false });
  };
  mmio(IOAPIC_BASE, 0x1000n, kvm ? 'kvm-ioapic' : 'ioapic');
  mmio(HPET_BASE, 0x400n, 'hpet');
  mmio(LAPIC_BASE, 0x100000n, kvm ? 'kvm-apic-msi' : 'apic-msi');
  ramRange(ram.above4gStart, ram.above4gStart + ram.above4g, low);
  out.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  return out;
}
