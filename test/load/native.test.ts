// Native VP contexts (QEMU-LOADER.md §6): BSP only, replacement, what QEMU loads, long mode, NATIVE + SEV_SNP files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import type { NativeContextFields } from '../../src/format/contexts.js';
import { modeOf } from '../../src/load/qemu/cpu-state.js';
import { failsWith, filled, loaded, nativeBuilder, snpVmsa, KVM_VMSA_GPA } from './fixtures.js';

const PROTECTED_32: Partial<NativeContextFields> = {
  rip: 0x100000n, rsi: 0x7000n, rflags: 2n, cr0: 0x11n,
  code_selector: 0x10, code_attributes: 0xc09b, code_base: 0, code_limit: 0xffffffff,
  data_selector: 0x18, data_attributes: 0xc093, data_base: 0, data_limit: 0xffffffff,
  gdtr_base: 0x5000n, gdtr_limit: 0x27, idtr_base: 0x6000n, idtr_limit: 0xfff, gs_base: 0x123000n,
};

function withContexts(...contexts: [number, Partial<NativeContextFields>][]): Uint8Array {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m, filled(0x90, 16));
  for (const [vp, c] of contexts) b.nativeContext(m, vp, c);
  return b.toBytes();
}

test('§6 [exp]: a native context for vp_index 1 is fatal (BSP only)', () => {
  const r = failsWith(withContexts([1, PROTECTED_32]), 'context can be set for BSP only');
  assert.equal(r.failure.directive, 1);
});

test('§6: a later context for vp_index 0 replaces the earlier one', () => {
  const bsp = loaded(withContexts([0, PROTECTED_32], [0, { ...PROTECTED_32, rip: 0x200000n }])).vps[0]!;
  assert.equal(bsp.registers.rip, 0x200000n);
  assert.equal(bsp.directive, 2);
});

test('§6 [exp]: 32-bit protected mode: CS from the code fields, DS/ES/FS/GS/SS from the data fields, GDTR/IDTR, GPRs', () => {
  const plan = loaded(withContexts([0, PROTECTED_32]));
  const r = plan.vps[0]!.registers;
  assert.equal(plan.vps[0]!.source, 'igvm-native');
  assert.equal(modeOf(r), '32-bit protected mode, no paging');
  assert.deepEqual(r.cs, { selector: 0x10, base: 0n, limit: 0xffffffff, flags: 0xc09b00 });
  for (const s of [r.ds, r.es, r.fs, r.gs, r.ss]) assert.deepEqual(s, { selector: 0x18, base: 0n, limit: 0xffffffff, flags: 0xc09300 });
  assert.deepEqual([r.gdtr.base, r.gdtr.limit, r.idtr.base, r.idtr.limit], [0x5000n, 0x27, 0x6000n, 0xfff]);
  assert.deepEqual([r.rip, r.rsi, r.rflags, r.cr0], [0x100000n, 0x7000n, 2n, 0x11n]);
});

test('§6: gs_base, TR and LDTR are not loaded (GS base comes from the data segment)', () => {
  const r = loaded(withContexts([0, PROTECTED_32])).vps[0]!.registers;
  assert.equal(r.gs.base, 0n);
  assert.deepEqual(r.tr, { selector: 0, base: 0n, limit: 0xffff, flags: 0x8b00 });
  assert.deepEqual(r.ldtr, { selector: 0, base: 0n, limit: 0xffff, flags: 0x8200 });
});

test('§6 [exp]: 64-bit long mode with paging (CR0 0x80000011, CR3 0x300000, CR4 0x20, EFER 0x500, CS 0xA09B)', () => {
  const r = loaded(withContexts([0, { ...PROTECTED_32, cr0: 0x80000011n, cr3: 0x300000n, cr4: 0x20n, efer: 0x500n, code_attributes: 0xa09b }])).vps[0]!.registers;
  assert.equal(modeOf(r), '64-bit long mode');
  assert.deepEqual([r.cr0, r.cr3, r.cr4, r.efer], [0x80000011n, 0x300000n, 0x20n, 0x500n]);
});

test('§6: QEMU sets EFER.LMA itself when paging is enabled with EFER.LME and CR4.PAE, and always CR0.ET', () => {
  const r = loaded(withContexts([0, { ...PROTECTED_32, cr0: 0x80000001n, cr4: 0x20n, efer: 0x100n, code_attributes: 0xa09b }])).vps[0]!.registers;
  assert.deepEqual([r.cr0, r.efer], [0x80000011n, 0x500n]);
});

test('§6: the other vCPUs keep the reset state (they wait for INIT/SIPI)', () => {
  const plan = loaded(withContexts([0, PROTECTED_32]), { vcpus: 2 });
  assert.equal(plan.vps[1]?.source, 'reset');
  assert.equal(plan.vps[1]?.registers.rip, 0xfff0n);
});

test('§6 [exp]: NATIVE + SEV_SNP without an SEV object uses the native mask: SNP-only pages and contexts are skipped', () => {
  const b = new IgvmBuilder();
  const native = b.platform('NATIVE');
  const snp = b.platform('SEV_SNP');
  b.pageData(0x100000n, native, filled(0x90, 16));
  b.pageData(0x100000n, snp, filled(0xcc, 16));
  b.vmsa(KVM_VMSA_GPA, snp, 0, snpVmsa({ rip: 0x999000n }));
  b.nativeContext(native, 0, PROTECTED_32);
  const plan = loaded(b.toBytes(), { platform: 'native' });
  assert.equal(plan.memory.read(0x100000n, 1n)[0], 0x90);
  assert.equal(plan.vps[0]?.registers.rip, 0x100000n);
  assert.equal(plan.populations.length, 1);
});
