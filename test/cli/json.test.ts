// Tests for --json rendering: bigint and bytes as hex, undefined omitted, Maps, large inputs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bigintToHex, bytesToHex, toJson } from '../../src/cli/json.js';

test('bigint as 0x hex, bytes as lowercase hex, undefined omitted', () => {
  const value = {
    gpa: 0xfff00000n,
    zero: 0n,
    neg: -255n,
    digest: new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x00, 0x0a]),
    empty: new Uint8Array(0),
    missing: undefined,
    n: 5,
    s: 'x',
    nested: [{ a: 1n, b: undefined }, undefined, null],
  };
  assert.equal(
    toJson(value),
    `{
  "gpa": "0xfff00000",
  "zero": "0x0",
  "neg": "-0xff",
  "digest": "deadbeef000a",
  "empty": "",
  "n": 5,
  "s": "x",
  "nested": [
    {
      "a": "0x1"
    },
    null,
    null
  ]
}
`,
  );
  assert.equal(toJson(1n), '"0x1"\n');
  assert.equal(toJson(undefined), 'null\n');
  assert.equal(bigintToHex(0xffffffffffffffffn), '0xffffffffffffffff');
  assert.equal(bytesToHex(new Uint8Array([0, 1, 16, 255])), "000110ff");
});

test('Buffer, subarrays, other typed arrays, Map and Set', () => {
  const buf = Buffer.from([1, 2, 3]);
  const sub = new Uint8Array([9, 1, 2, 9]).subarray(1, 3);
  assert.equal(toJson({ buf, sub }), '{\n  "buf": "010203",\n  "sub": "0102"\n}\n');
  assert.equal(toJson(new Uint16Array([1, 2])), '[\n  1,\n  2\n]\n');
  assert.equal(toJson(new BigUint64Array([16n])), '[\n  "0x10"\n]\n');
  const m = new Map<unknown, unknown>([
    ['k', 1n],
    [2n, new Uint8Array([0xab])],
    [3, undefined],
  ]);
  assert.equal(toJson(m), '{\n  "k": "0x1",\n  "0x2": "ab"\n}\n');
  assert.equal(toJson(new Set([1n, 'a'])), '[\n  "0x1",\n  "a"\n]\n');
  assert.equal(toJson({ when: new Date(0) }), '{\n  "when": "1970-01-01T00:00:00.000Z"\n}\n');
});

test('key order is insertion order', () => {
  assert.equal(toJson({ b: 1, a: 2 }), '{\n  "b": 1,\n  "a": 2\n}\n');
});

test('100k objects render quickly and round-trip', () => {
  const items = Array.from({ length: 100_000 }, (_, i) => ({
    index: i,
    gpa: BigInt(i) * 4096n,
    flags: i % 3 === 0 ? undefined : 'x',
    data: new Uint8Array([i & 0xff, (i >> 8) & 0xff]),
  }));
  const t0 = performance.now();
  const text = toJson({ items });
  const ms = performance.now() - t0;
  assert.ok(ms < 5000, `took ${ms} ms`);
  const back = JSON.parse(text) as { items: { index: number; gpa: string; flags?: string; data: string }[] };
  assert.equal(back.items.length, 100_000);
  assert.deepEqual(back.items[99_999], { index: 99_999, gpa: '0x' + (99_999 * 4096).toString(16), data: '9f86' });
  assert.equal(back.items[1]?.flags, 'x');
  assert.ok(text.endsWith('}\n'));
});
