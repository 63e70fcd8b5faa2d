// ACPI table encoders (ACPI 6.3 §5.2.3.2 GAS, §5.2.5.3 RSDP, §5.2.6 header, §5.2.8 XSDT, §5.2.9 FADT, §5.2.10 FACS, §5.2.11.1 DSDT, §5.2.12 MADT).

/** The identification fields of the 36-byte System Description Table Header (§5.2.6). */
export interface TableIds {
  /** ≤ 6 printable ASCII characters, padded with spaces. */
  readonly oemId: string;
  /** ≤ 8 printable ASCII characters, padded with spaces. */
  readonly oemTableId: string;
  readonly oemRevision: number;
  /** Exactly 4 printable ASCII characters. */
  readonly creatorId: string;
  readonly creatorRevision: number;
}

export const HEADER_SIZE = 36;
export const RSDP_SIZE = 36;
export const FADT_SIZE = 276;
export const FACS_SIZE = 64;

// Table revisions written (ACPI 6.3).
export const XSDT_REVISION = 1;
export const FADT_REVISION = 6;
export const FADT_MINOR_REVISION = 3;
export const MADT_REVISION = 5;
/** DSDT revision 2: AML integers are 64 bits wide. */
export const DSDT_REVISION = 2;
export const FACS_VERSION = 2;
export const RSDP_REVISION = 2;

/** FADT Flags bits (§5.2.9). */
export const FADT_FLAG = {
  WBINVD: 1 << 0,
  PWR_BUTTON: 1 << 4,
  SLP_BUTTON: 1 << 5,
  RESET_REG_SUP: 1 << 10,
  HW_REDUCED_ACPI: 1 << 20,
} as const;

/** FADT IA-PC Boot Architecture Flags (§5.2.9.3). */
export const IAPC_BOOT_ARCH = {
  LEGACY_DEVICES: 1 << 0,
  I8042: 1 << 1,
  VGA_NOT_PRESENT: 1 << 2,
  MSI_NOT_SUPPORTED: 1 << 3,
  PCIE_ASPM_CONTROLS: 1 << 4,
  CMOS_RTC_NOT_PRESENT: 1 << 5,
} as const;

/** MADT Flags (§5.2.12). */
export const MADT_PCAT_COMPAT = 1;

/** MPS INTI flags of an Interrupt Source Override (§5.2.12.5). */
export const MPS_INTI = {
  POLARITY_CONFORMS: 0b00,
  ACTIVE_HIGH: 0b01,
  ACTIVE_LOW: 0b11,
  TRIGGER_CONFORMS: 0b00 << 2,
  EDGE: 0b01 << 2,
  LEVEL: 0b11 << 2,
} as const;

/** Generic Address Structure (§5.2.3.2), 12 bytes. */
export interface GenericAddress {
  /** 0 system memory, 1 system I/O, 2 PCI configuration space, … */
  readonly spaceId: number;
  readonly bitWidth: number;
  readonly bitOffset: number;
  /** 0 undefined, 1 byte, 2 word, 3 dword, 4 qword. */
  readonly accessSize: number;
  readonly address: number | bigint;
}

export const GAS_SYSTEM_MEMORY = 0;
export const GAS_SYSTEM_IO = 1;

/** Value to store in a checksum byte so that `bytes[start, end)` (with that byte zero) sums to 0 mod 256. */
export function checksumByte(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return (0x100 - sum8(bytes, start, end)) & 0xff;
}

/** Sum of `bytes[start, end)` mod 256 (0 for a table with a correct checksum). */
export function sum8(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let s = 0;
  for (let i = start; i < end; i++) s = (s + (bytes[i] ?? 0)) & 0xff;
  return s;
}

/** ASCII text padded with `pad` to exactly `size` bytes; longer or non-printable text is a RangeError. */
export function asciiField(text: string, size: number, what: string, pad = ' '): Uint8Array {
  if (text.length > size || !/^[\x20-\x7e]*$/.test(text)) {
    throw new RangeError(`${what} ${JSON.stringify(text)} must be at most ${size} printable ASCII characters`);
  }
  return Uint8Array.from(text.padEnd(size, pad), (c) => c.charCodeAt(0));
}

function dv(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function u64(view: DataView, offset: number, value: number | bigint): void {
  view.setBigUint64(offset, BigInt(value), true);
}

function check32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`${what} 0x${v.toString(16)} does not fit in 32 bits`);
}

/**
 * A complete table: the 36-byte header (signature, Length, revision, checksum, OEM ID,
 * OEM table ID, OEM revision, creator ID, creator revision) followed by `body`.
 */
