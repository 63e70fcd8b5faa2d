// Boot an IGVM file on a QEMU without IGVM support: guest memory regions from the load plan plus a reset-vector ROM
// that enters the native VP context (QEMU-LOADER.md §5, §6; stub/reset-vector.asm).
import { IgvmError } from '../errors.js';
import type { LoadPlan, SegmentState } from '../load/plan.js';
import { STUB_RANGES, STUB_ROM_SIZE } from './stub-bytes.js';

/** Parameter block and GDT offsets inside the ROM (stub/reset-vector.asm). */
const BLOCK = 0xf000;
const GDT = 0xf100;
const STUB_SELECTORS = [0xf0, 0xf8];
const ROM_BASE = 0xffff0000n;

export interface PolyfillRegion {
  gpa: bigint;
  bytes: Uint8Array;
  /** File name used when the region is written out. */
  name: string;
}

export interface Polyfill {
  /** 64 KiB ROM for `-bios`. */
  rom: Uint8Array;
  /** Guest memory contents to load (`-device loader,file=…,addr=…,force-raw=on`), in QEMU's population order. */
  regions: PolyfillRegion[];
  notes: string[];
}

/** The stub ROM with an empty parameter block. */
export function stubRom(): Uint8Array {
  const rom = new Uint8Array(STUB_ROM_SIZE);
  for (const [offset, hex] of STUB_RANGES) {
    for (let i = 0; i < hex.length / 2; i++) rom[offset + i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  }
  return rom;
}

/** A GDT descriptor for a segment given in QEMU SegmentCache form (attributes in bits 8–23 of `flags`). */
export function descriptorOf(s: SegmentState): bigint {
  const attrs = (s.flags >>> 8) & 0xf0ff; // access byte and AVL/L/D/G (the limit nibble comes from the limit)
  const granular = (attrs & 0x8000) !== 0;
  const limit = BigInt(granular ? s.limit >>> 12 : s.limit) & 0xfffffn;
  const base = s.base & 0xffffffffn;
  return (limit & 0xffffn) | ((base & 0xffffffn) << 16n) | (BigInt(attrs & 0xff) << 40n) | ((limit >> 16n) << 48n) |
    (BigInt((attrs >>> 12) & 0xf) << 52n) | ((base >> 24n) << 56n);
}

function fail(message: string): never {
  throw new IgvmError('run-unsupported', message);
}

/**
 * The polyfill for a NATIVE load plan: every populated region with its final contents, and the ROM with the BSP's
 * native context (32-bit protected mode only; the stub writes nothing to guest RAM).
 */
export function buildPolyfill(plan: LoadPlan): Polyfill {
  if (plan.platform.type !== 'NATIVE') fail(`the polyfill boots the NATIVE platform only; the plan is for ${plan.platform.type}`);
  const vp = plan.vps.find((v) => v.vp === 0);
  if (!vp || vp.source !== 'igvm-native') return firmwarePolyfill(plan);
  const r = vp.registers;
  const paging = (r.cr0 & 0x80000000n) !== 0n;
  const longMode = paging && (r.efer & 0x100n) !== 0n;
  if (paging && !longMode) fail(`the native context uses 32-bit paging (cr0 0x${r.cr0.toString(16)}, efer 0x${r.efer.toString(16)}); the polyfill supports 32-bit protected mode without paging and long mode`);
  if (!paging && (r.efer & 0x100n) !== 0n) fail(`EFER.LME is set without CR0.PG (efer 0x${r.efer.toString(16)}); the polyfill supports 32-bit protected mode without paging and long mode`);
  if (longMode) checkRomMapped(plan, r.cr3, r.cr4);
  if ((r.cr0 & 1n) === 0n) fail('the native context is in real mode (cr0.PE = 0); the polyfill supports 32-bit protected mode only');
  const rom = stubRom();
  const dv = new DataView(rom.buffer);
  const codeIndex = r.cs.selector >>> 3;
  const dataIndex = r.ds.selector >>> 3;
  for (const [what, s] of [['code', r.cs], ['data', r.ds]] as const) {
    const index = s.selector >>> 3;
    if (index === 0 || index >= 30 || STUB_SELECTORS.includes(s.selector & ~7) || (s.selector & 4) !== 0) {
      fail(`the ${what} selector 0x${s.selector.toString(16)} must be a GDT selector between 0x8 and 0xe8`);
    }
  }
  if (codeIndex === dataIndex) fail(`the code and data selectors are the same (0x${r.cs.selector.toString(16)})`);
  dv.setBigUint64(GDT + codeIndex * 8, descriptorOf(r.cs), true);
  dv.setBigUint64(GDT + dataIndex * 8, descriptorOf(r.ds), true);
  const u32 = (off: number, v: bigint): void => dv.setUint32(BLOCK + off, Number(v & 0xffffffffn), true);
  u32(0x08, r.cr0);
  u32(0x0c, r.cr3);
  u32(0x10, r.cr4);
  u32(0x14, r.efer);
  u32(0x18, r.efer >> 32n);
  u32(0x1c, r.rax);
  u32(0x20, r.rbx);
  u32(0x24, r.rcx);
  u32(0x28, r.rdx);
  u32(0x2c, r.rsi);
  u32(0x30, r.rdi);
  u32(0x34, r.rbp);
  u32(0x38, r.rsp);
  u32(0x3c, r.rflags);
  dv.setUint16(BLOCK + 0x40, r.ds.selector, true);
  u32(0x44, r.rip);
  dv.setUint16(BLOCK + 0x48, r.cs.selector, true);
  if (longMode) {
    dv.setUint8(BLOCK + 0x4c, 1);
    dv.setUint16(BLOCK + 0x54, r.cs.selector, true); // the far pointer's offset (lm64) is in the ROM already
    const u64 = (off: number, v: bigint): void => dv.setBigUint64(BLOCK + off, BigInt.asUintN(64, v), true);
    u64(0x60, r.rax); u64(0x68, r.rbx); u64(0x70, r.rcx); u64(0x78, r.rdx); u64(0x80, r.rsi); u64(0x88, r.rdi); u64(0x90, r.rbp); u64(0x98, r.rsp);
    [r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15].forEach((v, i) => u64(0xa0 + i * 8, v));
    u64(0xe0, r.rip);
  }

  const notes: string[] = [];
  if (!longMode && r.rip > 0xffffffffn) fail(`rip 0x${r.rip.toString(16)} does not fit 32-bit protected mode`);
  if ((r.rflags & ~0x602n) !== 0n) notes.push(`RFLAGS bits other than IF/DF (0x${r.rflags.toString(16)}) are not restored`);
  if (r.gdtr.limit !== 0 || r.idtr.limit !== 0) notes.push('the context\'s GDTR/IDTR are not loaded: the guest runs on the ROM GDT until it loads its own');
  const regions: PolyfillRegion[] = [];
  plan.populations.forEach((m, i) => {
    if (m.source === 'required-memory' || m.size === 0n) return;
    if (m.gpa + m.size > ROM_BASE) fail(`guest memory at 0x${m.gpa.toString(16)} overlaps the stub ROM at 0xffff0000`);
    regions.push({ gpa: m.gpa, bytes: plan.memory.read(m.gpa, m.size), name: `${String(i).padStart(3, '0')}-${m.gpa.toString(16)}.bin` });
  });
  return { rom, regions, notes };
}

/**
 * In long mode the stub keeps running from the ROM after CR0.PG is set, so the guest's 4-level page tables must map
 * the ROM's code page and parameter page to themselves; walk them in the planned guest memory.
 */
function checkRomMapped(plan: LoadPlan, cr3: bigint, cr4: bigint): void {
  if ((cr4 & 0x20n) === 0n) fail('long mode needs CR4.PAE; the context has it clear');
  if ((cr4 & 0x1000n) !== 0n) fail('5-level paging (CR4.LA57) is not supported by the polyfill');
  const PHYS = 0x000ffffffffff000n;
  const entry = (table: bigint, index: bigint): bigint => {
    const bytes = plan.memory.read(table + index * 8n, 8n);
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  };
  for (const va of [ROM_BASE, ROM_BASE + 0xf000n]) {
    let table = cr3 & PHYS;
    let mapped: bigint | undefined;
    for (const [shift, level] of [[39n, 4], [30n, 3], [21n, 2], [12n, 1]] as const) {
      const e = entry(table, (va >> shift) & 0x1ffn);
      if ((e & 1n) === 0n) break;
      if (level === 1 || (level <= 3 && (e & 0x80n) !== 0n)) {
        const size = 1n << shift;
        mapped = (e & PHYS & ~(size - 1n)) + (va & (size - 1n));
        break;
      }
      table = e & PHYS;
    }
    if (mapped !== va) {
      fail(`the guest page tables (cr3 0x${cr3.toString(16)}) do not identity-map 0x${va.toString(16)}, where the polyfill's ROM runs while it switches to long mode; boot this file with QEMU 10.2 or later`);
    }
  }
}

/**
 * A file without a VP context starts at the reset vector: the memory from the lowest region in the top 16 MiB (rounded
 * down to 64 KiB) up to 4 GiB — the firmware volume — becomes the ROM itself (`-bios`); the other regions are loaded
 * as usual.
 */
function firmwarePolyfill(plan: LoadPlan): Polyfill {
  const top = 0x100000000n;
  const flashFloor = top - 0x1000000n;
  const live = plan.populations.filter((m) => m.source !== 'required-memory' && m.size > 0n);
  const high = live.filter((m) => m.gpa >= flashFloor && m.gpa + m.size <= top);
  if (!high.some((m) => m.gpa + m.size === top)) {
    fail('the file has no native VP context for vp 0 and no memory ending at 4 GiB holding a reset vector; the polyfill cannot know where to start');
  }
  const lowest = high.reduce((g, m) => (m.gpa < g ? m.gpa : g), top);
  const start = lowest - (lowest % 0x10000n);
  const rom = plan.memory.read(start, top - start);
  const regions: PolyfillRegion[] = [];
  live.forEach((m, i) => {
    if (m.gpa >= start && m.gpa + m.size <= top) return;
    if (m.gpa + m.size > start) fail(`guest memory at 0x${m.gpa.toString(16)} overlaps the firmware ROM at 0x${start.toString(16)}`);
    regions.push({ gpa: m.gpa, bytes: plan.memory.read(m.gpa, m.size), name: `${String(i).padStart(3, '0')}-${m.gpa.toString(16)}.bin` });
  });
  return { rom, regions, notes: [`no VP context: guest memory 0x${start.toString(16)}–0xffffffff is passed as the ROM (-bios) and the CPU starts at its reset vector`] };
}
