// Parameter areas (QEMU-LOADER.md §5.2–§5.6, §7.4): zero-filled areas, VP count, environment info, the memory map at
// offset 0, collisions, size limits, E820 types, the insert.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import { parseIgvm } from '../../src/format/index.js';
import { memoryMapEntryType } from '../../src/load/qemu/parameters.js';
import { qemuView } from '../../src/load/qemu/context.js';
import { realPass, startContext } from '../../src/load/qemu/walk.js';
import { resolveConfig } from '../../src/load/qemu/config.js';
import { ramLayout } from '../../src/load/e820.js';
import { QemuFailure } from '../../src/load/qemu/failure.js';
import { failsWith, failure, filled, loaded, nativeBuilder, SNP_KVM, snpOrder } from './fixtures.js';

const u32 = (b: Uint8Array | undefined, at: number): number => new DataView(b!.buffer, b!.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array | undefined, at: number): bigint => new DataView(b!.buffer, b!.byteOffset).getBigUint64(at, true);

test('§5.2 [exp]: a parameter area is zero-filled; the initial data in the file is ignored', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n, filled(0x5a, 64)).parameterInsert(0x200000n, m, 0);
  const plan = loaded(b.toBytes());
  const a = plan.parameterAreas[0]!;
  assert.equal(a.fileDataIgnored, true);
  assert.ok(a.bytes.every((x) => x === 0));
  assert.ok(plan.memory.read(0x200000n, 0x1000n).every((x) => x === 0));
});

test('§5.3 [exp]: VP_COUNT_PARAMETER is the -smp count as a u32 at byte_offset (1 by default, 4 with -smp 4)', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('VP_COUNT_PARAMETER', 0, 8).parameterInsert(0x200000n, m, 0);
  const f = b.toBytes();
  assert.equal(u32(loaded(f).parameterAreas[0]?.bytes, 8), 1);
  assert.equal(u32(loaded(f, { vcpus: 4 }).parameterAreas[0]?.bytes, 8), 4);
  assert.equal(u32(loaded(f, { vcpus: 4 }).memory.read(0x200000n, 0x10n), 8), 4, 'the guest reads it at the insert GPA');
});

test('§5.4 [exp]: ENVIRONMENT_INFO sets memory_is_shared (bit 0) — also in native mode', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('ENVIRONMENT_INFO_PARAMETER', 0, 4).parameterInsert(0x200000n, m, 0);
  const a = loaded(b.toBytes()).parameterAreas[0]!;
  assert.equal(u32(a.bytes, 4), 1);
  assert.equal(a.writes[0]?.value, 1);
});

test('§5.5 [exp]: the memory map is written from offset 0 of its area whatever byte_offset says', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0x100).parameterInsert(0x200000n, m, 0);
  const a = loaded(b.toBytes(), { memory: 128n << 20n }).parameterAreas[0]!;
  assert.equal(a.writes[0]?.writtenAt, 0);
  assert.equal(a.writes[0]?.byteOffset, 0x100);
  assert.equal(u64(a.bytes, 0), 0n);
  assert.equal(u64(a.bytes, 8), 0x8000n);
  assert.equal(u64(a.bytes, 24), 0xfd00000n);
  assert.equal(u64(a.bytes, 0x100), 0n, 'nothing at byte_offset');
  assert.ok(a.bytes.subarray(48, 72).every((x) => x === 0), 'the list ends with an all-zero entry');
});

test('§5.5 [exp]: VP_COUNT@0 and MEMORY_MAP@0x18 in one area collide — the map overwrites the count, nothing at 0x18', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('VP_COUNT_PARAMETER', 0, 0).parameter('MEMORY_MAP', 0, 0x18).parameterInsert(0x200000n, m, 0);
  const a = loaded(b.toBytes(), { memory: 128n << 20n, vcpus: 3 }).parameterAreas[0]!;
  assert.equal(u64(a.bytes, 0), 0n, 'entry 0 starting page, not the VP count');
  assert.equal(u64(a.bytes, 0x18), 0xfd00000n, 'at 0x18 the guest finds entry 1, not a map');
});

