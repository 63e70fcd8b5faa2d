// igvmgen's x86 boot state: GDT/TSS, identity page tables and the VMSA register values (IGVMGEN.md §6, §7.1).
import type { GuestMemory } from './guest-memory.js';
import { PAGE } from './guest-memory.js';
import type { SevSelector, VmsaFields } from '../format/contexts.js';

export type BootMode = 'x86' | 'x64';

/** GDT descriptors 0x08–0x20 (§6.3): kernel code, user code, kernel data, user data. */
const GDT_X86 = [0x00cf9b000000ffffn, 0x00cffb000000ffffn, 0x00cf93000000ffffn, 0x00cff3000000ffffn];
const GDT_X64 = [0x00af9b000000ffffn, 0x00affb000000ffffn, 0x00cf93000000ffffn, 0x00cff3000000ffffn];

const C_BIT = 1n << 51n;

/** Segment register state the generators put into the VMSA. */
export interface SegmentState {
  cs: SevSelector;
  ds: SevSelector;
  tr: SevSelector;
  gdtr: SevSelector;
}

/** A 32-bit available TSS descriptor (type 0xB as in the original: busy), limit 0x67, P=1, G=0. */
function tssDescriptor(base: number): bigint {
  const b = BigInt(base);
  const limit = 0x67n;
  return (limit & 0xffffn) | ((b & 0xffffffn) << 16n) | (0xbn << 40n) | (1n << 47n) | (((limit >> 16n) & 0xfn) << 48n) | (((b >> 24n) & 0xffn) << 56n);
}

/** Allocate the TSS (104 bytes) and right after it the GDT (48 or 56 bytes), unaligned; fill the GDT (§6.3). */
export function layoutGdt(mem: GuestMemory, mode: BootMode): SegmentState {
  const tss = mem.allocate(104);
  const gdtSize = mode === 'x64' ? 56 : 48;
  const gdt = mem.allocate(gdtSize);
  const entries = [0n, ...(mode === 'x64' ? GDT_X64 : GDT_X86), tssDescriptor(tss)];
  if (mode === 'x64') entries.push(0n); // upper half of the 16-byte TSS descriptor: base[63:32] = 0
  const bytes = new Uint8Array(gdtSize);
  const dv = new DataView(bytes.buffer);
  entries.forEach((e, i) => dv.setBigUint64(i * 8, e, true));
  mem.write(gdt, bytes);
  return {
    cs: { selector: 0x08, attrib: mode === 'x64' ? 0xa9b : 0xc9b, limit: 0xffffffff, base: 0n },
    ds: { selector: 0x18, attrib: 0xc93, limit: 0xffffffff, base: 0n },
    tr: { selector: 0x28, attrib: 0x08b, limit: 0x67, base: BigInt(tss) },
    gdtr: { selector: 0, attrib: 0, limit: gdtSize - 1, base: BigInt(gdt) },
  };
}

/** Paging registers produced by a page-table layout. */
export interface PagingState {
  cr3: bigint;
  cr4: bigint;
}

function writeEntries(mem: GuestMemory, pageGpa: number, entry: (i: number) => bigint): void {
  const bytes = new Uint8Array(PAGE);
  const dv = new DataView(bytes.buffer);
  for (let i = 0; i < 512; i++) dv.setBigUint64(i * 8, entry(i), true);
  mem.write(pageGpa, bytes);
}

/** Two-level identity map with 1 GiB pages covering 512 GiB (§6.1). */
export function layoutPaging2(mem: GuestMemory, encrypted: boolean): PagingState {
  const c = encrypted ? C_BIT : 0n;
  const pgd = mem.allocate(PAGE, PAGE);
  const pud = mem.allocate(PAGE, PAGE);
  writeEntries(mem, pgd, (i) => (i === 0 ? BigInt(pud) | 0x7n | c : 0n));
  writeEntries(mem, pud, (i) => (BigInt(i) << 30n) | c | 0x7n | 0x80n);
  return { cr3: BigInt(pgd) | c, cr4: 0x30n };
}

/** Four-level identity map of 16 GiB with 4 KiB pages: PGD, PUD, 16 PMD pages, 8192 PTE pages (§6.2). */
export function layoutPaging4(mem: GuestMemory, encrypted: boolean): PagingState {
  const cHigh = encrypted ? 0x80000 : 0; // bit 51 in the high 32-bit word
  const pgd = mem.allocate(PAGE, PAGE);
  const pud = mem.allocate(PAGE, PAGE);
  const pmd = mem.allocate(16 * PAGE, PAGE);
  const pte = mem.allocate(16 * 512 * PAGE, PAGE);
  const c = encrypted ? C_BIT : 0n;
  writeEntries(mem, pgd, (i) => (i === 0 ? BigInt(pud) | 0x7n | c : 0n));
  writeEntries(mem, pud, (k) => (k < 16 ? BigInt(pmd + k * PAGE) | 0x7n | c : 0n));
  const page = new Uint8Array(PAGE);
  const dv = new DataView(page.buffer);
  for (let k = 0; k < 16; k++) {
    writeEntries(mem, pmd + k * PAGE, (j) => BigInt(pte + (k * 512 + j) * PAGE) | 0x7n | c);
  }
  // 8192 PTE pages, 4M entries: computed with 32-bit halves (addresses below 16 GiB: high word = addr / 2^32).
  for (let t = 0; t < 16 * 512; t++) {
    const base = t * 512 * PAGE; // (k << 30) + (j << 21) with t = k·512 + j
    for (let i = 0; i < 512; i++) {
      const addr = base + i * PAGE;
      dv.setUint32(i * 8, ((addr % 0x100000000) | 0x7) >>> 0, true);
      dv.setUint32(i * 8 + 4, (Math.floor(addr / 0x100000000) | cHigh) >>> 0, true);
    }
    mem.write(pte + t * PAGE, page);
  }
  return { cr3: BigInt(pgd) | c, cr4: 0x20n };
}

export interface VmsaInputs {
  mode: BootMode;
  segments: SegmentState;
  paging: PagingState | undefined;
  svme: boolean;
  intel: boolean;
  rip: number;
  rsp: number;
  rsi: number;
}

/** The VMSA register values of §7.1 (fields not set stay zero; FS, GS, LDTR, IDTR are never set). */
export function vmsaFields(v: VmsaInputs): Partial<VmsaFields> {
  const svme = v.svme ? 0x1000n : 0n;
  const x64 = v.mode === 'x64';
  return {
    es: v.segments.ds, cs: v.segments.cs, ss: v.segments.ds, ds: v.segments.ds,
    gdtr: v.segments.gdtr, tr: v.segments.tr,
    efer: (x64 ? 0xd01n : 0n) | svme,
    cr4: x64 && v.paging ? v.paging.cr4 : 0n,
    cr3: x64 && v.paging ? v.paging.cr3 : 0n,
    cr0: x64 ? 0x80000001n : 0x1n,
    rflags: v.intel ? 2n : 0n,
    rip: BigInt(v.rip),
    rsp: BigInt(v.rsp),
    pat: 0x0007040600070406n,
    rsi: BigInt(v.rsi),
    sev_features: 0x9n,
    virtual_tom: 0n,
    xcr0: 1n,
  };
}
