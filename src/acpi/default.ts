// Built-in ACPI table set for a firmware-less x86 guest (ACPI 6.3 §5.2.5 RSDP placement, §5.2.8–§5.2.12 XSDT/FADT/FACS/DSDT/MADT, §7.4.2 \_S5).
import { IgvmError } from '../errors.js';
import type { AcpiImage } from './image.js';
import * as aml from './aml.js';
import {
  FADT_FLAG,
  FADT_SIZE,
  HEADER_SIZE,
  GAS_SYSTEM_IO,
  IAPC_BOOT_ARCH,
  MADT_PCAT_COMPAT,
  MPS_INTI,
  encodeDsdt,
  encodeFacs,
  encodeFadt,
  encodeMadt,
  encodeRsdp,
  encodeXsdt,
  type MadtEntry,
  type TableIds,
} from './tables.js';

export interface DefaultAcpiOptions {
  /** Number of virtual processors, 1..255 (APIC IDs 0..vcpus−1; the I/O APIC gets ID `vcpus`). */
  vcpus: number;
  /** OEM ID, ≤ 6 printable ASCII characters (default "IGVMKT"). */
  oemId?: string;
  /** OEM table ID, ≤ 8 printable ASCII characters (default "IGVMACPI"), the same in every table. */
  oemTableId?: string;
  /** I/O APIC MMIO address (default 0xFEC00000). */
  ioApicAddress?: number;
  /** Page-aligned GPA of the XSDT, where the tables region starts (default 0x100000). */
  base?: number;
}

const PAGE = 0x1000;
/** The RSDP's fixed GPA: Linux reads it from boot_params.acpi_rsdp_addr (IGVMGEN.md §3.4); it also lies in the BIOS search area 0xE0000–0xFFFFF. */
export const DEFAULT_RSDP_GPA = 0xe0000;
export const DEFAULT_ACPI_BASE = 0x100000;
export const DEFAULT_OEM_ID = 'IGVMKT';
export const DEFAULT_OEM_TABLE_ID = 'IGVMACPI';
export const DEFAULT_IOAPIC_ADDRESS = 0xfec00000;
export const LOCAL_APIC_ADDRESS = 0xfee00000;
export const CREATOR_ID = 'IGVM';
export const CREATOR_REVISION = 1;
export const OEM_REVISION = 1;
export const MAX_VCPUS = 255;

/** IAPC_BOOT_ARCH written: no VGA (the guest console is the serial port); no 8042, no legacy devices; MSI allowed; CMOS RTC present. */
export const DEFAULT_IAPC_BOOT_ARCH = IAPC_BOOT_ARCH.VGA_NOT_PRESENT;

/** Reset register: the PC reset control register at I/O port 0xCF9, value 6 (hard reset + reset CPU), as on PIIX3/ICH9. */
export const RESET_PORT = 0xcf9;
export const RESET_VALUE = 0x06;

/** COM1: 16550 at I/O 0x3F8–0x3FF, ISA IRQ 4. */
export const COM1_IO_BASE = 0x3f8;
export const COM1_IRQ = 4;

/**
 * The DSDT's AML TermList (names relative to the root, as iasl emits them):
 *   Name (_S5, Package () {5, 0, 0, 0})
 *   Scope (_SB) { Device (COM1) { _HID EISAID("PNP0501"), _UID 1, _CRS { IO 0x3F8 len 8, IRQNoFlags {4} } } }
 * _S5 holds SLP_TYPa = 5, SLP_TYPb = 0 and two reserved entries.
 */
export function defaultDsdtAml(): Uint8Array {
  return aml.concat(
    aml.name('_S5', aml.pkgOf([aml.int(5), aml.int(0), aml.int(0), aml.int(0)])),
    aml.scope('_SB', [
      aml.device('COM1', [
        aml.name('_HID', aml.int(aml.eisaId('PNP0501'))),
        aml.name('_UID', aml.int(1)),
        aml.name('_CRS', aml.resourceTemplate([aml.ioPort(COM1_IO_BASE, COM1_IO_BASE, 0, 8), aml.irq([COM1_IRQ])])),
      ]),
    ]),
  );
}

/** MADT structures: one enabled Local APIC per vCPU, the I/O APIC, ISA IRQ0 → GSI 2 (edge/high) and IRQ9 → GSI 9 (level/high). */
export function defaultMadtEntries(vcpus: number, ioApicAddress: number): MadtEntry[] {
  const entries: MadtEntry[] = [];
  for (let i = 0; i < vcpus; i++) entries.push({ type: 'local-apic', uid: i, apicId: i, enabled: true });
  entries.push({ type: 'io-apic', id: vcpus, address: ioApicAddress, gsiBase: 0 });
  entries.push({ type: 'interrupt-override', bus: 0, source: 0, gsi: 2, flags: MPS_INTI.EDGE | MPS_INTI.ACTIVE_HIGH });
  entries.push({ type: 'interrupt-override', bus: 0, source: 9, gsi: 9, flags: MPS_INTI.LEVEL | MPS_INTI.ACTIVE_HIGH });
  return entries;
}

