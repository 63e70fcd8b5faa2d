// QEMU's E820 table (QEMU-LOADER.md §8): the three observed maps exactly, the pc 5G map, the q35 split, the 1 TiB move.
import test from 'node:test';
import assert from 'node:assert/strict';
import { e820Table, ramLayout, type MachineShape } from '../../src/load/e820.js';
import { loaded, nativeBuilder } from './fixtures.js';

const MiB = 1n << 20n;
const GiB = 1n << 30n;

/** (page number, page count, IGVM type) as §8's table lists them, sorted by page. */
function rows(m: MachineShape): [bigint, bigint, number][] {
  return e820Table(m)
    .map((e) => [e.address >> 12n, e.length >> 12n, e.type === 1 ? 0 : 1] as [bigint, bigint, number])
    .sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

const tcg = (memory: bigint, machine: 'pc' | 'q35'): MachineShape => ({ memory, machine, accel: 'tcg', cpuVendor: 'amd', physBits: 40 });

test('§8 observed: TCG -m 128M (pc and q35): RAM 0x8000 pages + the HyperTransport hole', () => {
  for (const machine of ['pc', 'q35'] as const) {
    assert.deepEqual(rows(tcg(128n * MiB, machine)), [[0x0n, 0x8000n, 0], [0xfd00000n, 0x300000n, 1]]);
  }
});

test('§8 observed: TCG pc -m 5G: 3 GiB low, 2 GiB from 4 GiB, HT hole', () => {
  assert.deepEqual(rows(tcg(5n * GiB, 'pc')), [[0x0n, 0xc0000n, 0], [0x100000n, 0x80000n, 0], [0xfd00000n, 0x300000n, 1]]);
});

test('§8 observed: KVM on an Intel host, q35, -cpu host, -m 128M: RAM + the 4-page KVM identity map', () => {
  const m: MachineShape = { memory: 128n * MiB, machine: 'q35', accel: 'kvm', cpuVendor: 'intel', physBits: 46 };
  assert.deepEqual(rows(m), [[0x0n, 0x8000n, 0], [0xfeffcn, 0x4n, 1]]);
  assert.equal(e820Table(m)[0]?.address, 0xfeffc000n, 'the KVM entry is created first (accelerator start)');
});

test('§8: the IGVM memory map QEMU writes for -m 128M TCG is the observed one', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(0x200000n, m, 0);
  const plan = loaded(b.toBytes(), { memory: 128n * MiB });
  const w = plan.parameterAreas[0]?.writes[0];
  assert.deepEqual(w?.entries, [
    { startingPage: 0n, pageCount: 0x8000n, entryType: 0 },
    { startingPage: 0xfd00000n, pageCount: 0x300000n, entryType: 1 },
  ]);
});

test('§8: q35 keeps all RAM below 4 GiB up to 2.75 GiB, then 2 GiB low', () => {
  assert.equal(ramLayout(tcg(0xb0000000n - 0x2000n, 'q35')).below4g, 0xb0000000n - 0x2000n);
  const big = ramLayout(tcg(3n * GiB, 'q35'));
  assert.deepEqual([big.below4g, big.above4g, big.above4gStart], [2n * GiB, 1n * GiB, 4n * GiB]);
});

test('§8: pc keeps all RAM below 4 GiB up to 3.5 GiB', () => {
  const l = ramLayout(tcg(0xe0000000n - 0x2000n, 'pc'));
  assert.deepEqual([l.below4g, l.above4g], [0xe0000000n - 0x2000n, 0n]);
});

test('§8: RAM above 4 GiB moves to 1 TiB on AMD when it would cross the HyperTransport hole', () => {
  const l = ramLayout(tcg(1000n * GiB, 'q35'));
  assert.equal(l.above4gStart, 1n << 40n);
  const intel = ramLayout({ ...tcg(1000n * GiB, 'q35'), cpuVendor: 'intel' });
  assert.equal(intel.above4gStart, 4n * GiB);
});

test('§8: no HyperTransport entry for an AMD CPU with fewer than 40 physical address bits', () => {
  assert.deepEqual(rows({ ...tcg(128n * MiB, 'q35'), physBits: 39 }), [[0x0n, 0x8000n, 0]]);
});

test('QEMU rounds -m up to 8 KiB', () => {
  assert.equal(ramLayout(tcg(128n * MiB + 1n, 'q35')).below4g, 128n * MiB + 0x2000n);
});
