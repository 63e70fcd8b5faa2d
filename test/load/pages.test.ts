// PAGE_DATA (QEMU-LOADER.md §5.1): page sizes, zero padding, each merge condition broken on its own (region list and SNP
// launch-update order), late flushing, immediate non-page directives, data types and the shared flag.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder, type PageOptions } from '../../src/builder.js';
import { filled, loaded, nativeBuilder, regions, SNP_KVM, snpOrder } from './fixtures.js';

interface Variant {
  /** The second page: gpa, data, options, mask override. */
  second: { gpa: bigint; data: Uint8Array | undefined; opts?: PageOptions; mask?: number };
  /** Something between the two pages. */
  between?: (b: IgvmBuilder, m: number, other: number) => void;
}

/**
 * SEV-SNP file (mask 1; a NATIVE platform mask 2 for the "other platform" case): area 0 declared first, page A at
 * 0x100000 with data, optional directive, page B, then PARAMETER_INSERT of area 0 at 0x200000.
 */
function mergeFile(v: Variant): Uint8Array {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  const other = b.platform('NATIVE');
  b.guestPolicy(0x30000n, m);
  if (!v.between) b.parameterArea(0, 0x1000n);
  b.pageData(0x100000n, m, filled(0xa1, 16));
  v.between?.(b, m, other);
  b.pageData(v.second.gpa, v.second.mask ?? m, v.second.data, v.second.opts ?? {});
  b.parameterInsert(0x200000n, m, 0);
  return b.toBytes();
}

const B_DATA = filled(0xb2, 16);
const MERGED_ORDER = ['200000 UNMEASURED', '100000 NORMAL', '101000 NORMAL'];

test('§5.1 merge: consecutive contiguous pages with equal attributes form one region, flushed after the insert', () => {
  const f = mergeFile({ second: { gpa: 0x101000n, data: B_DATA } });
  const plan = loaded(f, SNP_KVM);
  assert.deepEqual(regions(plan), ['200000+1000 parameter-area #3 pc.ram', '100000+2000 page-data #1x2 pc.ram']);
  assert.deepEqual(snpOrder(plan).slice(0, 3), MERGED_ORDER);
});

test('§5.1 merge broken: another directive between the pages (i != last_index + 1)', () => {
  const f = mergeFile({ second: { gpa: 0x101000n, data: B_DATA }, between: (b) => b.parameterArea(0, 0x1000n) });
  const plan = loaded(f, SNP_KVM);
  assert.deepEqual(regions(plan), ['100000+1000 page-data #0 pc.ram', '200000+1000 parameter-area #3 pc.ram', '101000+1000 page-data #2 pc.ram']);
  assert.deepEqual(snpOrder(plan).slice(0, 3), ['100000 NORMAL', '200000 UNMEASURED', '101000 NORMAL']);
});

test('§5.1 merge broken: a PAGE_DATA for another platform between the pages', () => {
  const f = mergeFile({
    second: { gpa: 0x101000n, data: B_DATA },
    between: (b, _m, other) => b.parameterArea(0, 0x1000n).pageData(0x500000n, other, filled(1, 8)),
  });
  const order = snpOrder(loaded(f, SNP_KVM)).slice(0, 3);
  assert.deepEqual(order, ['100000 NORMAL', '200000 UNMEASURED', '101000 NORMAL']);
});

test('§5.1 merge broken: the GPA does not follow the previous page', () => {
  const plan = loaded(mergeFile({ second: { gpa: 0x102000n, data: B_DATA } }), SNP_KVM);
  assert.deepEqual(regions(plan), ['100000+1000 page-data #1 pc.ram', '200000+1000 parameter-area #3 pc.ram', '102000+1000 page-data #2 pc.ram']);
  assert.deepEqual(snpOrder(plan).slice(0, 3), ['100000 NORMAL', '200000 UNMEASURED', '102000 NORMAL']);
});

test('§5.1 merge broken: different flags (the shared bit)', () => {
  const plan = loaded(mergeFile({ second: { gpa: 0x101000n, data: B_DATA, opts: { flags: 0x4 } } }), SNP_KVM);
  assert.deepEqual(regions(plan), ['100000+1000 page-data #1 pc.ram', '200000+1000 parameter-area #3 pc.ram', '101000+1000 page-data #2 pc.ram']);
  assert.deepEqual(snpOrder(plan).slice(0, 3), ['100000 NORMAL', '200000 UNMEASURED', '101000 NORMAL']);
});

test('§5.1 merge broken: different data type', () => {
  const plan = loaded(mergeFile({ second: { gpa: 0x101000n, data: B_DATA, opts: { dataType: 1 } } }), SNP_KVM);
  assert.equal(plan.populations.length, 3);
  assert.deepEqual(snpOrder(plan).slice(0, 3), ['100000 NORMAL', '200000 UNMEASURED', '101000 SECRETS']);
});

