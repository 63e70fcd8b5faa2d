// VSM_ISOLATION (VBS) VP context: register_count u32 + 32-byte VbsVpContextRegister entries and accepted register names (FORMAT.md §7.4).
import { defineStruct } from './struct.js';

export const VBS_VP_CONTEXT_HEADER = defineStruct('VbsVpContextHeader', 4, [
  { name: 'register_count', kind: 'u32', offset: 0x0 },
] as const);

export const VBS_VP_CONTEXT_REGISTER = defineStruct('VbsVpContextRegister', 32, [
  { name: 'vtl', kind: 'u8', offset: 0x00 },
  { name: 'register_name', kind: 'u32', offset: 0x01 },
  { name: 'mbz', kind: 'bytes', offset: 0x05, size: 11 },
  { name: 'register_value', kind: 'bytes', offset: 0x10, size: 16 },
] as const);

/** Hyper-V register names the crate accepts in an x64 VBS context. */
export const VBS_X64_REGISTERS: ReadonlyMap<number, string> = new Map([
  [0x70001, 'Gdtr'], [0x70000, 'Idtr'],
  [0x60000, 'Es'], [0x60001, 'Cs'], [0x60002, 'Ss'], [0x60003, 'Ds'], [0x60004, 'Fs'], [0x60005, 'Gs'], [0x60007, 'Tr'],
  [0x40000, 'Cr0'], [0x40002, 'Cr3'], [0x40003, 'Cr4'],
  [0x80001, 'Efer'], [0x80004, 'Pat'],
  [0x20004, 'Rsp'], [0x20005, 'Rbp'], [0x20006, 'Rsi'],
  [0x20008, 'R8'], [0x20009, 'R9'], [0x2000a, 'R10'], [0x2000b, 'R11'], [0x2000c, 'R12'],
  [0x20010, 'Rip'], [0x20011, 'Rflags'],
  [0x8000e, 'MtrrDefType'],
  [0x80010, 'MtrrPhysBase0'], [0x80011, 'MtrrPhysBase1'], [0x80012, 'MtrrPhysBase2'], [0x80013, 'MtrrPhysBase3'], [0x80014, 'MtrrPhysBase4'],
  [0x80040, 'MtrrPhysMask0'], [0x80041, 'MtrrPhysMask1'], [0x80042, 'MtrrPhysMask2'], [0x80043, 'MtrrPhysMask3'], [0x80044, 'MtrrPhysMask4'],
  [0x80070, 'MtrrFix64k00000'], [0x80071, 'MtrrFix16k80000'],
  [0x80077, 'MtrrFix4kE0000'], [0x80078, 'MtrrFix4kE8000'], [0x80079, 'MtrrFix4kF0000'], [0x8007a, 'MtrrFix4kF8000'],
]);

/** Hyper-V register names the crate accepts in an AArch64 VBS context. */
export const VBS_ARM64_REGISTERS: ReadonlyMap<number, string> = new Map([
  [0x20000, 'X0'], [0x20001, 'X1'], [0x20002, 'X2'], [0x20003, 'X3'], [0x20004, 'X4'], [0x20005, 'X5'], [0x20006, 'X6'], [0x20007, 'X7'],
  [0x20022, 'Pc'], [0x20023, 'Cpsr'],
  [0x40002, 'SctlrEl1'], [0x40005, 'Ttbr0El1'], [0x40006, 'Ttbr1El1'], [0x40007, 'TcrEl1'], [0x4000b, 'MairEl1'], [0x4000c, 'VbarEl1'],
]);