export function encodeTable(signature: string, revision: number, ids: TableIds, body: Uint8Array): Uint8Array {
  if (!/^[A-Z0-9_]{4}$/.test(signature)) throw new RangeError(`invalid table signature ${JSON.stringify(signature)}`);
  if (ids.creatorId.length !== 4) throw new RangeError(`creator ID ${JSON.stringify(ids.creatorId)} must be 4 characters`);
  check32('OEM revision', ids.oemRevision);
  check32('creator revision', ids.creatorRevision);
  const out = new Uint8Array(HEADER_SIZE + body.length);
  const v = dv(out);
  out.set(asciiField(signature, 4, 'signature'), 0);
  v.setUint32(4, out.length, true);
  v.setUint8(8, revision);
  out.set(asciiField(ids.oemId, 6, 'OEM ID'), 10);
  out.set(asciiField(ids.oemTableId, 8, 'OEM table ID'), 16);
  v.setUint32(24, ids.oemRevision, true);
  out.set(asciiField(ids.creatorId, 4, 'creator ID'), 28);
  v.setUint32(32, ids.creatorRevision, true);
  out.set(body, HEADER_SIZE);
  out[9] = checksumByte(out);
  return out;
}

/** Generic Address Structure bytes. */
export function encodeGas(gas: GenericAddress): Uint8Array {
  const out = new Uint8Array(12);
  const v = dv(out);
  v.setUint8(0, gas.spaceId);
  v.setUint8(1, gas.bitWidth);
  v.setUint8(2, gas.bitOffset);
  v.setUint8(3, gas.accessSize);
  u64(v, 4, gas.address);
  return out;
}

/**
 * RSDP revision 2 (36 bytes): "RSD PTR ", checksum over the first 20 bytes, OEM ID,
 * revision 2, RsdtAddress, Length 36, XsdtAddress, extended checksum over all 36 bytes.
 */
export function encodeRsdp(oemId: string, xsdtAddress: number | bigint, rsdtAddress = 0): Uint8Array {
  check32('RSDT address', rsdtAddress);
  const out = new Uint8Array(RSDP_SIZE);
  const v = dv(out);
  out.set(asciiField('RSD PTR ', 8, 'RSDP signature'), 0);
  out.set(asciiField(oemId, 6, 'OEM ID'), 9);
  v.setUint8(15, RSDP_REVISION);
  v.setUint32(16, rsdtAddress, true);
  v.setUint32(20, RSDP_SIZE, true);
  u64(v, 24, xsdtAddress);
  out[8] = checksumByte(out, 0, 20);
  out[32] = checksumByte(out, 0, RSDP_SIZE);
  return out;
}

/** XSDT: the header and one 64-bit physical address per table. */
export function encodeXsdt(ids: TableIds, entries: readonly (number | bigint)[]): Uint8Array {
  const body = new Uint8Array(8 * entries.length);
  const v = dv(body);
  entries.forEach((e, i) => u64(v, 8 * i, e));
  return encodeTable('XSDT', XSDT_REVISION, ids, body);
}

/** The FADT fields this encoder sets; everything else (legacy PM blocks, SCI, SMI, …) is zero. */
export interface FadtOptions {
  /** DSDT address: written to X_DSDT and, when below 4 GiB, to the 32-bit DSDT field. */
  readonly dsdt: number;
  /** FACS address: written to X_FIRMWARE_CTRL and, when below 4 GiB, to FIRMWARE_CTRL (0 = no FACS). */
  readonly facs: number;
  /** Flags (offset 112), e.g. FADT_FLAG.HW_REDUCED_ACPI. RESET_REG_SUP is added when `reset` is given. */
  readonly flags: number;
  /** IA-PC Boot Architecture Flags (offset 109). */
  readonly iapcBootArch: number;
  /** Preferred_PM_Profile (offset 45): 0 unspecified, 1 desktop, … 4 enterprise server. */
  readonly pmProfile?: number;
  /** Reset register (offset 116) and the value to write (offset 128). */
  readonly reset?: { readonly register: GenericAddress; readonly value: number };
  /** SLEEP_CONTROL_REG (offset 244) and SLEEP_STATUS_REG (offset 256), used by HW-reduced platforms. */
  readonly sleep?: { readonly control: GenericAddress; readonly status: GenericAddress };
  /** Hypervisor Vendor Identity (offset 268), ≤ 8 ASCII characters. */
  readonly hypervisorVendor?: string;
}

/** FADT revision 6.3 (276 bytes). */
export function encodeFadt(ids: TableIds, o: FadtOptions): Uint8Array {
  const body = new Uint8Array(FADT_SIZE - HEADER_SIZE);
  const v = dv(body);
  const at = (offset: number) => offset - HEADER_SIZE; // offsets below are the spec's, from the table start
  const low = (x: number) => (x <= 0xffffffff ? x : 0);
  v.setUint32(at(36), low(o.facs), true); // FIRMWARE_CTRL
  v.setUint32(at(40), low(o.dsdt), true); // DSDT
  v.setUint8(at(45), o.pmProfile ?? 0); // Preferred_PM_Profile
  v.setUint16(at(109), o.iapcBootArch, true); // IAPC_BOOT_ARCH
  let flags = o.flags;
  if (o.reset !== undefined) {
    flags |= FADT_FLAG.RESET_REG_SUP;
    body.set(encodeGas(o.reset.register), at(116)); // RESET_REG
    v.setUint8(at(128), o.reset.value); // RESET_VALUE
  }
  v.setUint32(at(112), flags >>> 0, true); // Flags
  v.setUint8(at(131), FADT_MINOR_REVISION); // FADT Minor Version (bits 3:0 minor, 7:4 errata)
  u64(v, at(132), o.facs); // X_FIRMWARE_CTRL
  u64(v, at(140), o.dsdt); // X_DSDT
  if (o.sleep !== undefined) {
    body.set(encodeGas(o.sleep.control), at(244)); // SLEEP_CONTROL_REG
    body.set(encodeGas(o.sleep.status), at(256)); // SLEEP_STATUS_REG
  }
  if (o.hypervisorVendor !== undefined) body.set(asciiField(o.hypervisorVendor, 8, 'hypervisor vendor', '\0'), at(268));
  return encodeTable('FACP', FADT_REVISION, ids, body);
}