test('§5.1 merge broken: different compatibility mask (both including the platform)', () => {
  const plan = loaded(mergeFile({ second: { gpa: 0x101000n, data: B_DATA, mask: 0x3 } }), SNP_KVM);
  assert.deepEqual(regions(plan), ['100000+1000 page-data #1 pc.ram', '200000+1000 parameter-area #3 pc.ram', '101000+1000 page-data #2 pc.ram']);
  assert.deepEqual(snpOrder(plan).slice(0, 3), ['100000 NORMAL', '200000 UNMEASURED', '101000 NORMAL']);
});

test('§5.1 merge broken: one page has data, the other has none', () => {
  const plan = loaded(mergeFile({ second: { gpa: 0x101000n, data: undefined } }), SNP_KVM);
  assert.deepEqual(regions(plan), ['100000+1000 page-data #1 pc.ram', '200000+1000 parameter-area #3 pc.ram', '101000+1000 zero #2 pc.ram']);
  assert.deepEqual(snpOrder(plan).slice(0, 3), ['100000 NORMAL', '200000 UNMEASURED', '101000 NORMAL']);
});

test('§5.1: the last pending region is flushed only after the initialization section (after every other directive)', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m, filled(1, 8)).requiredMemory(0x10000000n, m, 0x1000);
  assert.deepEqual(regions(loaded(b.toBytes())), ['10000000+1000 required-memory #1 pc.ram', '100000+1000 page-data #0 pc.ram']);
});

test('§5.1: non-PAGE_DATA directives are applied immediately — an insert lands before pending pages at the same GPA', () => {
  const { b, m } = nativeBuilder();
  b.parameterArea(0, 0x1000n).parameter('VP_COUNT_PARAMETER', 0, 0);
  b.pageData(0x200000n, m, filled(0xee, 4096)).parameterInsert(0x200000n, m, 0);
  const plan = loaded(b.toBytes());
  assert.deepEqual(plan.populations.map((p) => p.source), ['parameter-area', 'page-data']);
  assert.equal(plan.memory.read(0x200000n, 4n)[0], 0xee, 'the page (flushed last) overwrites the inserted area');
});

test('§5.1: 2 MiB pages (flag bit 0): region size and contiguity in 2 MiB steps, data zero-padded to 2 MiB', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x400000n, m, filled(7, 4096), { flags: 1 }).pageData(0x600000n, m, filled(8, 16), { flags: 1 });
  const plan = loaded(b.toBytes());
  assert.deepEqual(regions(plan), ['400000+400000 page-data #0x2 pc.ram']);
  assert.equal(plan.populations[0]?.pageSize, 0x200000);
  const mem = plan.memory.read(0x400000n, 0x400000n);
  assert.equal(mem[0], 7);
  assert.equal(mem[0x1000], 0, 'past the 4 KiB of data the 2 MiB page is zero');
  assert.equal(mem[0x200000], 8);
  assert.equal(mem[0x200010], 0);
});

test('§5.1: a 2 MiB page under SEV-SNP is 512 launch updates', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x400000n, m, undefined, { flags: 1 });
  const order = snpOrder(loaded(b.toBytes(), SNP_KVM));
  assert.equal(order.filter((o) => o.endsWith('NORMAL')).length, 512);
  assert.equal(order[511], '5ff000 NORMAL');
});

test('§5.1: data shorter than the page is zero-padded; no data is a zero page', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m, new Uint8Array([1, 2, 3])).pageData(0x101000n, m);
  const plan = loaded(b.toBytes());
  assert.deepEqual([...plan.memory.read(0x100000n, 5n)], [1, 2, 3, 0, 0]);
  assert.deepEqual(plan.populations.map((p) => p.source), ['page-data', 'zero']);
});

test('§5.1 native: the data type is not looked at (CPUID and secrets pages are ordinary data)', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m, filled(5, 8), { dataType: 2 }).pageData(0x200000n, m, filled(6, 8), { dataType: 1 });
  const plan = loaded(b.toBytes());
  assert.deepEqual(plan.populations.map((p) => [p.sevType, p.measured]), [[undefined, false], [undefined, false]]);
  assert.equal(plan.memory.read(0x100000n, 1n)[0], 5);
  assert.equal(plan.memory.read(0x200000n, 1n)[0], 6);
});

test('§5.1: the shared flag is ignored — under SEV-SNP the page is loaded and measured as a private NORMAL page', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x100000n, m, filled(9, 4096), { flags: 0x4 });
  const plan = loaded(b.toBytes(), SNP_KVM);
  assert.deepEqual([plan.populations[0]?.sevType, plan.populations[0]?.measured], ['NORMAL', true]);
  assert.equal(plan.snp?.launchUpdates[0]?.contents?.[0], 9);
});
