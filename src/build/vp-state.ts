// Boot-CPU state for the Linux 32-bit entry: native VP context (QEMU-LOADER.md §6) and the KVM-synchronised SEV-ES/SNP VMSA (§7.3).
import type { NativeContextFields, VmsaFields } from '../format/contexts.js';

/** Linux's boot GDT selectors (__BOOT_CS, __BOOT_DS). */
export const BOOT_CS = 0x10;
export const BOOT_DS = 0x18;
/** CR0 = PE | ET: protected mode, paging off. */
export const BOOT_CR0 = 0x11n;
/** Native context attributes: descriptor bits 40–55 (QEMU-LOADER.md §6). */
export const NATIVE_CODE32 = 0xc09b;
export const NATIVE_DATA = 0xc093;
/** VMSA attributes: the packed 12-bit form of the same descriptors. */
export const VMSA_CODE32 = 0xc9b;
export const VMSA_DATA = 0xc93;
export const SEV_FEATURE_SNP = 1n;

export interface EntryState {
  rip: number;
  rsi: number;
}

/** Native context: flat 32-bit protected mode, rsi = boot_params. No GDT (the kernel loads its own). */
export function nativeEntry(e: EntryState): Partial<NativeContextFields> {
  return {
    rip: BigInt(e.rip),
    rsi: BigInt(e.rsi),
    rflags: 2n,
    cr0: BOOT_CR0,
    code_selector: BOOT_CS,
    code_attributes: NATIVE_CODE32,
    code_base: 0,
    code_limit: 0xffffffff,
    data_selector: BOOT_DS,
    data_attributes: NATIVE_DATA,
    data_base: 0,
    data_limit: 0xffffffff,
  };
}

/**
 * VMSA with only fields QEMU/KVM synchronise, set to what KVM itself stores so that KVM's VMSA equals this page:
 * EFER.SVME, DR6/DR7 fixed bits, RFLAGS bit 1, the power-on PAT and XCR0 = x87 (as KVM's reset state, kvm-vmsa.ts);
 * LDTR/TR with their reset types. SEV_FEATURES: SNP bit for SEV-SNP, nothing for SEV-ES (no DebugSwap).
 */
export function vmsaEntry(e: EntryState, snp: boolean): Partial<VmsaFields> {
  const code = { selector: BOOT_CS, attrib: VMSA_CODE32, limit: 0xffffffff, base: 0n };
  const data = { selector: BOOT_DS, attrib: VMSA_DATA, limit: 0xffffffff, base: 0n };
  return {
    cs: code,
    ds: data,
    es: data,
    fs: data,
    gs: data,
    ss: data,
    gdtr: { selector: 0, attrib: 0, limit: 0xffff, base: 0n },
    idtr: { selector: 0, attrib: 0, limit: 0xffff, base: 0n },
    ldtr: { selector: 0, attrib: 0x82, limit: 0xffff, base: 0n },
    tr: { selector: 0, attrib: 0x8b, limit: 0xffff, base: 0n },
    efer: 0x1000n,
    cr0: BOOT_CR0,
    dr6: 0xffff0ff0n,
    dr7: 0x400n,
    rflags: 2n,
    rip: BigInt(e.rip),
    rsi: BigInt(e.rsi),
    pat: 0x0007040600070406n,
    xcr0: 1n,
    sev_features: snp ? SEV_FEATURE_SNP : 0n,
  };
}
