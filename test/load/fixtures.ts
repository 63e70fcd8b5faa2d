// Shared helpers for the loader tests: small IGVM files made with the builder, loading them, asserting outcomes.
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import { installNodeHash } from '../../src/io/node-hash.js';
import { loadIgvm, type LoadPlan, type LoadResult, type QemuConfig } from '../../src/load/index.js';
import { encodeVmsa, type VmsaFields } from '../../src/format/contexts.js';

installNodeHash();

export const KVM_VMSA_GPA = 0xfffffffff000n;

/** A builder with a NATIVE platform (mask 1), format v2/X64 like the §11 experiments. */
export function nativeBuilder(): { b: IgvmBuilder; m: number } {
  const b = new IgvmBuilder({ formatVersion: 2 });
  return { b, m: b.platform('NATIVE') };
}

/** A builder with one SEV-SNP platform (mask 1) and its GUEST_POLICY. */
export function snpBuilder(policy = 0x30000n): { b: IgvmBuilder; m: number } {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP', { highestVtl: 0 });
  b.guestPolicy(policy, m);
  return { b, m };
}

/** A page whose bytes are all `fill`. */
export function filled(fill: number, size = 4096): Uint8Array {
  return new Uint8Array(size).fill(fill);
}

/** A VMSA QEMU accepts under SEV-SNP (only synchronised fields), 32-bit protected mode at `rip`. */
export function snpVmsa(fields: Partial<VmsaFields> = {}): Uint8Array {
  const code = { selector: 8, attrib: 0xc9b, limit: 0xffffffff, base: 0n };
  const data = { selector: 0x10, attrib: 0xc93, limit: 0xffffffff, base: 0n };
  return encodeVmsa({
    cs: code, ds: data, es: data, ss: data, fs: data, gs: data,
    cr0: 0x11n, rip: 0x100000n, rflags: 2n, efer: 0x1000n, xcr0: 1n, pat: 0x0007040600070406n, mxcsr: 0x1f80, x87_fcw: 0x37f,
    sev_features: 1n,
    ...fields,
  });
}

export const SNP_KVM: QemuConfig = { platform: 'sev-snp', accel: 'kvm' };

export function loaded(bytes: Uint8Array, config: QemuConfig = {}, path = 'test.igvm'): LoadPlan {
  const r = loadIgvm(bytes, config, path);
  if (!r.ok) assert.fail(`expected the file to load, QEMU fails: ${r.failure.message}`);
  return r.plan;
}

export function failure(bytes: Uint8Array, config: QemuConfig = {}, path = 'test.igvm'): Extract<LoadResult, { ok: false }> {
  const r = loadIgvm(bytes, config, path);
  if (r.ok) assert.fail('expected QEMU to fail, the file loads');
  return r;
}

/** Assert QEMU fails with exactly `message`. */
export function failsWith(bytes: Uint8Array, message: string, config: QemuConfig = {}, path = 'test.igvm'): Extract<LoadResult, { ok: false }> {
  const r = failure(bytes, config, path);
  assert.equal(r.failure.message, message);
  return r;
}

/** Region summary lines for compact assertions: "gpa size source directive ram". */
export function regions(plan: LoadPlan): string[] {
  return plan.populations.map((p) => `${p.gpa.toString(16)}+${p.size.toString(16)} ${p.source} #${p.directive}${p.count > 1 ? `x${p.count}` : ''} ${p.ram.name}`);
}

/** SNP launch updates as "gpa TYPE" strings. */
export function snpOrder(plan: LoadPlan): string[] {
  assert.ok(plan.snp, 'an SEV-SNP plan');
  return plan.snp.launchUpdates.map((u) => `${u.gpa.toString(16)} ${u.type}`);
}
