// alignKeys: a valid, shortest edit script (checked against an LCS table), also through the unique-key fallback.
import test from 'node:test';
import assert from 'node:assert/strict';
import { rng } from '../helpers.js';
import { alignKeys, type AlignOp } from '../../src/diff/align.js';

function lcs(a: readonly string[], b: readonly string[]): number {
  const t = Array.from({ length: a.length + 1 }, () => new Int32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) for (let j = b.length - 1; j >= 0; j--) t[i]![j] = a[i] === b[j] ? t[i + 1]![j + 1]! + 1 : Math.max(t[i + 1]![j]!, t[i]![j + 1]!);
  return t[0]![0]!;
}

/** Every index of A and B appears once, in order; pairs have equal keys. Returns the number of pairs. */
function check(a: readonly string[], b: readonly string[], ops: readonly AlignOp[]): number {
  let i = 0;
  let j = 0;
  let same = 0;
  for (const o of ops) {
    if (o.op === 'same') {
      assert.equal(o.a, i++);
      assert.equal(o.b, j++);
      assert.equal(a[o.a], b[o.b]);
      same++;
    } else if (o.op === 'removed') assert.equal(o.a, i++);
    else assert.equal(o.b, j++);
  }
  assert.equal(i, a.length);
  assert.equal(j, b.length);
  return same;
}

test('alignKeys: small cases', () => {
  const ops = alignKeys(['a', 'b', 'c', 'd'], ['a', 'x', 'c', 'd', 'e']);
  assert.deepEqual(ops, [
    { op: 'same', a: 0, b: 0 }, { op: 'removed', a: 1 }, { op: 'added', b: 1 }, { op: 'same', a: 2, b: 2 }, { op: 'same', a: 3, b: 3 }, { op: 'added', b: 4 },
  ]);
  assert.deepEqual(alignKeys([], []), []);
  assert.deepEqual(alignKeys(['a'], []), [{ op: 'removed', a: 0 }]);
  assert.deepEqual(alignKeys([], ['a']), [{ op: 'added', b: 0 }]);
});

test('alignKeys: random lists give a shortest edit script (pairs = LCS length), removals before additions in each run', () => {
  const r = rng(42);
  for (let round = 0; round < 300; round++) {
    const alphabet = 1 + Math.floor(r() * 8);
    const gen = (n: number): string[] => Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(r() * alphabet)));
    const a = gen(Math.floor(r() * 30));
    const b = r() < 0.5 ? gen(Math.floor(r() * 30)) : a.filter(() => r() > 0.2).concat(gen(2));
    const ops = alignKeys(a, b);
    assert.equal(check(a, b, ops), lcs(a, b), `${a.join('')} / ${b.join('')}`);
    for (let k = 1; k < ops.length; k++) assert.ok(!(ops[k - 1]!.op === 'added' && ops[k]!.op === 'removed'), 'no addition directly before a removal');
  }
});

test('alignKeys: past maxEdits the unique-key anchors still give a valid alignment that keeps the unique keys paired', () => {
  const a = Array.from({ length: 500 }, (_, i) => `k${i}`);
  const b = a.flatMap((k, i) => (i % 5 === 0 ? [`new${i}`] : [k]));
  const ops = alignKeys(a, b, { maxEdits: 10 });
  const same = check(a, b, ops);
  assert.equal(same, 400);
});