/** FACS (64 bytes, no checksum): signature, Length, version 2; hardware signature, waking vectors, flags all zero. */
export function encodeFacs(hardwareSignature = 0): Uint8Array {
  const out = new Uint8Array(FACS_SIZE);
  const v = dv(out);
  out.set(asciiField('FACS', 4, 'signature'), 0);
  v.setUint32(4, FACS_SIZE, true);
  v.setUint32(8, hardwareSignature >>> 0, true);
  v.setUint8(32, FACS_VERSION);
  return out;
}

/** DSDT: the header and an AML TermList. */
export function encodeDsdt(ids: TableIds, aml: Uint8Array): Uint8Array {
  return encodeTable('DSDT', DSDT_REVISION, ids, aml);
}

/** The MADT interrupt controller structures this encoder knows (types 0, 1, 2, 4). */
export type MadtEntry =
  | { readonly type: 'local-apic'; readonly uid: number; readonly apicId: number; readonly enabled: boolean; readonly onlineCapable?: boolean }
  | { readonly type: 'io-apic'; readonly id: number; readonly address: number; readonly gsiBase: number }
  | { readonly type: 'interrupt-override'; readonly bus: number; readonly source: number; readonly gsi: number; readonly flags: number }
  | { readonly type: 'local-apic-nmi'; readonly uid: number; readonly flags: number; readonly lint: number };

function encodeMadtEntry(e: MadtEntry): Uint8Array {
  switch (e.type) {
    case 'local-apic': {
      // Type 0, length 8: ACPI Processor UID, APIC ID, Flags (bit 0 Enabled, bit 1 Online Capable).
      const b = new Uint8Array(8);
      const v = dv(b);
      b.set([0, 8, e.uid, e.apicId]);
      v.setUint32(4, (e.enabled ? 1 : 0) | (e.onlineCapable === true ? 2 : 0), true);
      return b;
    }
    case 'io-apic': {
      // Type 1, length 12: I/O APIC ID, reserved, I/O APIC Address, Global System Interrupt Base.
      check32('I/O APIC address', e.address);
      const b = new Uint8Array(12);
      const v = dv(b);
      b.set([1, 12, e.id, 0]);
      v.setUint32(4, e.address, true);
      v.setUint32(8, e.gsiBase, true);
      return b;
    }
    case 'interrupt-override': {
      // Type 2, length 10: Bus (0 = ISA), Source (IRQ), Global System Interrupt, MPS INTI Flags.
      const b = new Uint8Array(10);
      const v = dv(b);
      b.set([2, 10, e.bus, e.source]);
      v.setUint32(4, e.gsi, true);
      v.setUint16(8, e.flags, true);
      return b;
    }
    case 'local-apic-nmi': {
      // Type 4, length 6: ACPI Processor UID (0xFF = all), MPS INTI Flags, Local APIC LINT#.
      const b = new Uint8Array(6);
      const v = dv(b);
      b.set([4, 6, e.uid]);
      v.setUint16(3, e.flags, true);
      b[5] = e.lint;
      return b;
    }
  }
}

/** MADT: Local Interrupt Controller Address, Flags, then the interrupt controller structures. */
export function encodeMadt(ids: TableIds, localApicAddress: number, flags: number, entries: readonly MadtEntry[]): Uint8Array {
  check32('local APIC address', localApicAddress);
  for (const e of entries) {
    const bytes = e.type === 'local-apic' ? [e.uid, e.apicId] : e.type === 'io-apic' ? [e.id] : e.type === 'interrupt-override' ? [e.bus, e.source] : [e.uid, e.lint];
    for (const x of bytes) if (!Number.isInteger(x) || x < 0 || x > 0xff) throw new RangeError(`MADT ${e.type} field ${x} does not fit in a byte`);
  }
  const parts = entries.map(encodeMadtEntry);
  const body = new Uint8Array(8 + parts.reduce((n, p) => n + p.length, 0));
  const v = dv(body);
  v.setUint32(0, localApicAddress, true);
  v.setUint32(4, flags, true);
  let at = 8;
  for (const p of parts) {
    body.set(p, at);
    at += p.length;
  }
  return encodeTable('APIC', MADT_REVISION, ids, body);
}
