// QEMU's checks of an IGVM VMSA under SEV-ES/SEV-SNP: check_vmsa_supported and check_sev_features (QEMU-LOADER.md §7.3).
//
// check_vmsa_supported copies the Linux `struct sev_es_save_area` (0x670 bytes, QEMU's target/i386/sev.h), clears
// the fields QEMU synchronises with KVM and requires the rest to be zero; bytes of the 4 KiB page beyond 0x670 are
// not looked at. SEV_FEATURES is checked by check_sev_features before the zero test.
import { ByteReader, firstNonZero } from '../../bytes.js';
import { SEV_VMSA, VMSA_FIELDS_END } from '../../spec/vmsa.js';
import { fieldByteSize, type FieldDef } from '../../spec/struct.js';
import { MSG } from './messages.js';

export const KVM_VMSA_GPA = 0xfffffffff000n;
export const SEV_FEATURES_OFFSET = 0x3b0;
export const SEV_FEAT_SNP_ACTIVE = 1n;

/** [offset, size] of every field QEMU synchronises with KVM (cleared before the zero test). */
export const SYNCHRONISED_FIELDS: readonly (readonly [string, number, number])[] = [
  ['es', 0x00, 16], ['cs', 0x10, 16], ['ss', 0x20, 16], ['ds', 0x30, 16], ['fs', 0x40, 16], ['gs', 0x50, 16],
  ['gdtr', 0x60, 16], ['ldtr', 0x70, 16], ['idtr', 0x80, 16], ['tr', 0x90, 16],
  ['efer', 0xd0, 8], ['cr4', 0x148, 8], ['cr3', 0x150, 8], ['cr0', 0x158, 8], ['dr7', 0x160, 8], ['dr6', 0x168, 8],
  ['rflags', 0x170, 8], ['rip', 0x178, 8], ['rsp', 0x1d8, 8], ['rax', 0x1f8, 8], ['g_pat', 0x268, 8],
  ['rcx', 0x308, 8], ['rdx', 0x310, 8], ['rbx', 0x318, 8], ['rbp', 0x328, 8], ['rsi', 0x330, 8], ['rdi', 0x338, 8],
  ['r8', 0x340, 8], ['r9', 0x348, 8], ['r10', 0x350, 8], ['r11', 0x358, 8], ['r12', 0x360, 8], ['r13', 0x368, 8],
  ['r14', 0x370, 8], ['r15', 0x378, 8], ['sev_features', 0x3b0, 8], ['xcr0', 0x3e8, 8], ['mxcsr', 0x408, 4], ['x87_fcw', 0x410, 2],
];

const SEGMENT_FIELDS = SYNCHRONISED_FIELDS.slice(0, 10);

/** The 4096-byte page of a VP context's data (shorter data zero-padded). */
export function vmsaPage(data: Uint8Array): Uint8Array {
  if (data.length >= 4096) return data.subarray(0, 4096);
  const page = new Uint8Array(4096);
  page.set(data);
  return page;
}

export function sevFeaturesOf(page: Uint8Array): bigint {
  return new ByteReader(page).u64(SEV_FEATURES_OFFSET);
}

/** check_sev_features: SNP_ACTIVE must match the object, and no bit outside `supported`. Returns QEMU's message or undefined. */
export function checkSevFeatures(features: bigint, snp: boolean, supported: bigint): string | undefined {
  if (snp && (features & SEV_FEAT_SNP_ACTIVE) === 0n) return MSG.snpNotInFeatures();
  if (!snp && (features & SEV_FEAT_SNP_ACTIVE) !== 0n) return MSG.snpInFeatures();
  if ((features & ~supported) !== 0n) return MSG.unsupportedFeatures(features, supported);
  return undefined;
}

/** The first unsynchronised non-zero byte of the save area (page offset), or -1. */
export function firstUnsynchronisedByte(page: Uint8Array): number {
  const check = page.slice(0, VMSA_FIELDS_END);
  for (const [, offset, size] of SYNCHRONISED_FIELDS) check.fill(0, offset, offset + size);
  return firstNonZero(check);
}

/** The VMSA field (per src/spec/vmsa.ts) holding page offset `at`, or "reserved". */
export function vmsaFieldAt(at: number): string {
  for (const [name, offset, size] of SEGMENT_FIELDS) if (at >= offset && at < offset + size) return name;
  for (const f of SEV_VMSA.fields as readonly FieldDef[]) if (at >= f.offset && at < f.offset + fieldByteSize(f)) return f.name;
  return `reserved byte 0x${at.toString(16)}`;
}

/** check_vmsa_supported: GPA, then SEV_FEATURES, then the unsynchronised fields. Returns QEMU's message or undefined. */
export function checkVmsaSupported(gpa: bigint, page: Uint8Array, snp: boolean, supported: bigint): string | undefined {
  if (gpa !== KVM_VMSA_GPA) return MSG.vmsaGpa(gpa);
  const features = checkSevFeatures(sevFeaturesOf(page), snp, supported);
  if (features !== undefined) return features;
  if (firstUnsynchronisedByte(page) >= 0) return MSG.vmsaUnsynchronised();
  return undefined;
}
