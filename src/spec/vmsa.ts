// AMD SEV-ES/SEV-SNP VMSA page (SevVmsa, 4096 bytes; fields end at 0x670) (FORMAT.md §7.2, Appendix A).
import { defineStruct, type FieldDef } from './struct.js';

/** The 16-byte segment register format inside the VMSA. */
export const SEV_SELECTOR = defineStruct('SevSelector', 16, [
  { name: 'selector', kind: 'u16', offset: 0x0 },
  { name: 'attrib', kind: 'u16', offset: 0x2 },
  { name: 'limit', kind: 'u32', offset: 0x4 },
  { name: 'base', kind: 'u64', offset: 0x8 },
] as const);

export const VMSA_SEGMENTS = ['es', 'cs', 'ss', 'ds', 'fs', 'gs', 'gdtr', 'ldtr', 'idtr', 'tr'] as const;
export type VmsaSegmentName = (typeof VMSA_SEGMENTS)[number];

const u64 = <N extends string>(name: N, offset: number) => ({ name, kind: 'u64' as const, offset });

/** Integer fields of the VMSA after the segment registers (byte arrays are left to `SEV_VMSA_RAW`). */
export const SEV_VMSA = defineStruct('SevVmsa', 4096, [
  u64('pl0_ssp', 0x0a0), u64('pl1_ssp', 0x0a8), u64('pl2_ssp', 0x0b0), u64('pl3_ssp', 0x0b8), u64('u_cet', 0x0c0),
  { name: 'vmpl', kind: 'u8', offset: 0x0ca },
  { name: 'cpl', kind: 'u8', offset: 0x0cb },
  u64('efer', 0x0d0),
  u64('xss', 0x140), u64('cr4', 0x148), u64('cr3', 0x150), u64('cr0', 0x158), u64('dr7', 0x160), u64('dr6', 0x168),
  u64('rflags', 0x170), u64('rip', 0x178),
  u64('dr0', 0x180), u64('dr1', 0x188), u64('dr2', 0x190), u64('dr3', 0x198),
  u64('dr0_addr_mask', 0x1a0), u64('dr1_addr_mask', 0x1a8), u64('dr2_addr_mask', 0x1b0), u64('dr3_addr_mask', 0x1b8),
  u64('rsp', 0x1d8), u64('s_cet', 0x1e0), u64('ssp', 0x1e8), u64('interrupt_ssp_table_addr', 0x1f0), u64('rax', 0x1f8),
  u64('star', 0x200), u64('lstar', 0x208), u64('cstar', 0x210), u64('sfmask', 0x218), u64('kernel_gs_base', 0x220),
  u64('sysenter_cs', 0x228), u64('sysenter_esp', 0x230), u64('sysenter_eip', 0x238), u64('cr2', 0x240),
  u64('pat', 0x268), u64('dbgctl', 0x270),
  u64('last_branch_from_ip', 0x278), u64('last_branch_to_ip', 0x280), u64('last_excp_from_ip', 0x288), u64('last_excp_to_ip', 0x290),
  u64('spec_ctrl', 0x2e0),
  u64('rcx', 0x308), u64('rdx', 0x310), u64('rbx', 0x318), u64('rbp', 0x328), u64('rsi', 0x330), u64('rdi', 0x338),
  u64('r8', 0x340), u64('r9', 0x348), u64('r10', 0x350), u64('r11', 0x358), u64('r12', 0x360), u64('r13', 0x368), u64('r14', 0x370), u64('r15', 0x378),
  u64('exit_info1', 0x390), u64('exit_info2', 0x398), u64('exit_int_info', 0x3a0), u64('next_rip', 0x3a8),
  u64('sev_features', 0x3b0), u64('v_intr_cntrl', 0x3b8), u64('guest_error_code', 0x3c0), u64('virtual_tom', 0x3c8),
  u64('tlb_id', 0x3d0), u64('pcpu_id', 0x3d8), u64('event_inject', 0x3e0), u64('xcr0', 0x3e8),
  { name: 'xsave_valid_bitmap', kind: 'bytes', offset: 0x3f0, size: 16 },
  u64('x87dp', 0x400),
  { name: 'mxcsr', kind: 'u32', offset: 0x408 },
  { name: 'x87_ftw', kind: 'u16', offset: 0x40c },
  { name: 'x87_fsw', kind: 'u16', offset: 0x40e },
  { name: 'x87_fcw', kind: 'u16', offset: 0x410 },
  { name: 'x87_op', kind: 'u16', offset: 0x412 },
  { name: 'x87_ds', kind: 'u16', offset: 0x414 },
  { name: 'x87_cs', kind: 'u16', offset: 0x416 },
  u64('x87_rip', 0x418),
] as const satisfies readonly FieldDef[]);

/** Offset where the VMSA fields end; ≤0.4.0 crates require the rest of the page to be zero. */
export const VMSA_FIELDS_END = 0x670;
export const VMSA_PAGE_SIZE = 4096;

export function segmentOffset(name: VmsaSegmentName): number {
  return VMSA_SEGMENTS.indexOf(name) * 16;
}

/** SEV_FEATURES bit names. */
export const SEV_FEATURES: readonly [number, string][] = [
  [0, 'SNP'], [1, 'vTOM'], [2, 'ReflectVC'], [3, 'RestrictInjection'], [4, 'AlternateInjection'], [5, 'DebugSwap'],
  [6, 'PreventHostIBS'], [7, 'BTBIsolation'], [8, 'VmplSSS'], [9, 'SecureTSC'], [14, 'VmsaRegProt'], [15, 'SmtProtection'],
];
