// The VMSA KVM builds and measures for each vCPU of an SEV-ES/SEV-SNP guest started by QEMU (QEMU-LOADER.md §7.3, MEASUREMENT.md §1.3).
//
// KVM does not import the IGVM VMSA page. QEMU loads the synchronised fields into the vCPU (sev_apply_cpu_context)
// and KVM, at launch, copies the vCPU's VMCB save area and registers into the VMSA (sev_es_sync_vmsa). Modelled:
// * From the file's VMSA into QEMU's vCPU (sev_apply_cpu_context, on the reset state): EFER; CR4 and CR0 through
//   QEMU's helpers (32-bit, CR0.ET set, EFER.LMA on long-mode entry — cpu-state.ts); CR3; XCR0; G_PAT; ES, CS, SS,
//   DS, FS, GS, LDTR with selector/base/limit/attributes; TR with the base of **LDTR** (QEMU passes
//   `vmsa.ldtr.base` for TR); GDTR/IDTR base and limit; DR6, DR7, the GPRs, RIP, RFLAGS, x87 FCW, MXCSR.
// * From the vCPU into KVM's VMSA (Linux arch/x86/kvm/svm): segment attributes in the 12-bit VMCB form (descriptor
//   bits 52–55 are lost); CPL = SS.DPL; GDTR/IDTR base and a 16-bit limit, no selector/attributes; EFER | SVME
//   (0x1000); CR0 without CD/NW (the KVM_X86_QUIRK_CD_NW_CLEARED default); CR4 | MCE (0x40, set on Linux hosts);
//   RFLAGS | 0x2; XCR0, PKRU (0), XSS (0), DR6, DR7, G_PAT; x87 FCW and MXCSR from the FPU state (KVM_SEV_INIT2
//   VMs; the other x87/SSE/AVX state is QEMU's reset state, all zero); SEV_FEATURES = one value for the whole VM:
//   vp 0's SEV_FEATURES from the pre-pass (without SNP_ACTIVE) plus SNP_ACTIVE under SEV-SNP.
// * A vCPU without an IGVM context keeps QEMU's reset state (cpu-state.ts), which gives the values virtee's
//   sev-snp-measure uses for QEMU (CS f000/ffff0000/ffff/9b, RIP fff0, EFER 1000, CR0 10, CR4 40, …), RDX = the CPU
//   signature of the `cpu` model (an assumption for `host`).
// Assumptions: an SEV-SNP capable AMD host running upstream KVM; KVM accepts the state QEMU sets (it rejects, at
// launch, a DR7 with bits other than 0x400 and an XCR0 without x87 — reported as notes, not modelled as failures).
import { encodeVmsa, type SevSelector, type VmsaFields } from '../../format/contexts.js';
import { ByteReader } from '../../bytes.js';
import type { QemuCpu, SegmentState, X86State } from '../plan.js';
import { flagsToVmsaAttrib, loadEfer, resetState, updateCr0, updateCr3, updateCr4, vmsaAttribToFlags } from './cpu-state.js';

const EFER_SVME = 0x1000n;
const CR4_MCE = 0x40n;
const CR0_CD_NW = 0x60000000n;

const u64 = (r: ByteReader, at: number): bigint => r.u64(at);

function segmentFrom(r: ByteReader, at: number): SegmentState {
  return { selector: r.u16(at), base: r.u64(at + 8), limit: r.u32(at + 4), flags: vmsaAttribToFlags(r.u16(at + 2)) };
}