test('§5.5: entries are sorted by starting page (the KVM entry is created first)', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(0x200000n, m, 0);
  const a = loaded(b.toBytes(), { memory: 128n << 20n, accel: 'kvm', cpu: 'host-intel' }).parameterAreas[0]!;
  assert.deepEqual(a.writes[0]?.entries?.map((e) => [e.startingPage, e.pageCount, e.entryType]), [[0n, 0x8000n, 0], [0xfeffcn, 4n, 1]]);
  assert.equal(u64(a.bytes, 24), 0xfeffcn);
});

test('§5.5: a memory map larger than its area is fatal', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0n).parameter('MEMORY_MAP', 0, 0).pageData(0x100000n, m);
  failsWith(b.toBytes(), 'IGVM: guest memory map size exceeds parameter area defined in IGVM file');
});

test('§5.5: natively only RAM and reserved E820 types exist; any other is fatal (unknown e820 type)', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).pageData(0x100000n, m);
  const cfg = resolveConfig({}, undefined);
  const ram = ramLayout({ memory: cfg.memory, machine: cfg.machine, accel: cfg.accel, cpuVendor: 'amd', physBits: 40 });
  const ctx = startContext({ view: qemuView(parseIgvm(b.toBytes())), cfg, ram, e820: [{ address: 0n, length: 0x9f000n, type: 1 }, { address: 0xe0000n, length: 0x20000n, type: 3 }], sev: undefined }, 'real');
  assert.throws(() => realPass(ctx), (e: unknown) => e instanceof QemuFailure && e.message === 'unknown e820 type');
});

test('§5.5/§7.4: E820 → IGVM types: RAM 0, reserved 1; under an SEV object also ACPI 1, NVS 2, unusable 1', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map((t) => memoryMapEntryType(t, false)), [0, 1, undefined, undefined, undefined]);
  assert.deepEqual([1, 2, 3, 4, 5].map((t) => memoryMapEntryType(t, true)), [0, 1, 1, 2, 1]);
});

test('§5.5: under an SEV object not initialised by KVM (the pre-pass, or TCG) the map is empty', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_ES');
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(0x200000n, m, 0);
  const r = failure(b.toBytes(), { platform: 'sev-es', accel: 'tcg' });
  assert.equal(r.failure.message, 'accelerator does not support confidential guest sev-guest');
  assert.deepEqual(r.progress?.parameterAreas[0]?.writes[0]?.entries, []);
});

test('§7.4: under SEV-SNP with KVM the map has the E820 entries', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(0x200000n, m, 0);
  const w = loaded(b.toBytes(), { ...SNP_KVM, memory: 128n << 20n }).parameterAreas[0]?.writes[0];
  assert.deepEqual(w?.entries?.map((e) => e.startingPage), [0n, 0xfeffcn, 0xfd00000n]);
});

test('§5.6: PARAMETER_INSERT copies the whole area; unmapped space gets igvm.<index of the insert>', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x2000n).parameter('VP_COUNT_PARAMETER', 0, 0x1ffc).parameterInsert(0x80000000n, m, 0);
  const plan = loaded(b.toBytes(), { vcpus: 2 });
  const p = plan.populations[0]!;
  assert.deepEqual([p.source, p.size, p.ram.name, p.parameterArea], ['parameter-area', 0x2000n, 'igvm.2', 0]);
  assert.equal(u32(plan.memory.read(0x80000000n, 0x2000n), 0x1ffc), 2);
  assert.deepEqual(plan.parameterAreas[0]?.insertedAt, { gpa: 0x80000000n, directive: 2 });
});

test('§5.6/§7.2: under SEV-SNP an insert is one UNMEASURED launch update per 4 KiB of the area, queued immediately', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.parameterArea(0, 0x3000n).parameterInsert(0x200000n, m, 0);
  assert.deepEqual(snpOrder(loaded(b.toBytes(), SNP_KVM)).slice(0, 3), ['200000 UNMEASURED', '201000 UNMEASURED', '202000 UNMEASURED']);
});

test('§5.3: a byte_offset outside the area is a QEMU heap overflow (noted, not a QEMU error)', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('VP_COUNT_PARAMETER', 0, 0x1000).pageData(0x100000n, m);
  const plan = loaded(b.toBytes());
  assert.ok(plan.notes.some((n) => n.includes('outside parameter area 0') && n.includes('undefined behaviour')));
});
