// The experiments of QEMU-LOADER.md §11, one test per row, against the plan (TCG command line of §1, -m 128M;
// NATIVE files, mask 1, format v2/X64).
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import type { NativeContextFields } from '../../src/format/contexts.js';
import { modeOf } from '../../src/load/qemu/cpu-state.js';
import type { QemuConfig } from '../../src/load/index.js';
import { failsWith, filled, loaded, nativeBuilder } from './fixtures.js';

const TCG: QemuConfig = { platform: 'native', memory: 128n << 20n, accel: 'tcg', machine: 'q35' };
const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array, at: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);

const CTX32: Partial<NativeContextFields> = {
  rip: 0x100000n, rflags: 2n, cr0: 0x11n, code_selector: 0x10, code_attributes: 0xc09b, code_limit: 0xffffffff,
  data_selector: 0x18, data_attributes: 0xc093, data_limit: 0xffffffff,
};

function parameterFile(): Uint8Array {
  const { b, m } = nativeBuilder();
  b.pages(0x100000n, filled(0xf4, 64), m);
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(0x200000n, m, 0);
  b.parameterArea(1, 0x1000n).parameter('VP_COUNT_PARAMETER', 1, 0).parameter('ENVIRONMENT_INFO_PARAMETER', 1, 4).parameterInsert(0x201000n, m, 1);
  b.nativeContext(m, 0, CTX32);
  return b.toBytes();
}

test('§11: one page at 0xFFFFF000, no VP context — boots from the reset vector', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0xfffff000n, m, filled(0xea, 16));
  const plan = loaded(b.toBytes(), TCG);
  const bsp = plan.vps[0]!.registers;
  assert.equal(bsp.cs.base + bsp.rip, 0xfffffff0n);
  assert.equal(plan.memory.read(0xfffff00fn, 2n)[1], 0, 'zero-padded after the 16 bytes of data');
  assert.equal(plan.memory.read(0xfffff000n, 1n)[0], 0xea);
});

test('§11: code + MEMORY_MAP area at 0x200000 + VP_COUNT@0/ENVIRONMENT_INFO@4 area at 0x201000 + 32-bit context', () => {
  const f = parameterFile();
  for (const vcpus of [1, 4]) {
    const plan = loaded(f, { ...TCG, vcpus });
    const map = plan.memory.read(0x200000n, 0x1000n);
    assert.deepEqual([u64(map, 0), u64(map, 8), u64(map, 24), u64(map, 32), u32(map, 40)], [0n, 0x8000n, 0xfd00000n, 0x300000n, 1], 'the §8 map');
    const info = plan.memory.read(0x201000n, 0x1000n);
    assert.equal(u32(info, 0), vcpus, 'vp_count');
    assert.equal(u32(info, 4), 1, 'environment_info');
    assert.equal(modeOf(plan.vps[0]!.registers), '32-bit protected mode, no paging');
  }
});

test('§11: 64-bit code + page tables at 0x300000 with a long-mode context runs under TCG and KVM', () => {
  const { b, m } = nativeBuilder();
  b.pages(0x100000n, filled(0x90, 64), m);
  b.pages(0x300000n, filled(0x23, 0x3000), m);
  b.nativeContext(m, 0, { ...CTX32, cr0: 0x80000011n, cr3: 0x300000n, cr4: 0x20n, efer: 0x500n, code_attributes: 0xa09b });
  for (const accel of ['tcg', 'kvm'] as const) {
    const plan = loaded(b.toBytes(), { ...TCG, accel, ...(accel === 'kvm' ? { cpu: 'host-intel' as const } : {}) });
    assert.equal(modeOf(plan.vps[0]!.registers), '64-bit long mode', accel);
    assert.equal(plan.vps[0]!.registers.cr3, 0x300000n);
  }
});

test('§11: native + SEV-SNP platform with an SNP-only page over the code — native chosen, SNP page skipped', () => {
  const b = new IgvmBuilder({ formatVersion: 2 });
  const m = b.platform('NATIVE');
  const snp = b.platform('SEV_SNP');
  b.pageData(0x100000n, m, filled(0x90, 16)).pageData(0x100000n, snp, filled(0xcc, 16));
  b.nativeContext(m, 0, CTX32);
  const plan = loaded(b.toBytes(), TCG);
  assert.equal(plan.platform.type, 'NATIVE');
  assert.equal(plan.memory.read(0x100000n, 1n)[0], 0x90);
});

test('§11: VP_COUNT@0 and MEMORY_MAP@0x18 in one area — the map is written at offset 0', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('VP_COUNT_PARAMETER', 0, 0).parameter('MEMORY_MAP', 0, 0x18).parameterInsert(0x200000n, m, 0);
  const mem = loaded(b.toBytes(), TCG).memory.read(0x200000n, 0x30n);
  assert.deepEqual([u64(mem, 0), u64(mem, 8), u64(mem, 0x18)], [0n, 0x8000n, 0xfd00000n]);
});

test('§11: a parameter area with initial data is delivered zero-filled', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n, filled(0x77, 0x1000)).parameterInsert(0x200000n, m, 0);
  assert.ok(loaded(b.toBytes(), TCG).memory.read(0x200000n, 0x1000n).every((x) => x === 0));
});

test('§11: a SEV-SNP platform only — no compatible platform (no SEV object)', () => {
  const b = new IgvmBuilder({ formatVersion: 2 });
  const snp = b.platform('SEV_SNP');
  b.pageData(0x100000n, snp, filled(1, 4));
  failsWith(b.toBytes(), 'IGVM file does not describe a compatible supported platform', { ...TCG, platform: 'native' });
});

test('§11: a COMMAND_LINE directive — unknown header type 0x30E', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m, filled(1, 4)).parameterArea(0, 0x1000n).parameter('COMMAND_LINE', 0, 0).parameterInsert(0x200000n, m, 0);
  failsWith(b.toBytes(), 'IGVM: Unknown header type encountered when processing file: (type 0x30E)', TCG);
});

test('§11: a native context with vp_index 1 — BSP only', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m, filled(1, 4)).nativeContext(m, 1, CTX32);
  failsWith(b.toBytes(), 'context can be set for BSP only', TCG);
});

test('§11: a page at 0xFEC00000 (IOAPIC) — non-RAM region', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0xfec00000n, m, filled(1, 4));
  failsWith(b.toBytes(), 'Processing of IGVM file failed: Could not prepare memory at address 0xFEC00000 due to existing non-RAM region', TCG);
});

test('§11: -bios /dev/null — ignored, the guest runs', () => {
  const plan = loaded(parameterFile(), { ...TCG, bios: '/dev/null' });
  assert.ok(plan.notes.includes('-bios /dev/null is silently ignored with IGVM (QEMU loads no BIOS)'));
});

test('§11: -drive if=pflash — pflash error', () => {
  failsWith(parameterFile(), 'pflash devices cannot be configured when using IGVM', { ...TCG, pflash: true });
});

test('§11: a non-IGVM file — Unable to parse IGVM file …: -16', () => {
  failsWith(new Uint8Array(100).fill(0x41), 'Unable to parse IGVM file guest.bin: -16', TCG, 'guest.bin');
});
