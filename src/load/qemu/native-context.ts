// Native (no confidential-guest object) VP contexts: BSP only, the last one wins, loaded at every BSP reset (QEMU-LOADER.md §6).
import { decodeNativeContext } from '../../format/contexts.js';
import type { QemuCpu, SegmentState, X86State } from '../plan.js';
import { loadEfer, resetState, updateCr0, updateCr3, updateCr4 } from './cpu-state.js';
import { QemuFailure } from './failure.js';
import { MSG } from './messages.js';

/** The context kept for the BSP (qigvm_x86_set_vp_context). */
export interface NativeBspContext {
  /** The IgvmNativeVpContextX64 bytes (the first 232 bytes of the context page). */
  data: Uint8Array;
  directive: number;
}

/** qigvm_x86_set_vp_context: only vp_index 0; a later context replaces the earlier one. */
export function setNativeContext(data: Uint8Array, vpIndex: number, directive: number): NativeBspContext {
  if (vpIndex !== 0) throw new QemuFailure(MSG.bspOnly(), 'directives', { directive });
  return { data: padded(data, 232), directive };
}

function padded(data: Uint8Array, size: number): Uint8Array {
  if (data.length >= size) return data.subarray(0, size);
  const out = new Uint8Array(size);
  out.set(data);
  return out;
}

/**
 * qigvm_x86_load_context, applied on top of the reset state: EFER, CR4, CR0, CR3; CS from the code fields; DS, ES,
 * FS, GS, SS from the data fields (attributes are descriptor bits 40–55, QEMU's flags = attributes << 8); GDTR,
 * IDTR; the GPRs, RIP, RFLAGS. gs_base, TR and LDTR are not loaded.
 */
export function nativeBspState(ctx: NativeBspContext, cpu: QemuCpu, cpuSignature: number): X86State {
  const c = decodeNativeContext(ctx.data);
  const s = resetState(cpuSignature);
  loadEfer(s, c.efer);
  updateCr4(s, c.cr4, cpu);
  updateCr0(s, c.cr0);
  updateCr3(s, c.cr3);
  s.cs = { selector: c.code_selector, base: BigInt(c.code_base), limit: c.code_limit, flags: (c.code_attributes << 8) >>> 0 };
  const data = (): SegmentState => ({ selector: c.data_selector, base: BigInt(c.data_base), limit: c.data_limit, flags: (c.data_attributes << 8) >>> 0 });
  s.ds = data();
  s.es = data();
  s.fs = data();
  s.gs = data();
  s.ss = data();
  s.gdtr = { ...s.gdtr, base: c.gdtr_base, limit: c.gdtr_limit };
  s.idtr = { ...s.idtr, base: c.idtr_base, limit: c.idtr_limit };
  s.rax = c.rax; s.rcx = c.rcx; s.rdx = c.rdx; s.rbx = c.rbx; s.rsp = c.rsp; s.rbp = c.rbp; s.rsi = c.rsi; s.rdi = c.rdi;
  s.r8 = c.r8; s.r9 = c.r9; s.r10 = c.r10; s.r11 = c.r11; s.r12 = c.r12; s.r13 = c.r13; s.r14 = c.r14; s.r15 = c.r15;
  s.rip = c.rip;
  s.rflags = c.rflags;
  return s;
}
