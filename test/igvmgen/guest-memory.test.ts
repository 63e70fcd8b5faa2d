// The igvmgen guest memory model: allocation, seek, skipped pages (IGVMGEN.md §2).
import test from 'node:test';
import assert from 'node:assert/strict';
import { GuestMemory } from '../../src/igvmgen/guest-memory.js';
import { IgvmError } from '../../src/errors.js';
import { rng } from '../helpers.js';

test('allocate aligns the cursor; allocate(0, a) only aligns', () => {
  const m = new GuestMemory();
  assert.equal(m.allocate(10), 0);
  assert.equal(m.allocate(4, 16), 16);
  assert.equal(m.cursor, 20);
  assert.equal(m.allocate(0, 4096), 4096);
  assert.equal(m.cursor, 4096);
});

test('seek records skipped regions; a region starting mid-page leaves that page emitted', () => {
  const m = new GuestMemory();
  m.allocate(0x1800); // cursor mid-page 1
  m.seek(0x5000, 'x');
  m.allocate(0x10);
  assert.deepEqual(m.skipped, [{ start: 0x1800, end: 0x5000 }]);
  assert.deepEqual(m.emittedRanges(), [{ start: 0, end: 0x2000 }, { start: 0x5000, end: 0x6000 }]);
});

test('seek backwards or to an unaligned address is an IgvmError naming the step', () => {
  const m = new GuestMemory();
  m.allocate(0x3000);
  assert.throws(() => m.seek(0x2000, 'kernel'), (e: unknown) => e instanceof IgvmError && e.code === 'layout-overlap' && /kernel at 0x2000 overlaps .* 0x3000/.test(e.message));
  assert.throws(() => m.seek(0x3001, 'kernel'), (e: unknown) => e instanceof IgvmError && e.code === 'layout-unaligned');
  assert.throws(() => m.write(0x2fff, new Uint8Array(2)), (e: unknown) => e instanceof IgvmError && e.code === 'layout-overflow');
});

test('writes across pages read back; untouched pages are absent (sparse)', () => {
  const m = new GuestMemory();
  m.seek(0x10000000, 'payload');
  m.allocate(10000);
  const data = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7) & 0xff);
  m.write(0x10000000 + 5, data.subarray(0, 9995));
  assert.equal(m.pageCount, 3);
  assert.equal(m.page(0x10000000)?.[5], 0);
  assert.equal(m.page(0x10001000)?.[0], data[4091]);
  assert.equal(m.page(0x0), undefined);
  assert.deepEqual(m.emittedRanges(), [{ start: 0x10000000, end: 0x10003000 }]);
});

test('property: emittedRanges is exactly the set of pages no skipped region covers', () => {
  const rand = rng(77);
  for (let iter = 0; iter < 200; iter++) {
    const m = new GuestMemory();
    for (let k = 0; k < 6; k++) {
      if (rand() < 0.5) m.allocate(Math.floor(rand() * 9000), rand() < 0.3 ? 4096 : 1);
      else m.seek(Math.ceil((m.cursor + Math.floor(rand() * 20000)) / 4096) * 4096, 's');
    }
    const end = Math.ceil(m.cursor / 4096) * 4096;
    const expected: number[] = [];
    for (let g = 0; g < end; g += 4096) if (!m.skipped.some((s) => s.start <= g && g < s.end)) expected.push(g);
    const got: number[] = [];
    for (const r of m.emittedRanges()) for (let g = r.start; g < r.end; g += 4096) got.push(g);
    assert.deepEqual(got, expected);
  }
});
