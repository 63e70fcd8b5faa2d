// The vCPU state QEMU keeps (CPUX86State): reset values and the update helpers the IGVM code calls (QEMU-LOADER.md §1, §6, §7.3).
//
// From target/i386/cpu.c (x86_cpu_reset_hold) and helper.c: cpu_load_efer stores EFER as given; cpu_x86_update_cr4
// takes a u32 and clears the bits of features the CPU model lacks (SMAP, UMIP, PKE, PKS, LAM_SUP — modelled per
// `cpu`, assuming `host` has them all); cpu_x86_update_cr0 takes a u32, sets CR0.ET and, when paging is turned on
// with EFER.LME, sets EFER.LMA (or leaves CR0 unchanged if CR4.PAE is clear); segment loads keep selector, base,
// limit and flags as given.
import type { QemuCpu, SegmentState, X86State } from '../plan.js';

const CR0_ET = 0x10n;
const CR0_PG = 0x80000000n;
const CR4_PAE = 0x20n;
const EFER_LME = 0x100n;
const EFER_LMA = 0x400n;
const CR4_UMIP = 1n << 11n;
const CR4_SMAP = 1n << 21n;
const CR4_PKE = 1n << 22n;
const CR4_PKS = 1n << 24n;
const CR4_LAM_SUP = 1n << 28n;

/** CR4 bits QEMU clears because the CPU model does not have the feature. */
const CR4_UNSUPPORTED: Record<QemuCpu, bigint> = {
  qemu64: CR4_UMIP | CR4_SMAP | CR4_PKE | CR4_PKS | CR4_LAM_SUP,
  'EPYC-v4': CR4_UMIP | CR4_PKE | CR4_PKS | CR4_LAM_SUP,
  'host-amd': 0n,
  'host-intel': 0n,
};

/** QEMU SegmentCache flag bits. */
export const DESC = { A: 0x100, R_OR_W: 0x200, CS: 0x800, S: 0x1000, P: 0x8000 } as const;

const seg = (selector: number, base: bigint, limit: number, flags: number): SegmentState => ({ selector, base, limit, flags });

/** The x86 reset state (x86_cpu_reset_hold); RDX holds the CPUID signature. */
export function resetState(cpuSignature: number): X86State {
  const data = seg(0, 0n, 0xffff, DESC.P | DESC.S | DESC.R_OR_W | DESC.A);
  return {
    rax: 0n, rcx: 0n, rdx: BigInt(cpuSignature >>> 0), rbx: 0n, rsp: 0n, rbp: 0n, rsi: 0n, rdi: 0n,
    r8: 0n, r9: 0n, r10: 0n, r11: 0n, r12: 0n, r13: 0n, r14: 0n, r15: 0n,
    rip: 0xfff0n, rflags: 0x2n,
    cr0: 0x60000010n, cr3: 0n, cr4: 0n, efer: 0n,
    es: { ...data }, cs: seg(0xf000, 0xffff0000n, 0xffff, DESC.P | DESC.S | DESC.CS | DESC.R_OR_W | DESC.A),
    ss: { ...data }, ds: { ...data }, fs: { ...data }, gs: { ...data },
    ldtr: seg(0, 0n, 0xffff, DESC.P | (2 << 8)), tr: seg(0, 0n, 0xffff, DESC.P | (11 << 8)),
    gdtr: seg(0, 0n, 0xffff, 0), idtr: seg(0, 0n, 0xffff, 0),
    dr6: 0xffff0ff0n, dr7: 0x400n, xcr0: 1n, pat: 0x0007040600070406n, fcw: 0x37f, mxcsr: 0x1f80,
  };
}

/** cpu_load_efer. */
export function loadEfer(s: X86State, efer: bigint): void {
  s.efer = efer;
}

/** cpu_x86_update_cr4 (u32 argument; unsupported feature bits cleared). */
export function updateCr4(s: X86State, cr4: bigint, cpu: QemuCpu): void {
  s.cr4 = cr4 & 0xffffffffn & ~CR4_UNSUPPORTED[cpu];
}

/** cpu_x86_update_cr0 (u32 argument): long-mode entry/exit through EFER.LMA, CR0.ET always set. */
export function updateCr0(s: X86State, cr0: bigint): void {
  const next = cr0 & 0xffffffffn;
  const pagingBefore = (s.cr0 & CR0_PG) !== 0n;
  const pagingAfter = (next & CR0_PG) !== 0n;
  if (!pagingBefore && pagingAfter && (s.efer & EFER_LME) !== 0n) {
    if ((s.cr4 & CR4_PAE) === 0n) return; // QEMU ignores the write ("XXX: generate an exception")
    s.efer |= EFER_LMA;
  } else if (pagingBefore && !pagingAfter && (s.efer & EFER_LMA) !== 0n) {
    s.efer &= ~EFER_LMA;
  }
  s.cr0 = next | CR0_ET;
}

/** cpu_x86_update_cr3. */
export function updateCr3(s: X86State, cr3: bigint): void {
  s.cr3 = cr3;
}

/** Convert a VMSA segment attribute (12-bit packed form) to QEMU SegmentCache flags (FLAGS_VMSA_TO_SEGCACHE). */
export function vmsaAttribToFlags(attrib: number): number {
  return (((attrib & 0xff00) << 12) | ((attrib & 0xff) << 8)) >>> 0;
}

/** QEMU SegmentCache flags to the VMSA attribute form (FLAGS_SEGCACHE_TO_VMSA). */
export function flagsToVmsaAttrib(flags: number): number {
  return (((flags & 0xff00) >>> 8) | ((flags & 0xf00000) >>> 12)) >>> 0;
}

/** Descriptor-format attributes (bits 40–55 of a descriptor, as the native context gives them) of SegmentCache flags. */
export function flagsToDescriptorAttributes(flags: number): number {
  return (flags >>> 8) & 0xffff;
}

/** Execution mode from CR0, EFER and the CS L bit. */
export function modeOf(s: X86State): string {
  const pe = (s.cr0 & 1n) !== 0n;
  const pg = (s.cr0 & CR0_PG) !== 0n;
  const lma = (s.efer & EFER_LMA) !== 0n;
  const csLong = (s.cs.flags & 0x200000) !== 0;
  if (!pe) return 'real mode';
  if (pg && lma) return csLong ? '64-bit long mode' : 'compatibility mode';
  return pg ? '32-bit protected mode, paging' : '32-bit protected mode, no paging';
}