/** sev_apply_cpu_context: QEMU's vCPU state after loading the file's VMSA page on the reset state. */
export function applyVmsa(page: Uint8Array, cpu: QemuCpu, cpuSignature: number): X86State {
  const r = new ByteReader(page);
  const s = resetState(cpuSignature);
  loadEfer(s, u64(r, 0xd0));
  updateCr4(s, u64(r, 0x148), cpu);
  updateCr0(s, u64(r, 0x158));
  updateCr3(s, u64(r, 0x150));
  s.xcr0 = u64(r, 0x3e8);
  s.pat = u64(r, 0x268);
  s.es = segmentFrom(r, 0x00);
  s.cs = segmentFrom(r, 0x10);
  s.ss = segmentFrom(r, 0x20);
  s.ds = segmentFrom(r, 0x30);
  s.fs = segmentFrom(r, 0x40);
  s.gs = segmentFrom(r, 0x50);
  const gdtr = segmentFrom(r, 0x60);
  const idtr = segmentFrom(r, 0x80);
  s.gdtr = { ...s.gdtr, base: gdtr.base, limit: gdtr.limit, flags: gdtr.flags };
  s.idtr = { ...s.idtr, base: idtr.base, limit: idtr.limit, flags: idtr.flags };
  s.ldtr = segmentFrom(r, 0x70);
  s.tr = { ...segmentFrom(r, 0x90), base: s.ldtr.base };
  s.dr6 = u64(r, 0x168);
  s.dr7 = u64(r, 0x160);
  s.rax = u64(r, 0x1f8); s.rcx = u64(r, 0x308); s.rdx = u64(r, 0x310); s.rbx = u64(r, 0x318);
  s.rsp = u64(r, 0x1d8); s.rbp = u64(r, 0x328); s.rsi = u64(r, 0x330); s.rdi = u64(r, 0x338);
  s.r8 = u64(r, 0x340); s.r9 = u64(r, 0x348); s.r10 = u64(r, 0x350); s.r11 = u64(r, 0x358);
  s.r12 = u64(r, 0x360); s.r13 = u64(r, 0x368); s.r14 = u64(r, 0x370); s.r15 = u64(r, 0x378);
  s.rip = u64(r, 0x178);
  s.rflags = u64(r, 0x170);
  s.fcw = r.u16(0x410);
  s.mxcsr = r.u32(0x408);
  return s;
}

function vmcbSegment(s: SegmentState): SevSelector {
  return { selector: s.selector, attrib: flagsToVmsaAttrib(s.flags), limit: s.limit >>> 0, base: s.base };
}

function tableSegment(s: SegmentState): SevSelector {
  return { selector: 0, attrib: 0, limit: s.limit & 0xffff, base: s.base };
}

/** sev_es_sync_vmsa: the 4096-byte VMSA KVM builds from `s`, with the VM's SEV_FEATURES. */
export function kvmVmsa(s: X86State, sevFeatures: bigint): Uint8Array {
  const fields: Partial<VmsaFields> = {
    es: vmcbSegment(s.es), cs: vmcbSegment(s.cs), ss: vmcbSegment(s.ss), ds: vmcbSegment(s.ds), fs: vmcbSegment(s.fs), gs: vmcbSegment(s.gs),
    gdtr: tableSegment(s.gdtr), ldtr: vmcbSegment(s.ldtr), idtr: tableSegment(s.idtr), tr: vmcbSegment(s.tr),
    cpl: (s.ss.flags >>> 13) & 3,
    efer: s.efer | EFER_SVME,
    cr4: s.cr4 | CR4_MCE, cr3: s.cr3, cr0: s.cr0 & ~CR0_CD_NW,
    dr7: s.dr7, dr6: s.dr6, rflags: s.rflags | 2n, rip: s.rip, rsp: s.rsp, rax: s.rax,
    pat: s.pat,
    rcx: s.rcx, rdx: s.rdx, rbx: s.rbx, rbp: s.rbp, rsi: s.rsi, rdi: s.rdi,
    r8: s.r8, r9: s.r9, r10: s.r10, r11: s.r11, r12: s.r12, r13: s.r13, r14: s.r14, r15: s.r15,
    sev_features: sevFeatures, xcr0: s.xcr0, mxcsr: s.mxcsr, x87_fcw: s.fcw,
  };
  return encodeVmsa(fields);
}

/** Launch-time problems KVM would have with this vCPU state (not load failures). */
export function kvmStateNotes(vp: number, s: X86State): string[] {
  const out: string[] = [];
  if ((s.dr7 & ~0x400n) !== 0n) out.push(`vp ${vp}: DR7 0x${s.dr7.toString(16)} has bits other than 0x400; KVM refuses to build the VMSA at launch (sev_es_sync_vmsa returns -EINVAL)`);
  if ((s.xcr0 & 1n) === 0n) out.push(`vp ${vp}: XCR0 0x${s.xcr0.toString(16)} lacks the x87 bit; KVM_SET_XCRS rejects it when QEMU loads the registers`);
  return out;
}