const align = (x: number, a: number) => Math.ceil(x / a) * a;

function option(ok: boolean, code: string, path: string, message: string): void {
  if (!ok) throw new IgvmError(code, message, { path });
}

/**
 * Build the default tables. Layout (all below 4 GiB): RSDP alone at 0xE0000; XSDT at `base`;
 * then FACP, FACS (64-byte aligned), DSDT and APIC, each 8-byte aligned, packed after it.
 * `acpiEnd` is the page-aligned end of the APIC table (0x101000 for up to 255 vCPUs).
 */
export function buildDefaultAcpi(opts: DefaultAcpiOptions): AcpiImage {
  const { vcpus } = opts;
  option(Number.isInteger(vcpus) && vcpus >= 1 && vcpus <= MAX_VCPUS, 'acpi-bad-vcpus', 'vcpus', `vcpus must be an integer in 1..${MAX_VCPUS}, got ${String(vcpus)}`);
  const oemId = opts.oemId ?? DEFAULT_OEM_ID;
  const oemTableId = opts.oemTableId ?? DEFAULT_OEM_TABLE_ID;
  option(/^[\x20-\x7e]{1,6}$/.test(oemId), 'acpi-bad-oem-id', 'oemId', `OEM ID ${JSON.stringify(oemId)} must be 1..6 printable ASCII characters`);
  option(/^[\x20-\x7e]{1,8}$/.test(oemTableId), 'acpi-bad-oem-table-id', 'oemTableId', `OEM table ID ${JSON.stringify(oemTableId)} must be 1..8 printable ASCII characters`);
  const ioApic = opts.ioApicAddress ?? DEFAULT_IOAPIC_ADDRESS;
  option(Number.isInteger(ioApic) && ioApic > 0 && ioApic <= 0xffffffff && ioApic % 4 === 0, 'acpi-bad-ioapic', 'ioApicAddress', `I/O APIC address ${String(ioApic)} must be a 4-byte aligned 32-bit address`);
  const base = opts.base ?? DEFAULT_ACPI_BASE;
  option(Number.isInteger(base) && base % PAGE === 0 && base >= DEFAULT_RSDP_GPA + PAGE, 'acpi-bad-base', 'base', `ACPI base ${String(base)} must be page-aligned and above the RSDP page (≥ 0xE1000)`);

  const ids: TableIds = { oemId, oemTableId, oemRevision: OEM_REVISION, creatorId: CREATOR_ID, creatorRevision: CREATOR_REVISION };
  const dsdt = encodeDsdt(ids, defaultDsdtAml());
  const facs = encodeFacs();
  const madt = encodeMadt(ids, LOCAL_APIC_ADDRESS, MADT_PCAT_COMPAT, defaultMadtEntries(vcpus, ioApic));
  const xsdtSize = HEADER_SIZE + 8 * 2; // FACP and APIC

  const xsdtAt = base;
  const facpAt = align(xsdtAt + xsdtSize, 8);
  const facsAt = align(facpAt + FADT_SIZE, 64);
  const dsdtAt = align(facsAt + facs.length, 8);
  const madtAt = align(dsdtAt + dsdt.length, 8);
  const end = madtAt + madt.length;
  const acpiEnd = align(end, PAGE);
  option(acpiEnd <= 0x100000000, 'acpi-bad-base', 'base', `ACPI tables at base 0x${base.toString(16)} would cross 4 GiB`);

  const facp = encodeFadt(ids, {
    dsdt: dsdtAt,
    facs: facsAt,
    flags: FADT_FLAG.HW_REDUCED_ACPI,
    iapcBootArch: DEFAULT_IAPC_BOOT_ARCH,
    reset: { register: { spaceId: GAS_SYSTEM_IO, bitWidth: 8, bitOffset: 0, accessSize: 1, address: RESET_PORT }, value: RESET_VALUE },
  });
  const xsdt = encodeXsdt(ids, [facpAt, madtAt]);
  if (xsdt.length !== xsdtSize) throw new Error('internal: XSDT size');
  const rsdp = encodeRsdp(oemId, xsdtAt);

  const region = new Uint8Array(end - base);
  const placed: [string, number, Uint8Array][] = [
    ['XSDT', xsdtAt, xsdt],
    ['FACP', facpAt, facp],
    ['FACS', facsAt, facs],
    ['DSDT', dsdtAt, dsdt],
    ['APIC', madtAt, madt],
  ];
  const tables = new Map<string, number>([['RSDP', DEFAULT_RSDP_GPA]]);
  for (const [sig, at, bytes] of placed) {
    region.set(bytes, at - base);
    tables.set(sig, at);
  }
  const pages = new Map<number, Uint8Array>([[DEFAULT_RSDP_GPA, rsdp]]);
  for (let off = 0; off < region.length; off += PAGE) {
    pages.set(base + off, region.slice(off, Math.min(off + PAGE, region.length)));
  }
  return { pages, acpiEnd, rsdp: DEFAULT_RSDP_GPA, source: 'built-in', tables };
}
