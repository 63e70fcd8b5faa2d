// Memory preparation (QEMU-LOADER.md §5.1): RAM, MMIO (IOAPIC, HPET, LAPIC), region size exceeded, new igvm.<HEX>
// regions, pc.rom, the VGA window, guest_memfd under SEV-SNP, and the reset-vector page.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import { failsWith, filled, loaded, nativeBuilder, SNP_KVM } from './fixtures.js';

const nonRam = (gpa: string) => `Processing of IGVM file failed: Could not prepare memory at address 0x${gpa} due to existing non-RAM region`;
const exceeded = (gpa: string) => `Processing of IGVM file failed: Could not prepare memory at address 0x${gpa}: region size exceeded`;

function onePage(gpa: bigint, pages = 1): Uint8Array {
  const { b, m } = nativeBuilder();
  for (let i = 0n; i < BigInt(pages); i++) b.pageData(gpa + i * 0x1000n, m, filled(0x11, 8));
  return b.toBytes();
}

test('§5.1: a range inside RAM goes into pc.ram at the same offset', () => {
  const p = loaded(onePage(0x1234000n)).populations[0];
  assert.deepEqual(p?.ram, { name: 'pc.ram', offset: 0x1234000n, created: false, guestMemfd: false, readonly: false });
});

test('§5.1 [exp]: a page over the IOAPIC (0xFEC00000) is a non-RAM region', () => {
  const r = failsWith(onePage(0xfec00000n), nonRam('FEC00000'));
  assert.equal(r.failure.directive, 0);
});

test('§5.1: the HPET (0xFED00000) and the local APIC (0xFEE00000) are non-RAM regions', () => {
  failsWith(onePage(0xfed00000n), nonRam('FED00000'));
  failsWith(onePage(0xfee00000n), nonRam('FEE00000'));
  failsWith(onePage(0xfeeff000n), nonRam('FEEFF000'));
});

test('§5.1: a range starting in unmapped space and reaching MMIO hits the MMIO region first', () => {
  failsWith(onePage(0xfebff000n, 2), nonRam('FEBFF000'));
});

test('§5.1: a region running past the end of RAM exceeds the RAM region', () => {
  failsWith(onePage(0x1ffff000n, 2), exceeded('1FFFF000'), { memory: 512n << 20n });
});

test('§5.1: a region crossing from pc.ram into pc.rom exceeds the RAM region', () => {
  failsWith(onePage(0xbf000n, 2), exceeded('BF000'));
});

test('§5.1: unmapped space gets a new RAM region igvm.<index of the first directive, upper-case hex>', () => {
  const { b, m } = nativeBuilder();
  for (let i = 0; i < 26; i++) b.pageData(BigInt(0x100000 + i * 0x2000), m, filled(i + 1, 4));
  b.pageData(0x80000000n, m, filled(0x42, 4)).pageData(0x80001000n, m, filled(0x43, 4));
  const plan = loaded(b.toBytes());
  const created = plan.populations.find((p) => p.gpa === 0x80000000n);
  assert.deepEqual(created?.ram, { name: 'igvm.1A', offset: 0n, created: true, guestMemfd: false, readonly: false });
  assert.equal(created?.size, 0x2000n);
  assert.ok(plan.addressSpace.some((r) => r.name === 'igvm.1A' && r.start === 0x80000000n && r.end === 0x80002000n && r.created));
});

test('§5.1: a later range inside a created region uses it; one reaching past it exceeds it', () => {
  const { b, m } = nativeBuilder();
  b.requiredMemory(0x40000000n, m, 0x2000).pageData(0x40001000n, m, filled(1, 4));
  const plan = loaded(b.toBytes());
  assert.deepEqual(plan.populations.map((p) => [p.ram.name, p.ram.offset, p.ram.created]), [['igvm.0', 0n, true], ['igvm.0', 0x1000n, false]]);
  const over = nativeBuilder();
  over.b.requiredMemory(0x40000000n, over.m, 0x1000).pageData(0x40000000n, over.m, filled(1, 4)).pageData(0x40001000n, over.m, filled(1, 4));
  failsWith(over.b.toBytes(), exceeded('40000000'));
});

test('§5.1: the option-ROM area pc.rom (0xC0000–0xDFFFF) is RAM for the loader (read-only for the guest)', () => {
  const p = loaded(onePage(0xc0000n)).populations[0];
  assert.deepEqual(p?.ram, { name: 'pc.rom', offset: 0n, created: false, guestMemfd: false, readonly: true });
});

test('§5.1: the VGA window 0xA0000 and 0xE0000–0xFFFFF show RAM (-nodefaults, no BIOS with IGVM)', () => {
  assert.equal(loaded(onePage(0xa0000n)).populations[0]?.ram.name, 'pc.ram');
  assert.equal(loaded(onePage(0xf0000n)).populations[0]?.ram.offset, 0xf0000n);
});

test('§5.1: under sev-snp-guest new regions (and the RAM) are guest_memfd', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0xffc00000n, m, filled(1, 4)).pageData(0x100000n, m, filled(2, 4));
  const plan = loaded(b.toBytes(), SNP_KVM);
  assert.deepEqual(plan.populations.map((p) => [p.ram.name, p.ram.guestMemfd]), [['igvm.0', true], ['pc.ram', true]]);
});

test('§1 [exp]: without a VP context the BSP starts at the reset vector; a page at 0xFFFFF000 gets its own region', () => {
  const plan = loaded(onePage(0xfffff000n));
  assert.equal(plan.populations[0]?.ram.name, 'igvm.0');
  const bsp = plan.vps[0]!;
  assert.equal(bsp.source, 'reset');
  assert.equal(bsp.registers.cs.base + bsp.registers.rip, 0xfffffff0n);
  assert.equal(bsp.registers.cs.selector, 0xf000);
});

test('the address space view lists RAM, pc.rom and the MMIO of the machine', () => {
  const plan = loaded(onePage(0x100000n), { memory: 128n << 20n });
  assert.deepEqual(plan.addressSpace.map((r) => `${r.start.toString(16)}-${r.end.toString(16)} ${r.name} ${r.kind}`), [
    '0-c0000 pc.ram ram', 'c0000-e0000 pc.rom ram', 'e0000-8000000 pc.ram ram',
    'fec00000-fec01000 ioapic mmio', 'fed00000-fed00400 hpet mmio', 'fee00000-fef00000 apic-msi mmio',
  ]);
});

test('§5.1: zero pages from 0xA0000 to 1 MiB (one merged region) run into pc.rom: region size exceeded at 0xA0000', () => {
  const { b, m } = nativeBuilder();
  for (let gpa = 0xa0000n; gpa < 0x100000n; gpa += 0x1000n) b.pageData(gpa, m);
  failsWith(b.toBytes(), exceeded('A0000'));
});

test('§5.1: under sev-snp-guest pc.rom is guest_memfd RAM and not read-only', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0xc0000n, m, filled(1, 4));
  const p = loaded(b.toBytes(), SNP_KVM).populations[0];
  assert.deepEqual(p?.ram, { name: 'pc.rom', offset: 0n, created: false, guestMemfd: true, readonly: false });
});
