// Tests for the zlib/DEFLATE decoder (RFC 1950/1951) used to read acpi.zip: round trips against node:zlib, corrupt streams.
import test from 'node:test';
import assert from 'node:assert/strict';
import { constants, deflateRawSync, deflateSync, inflateSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgvmError } from '../../src/errors.js';
import { adler32, inflateRaw, inflateZlib } from '../../src/igvmgen/inflate.js';
import { VECTORS, assertSameBytes, rng } from '../helpers.js';

function randomBytes(seed: number, size: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(r() * 256);
  return out;
}

/** Text-like data: runs, repeats at varying distances and a small alphabet, so every length/distance code shows up. */
function repetitiveBytes(seed: number, size: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(size);
  let i = 0;
  while (i < size) {
    const kind = r();
    if (kind < 0.3 || i < 4) {
      const n = 1 + Math.floor(r() * 20);
      for (let k = 0; k < n && i < size; k++) out[i++] = 97 + Math.floor(r() * 6);
    } else if (kind < 0.4) {
      const n = 3 + Math.floor(r() * 300);
      const b = Math.floor(r() * 256);
      for (let k = 0; k < n && i < size; k++) out[i++] = b;
    } else {
      const dist = 1 + Math.floor(r() * Math.min(i, kind < 0.8 ? 300 : 32768));
      const n = 3 + Math.floor(r() * 258);
      for (let k = 0; k < n && i < size; k++, i++) out[i] = out[i - dist]!;
    }
  }
  return out;
}

const sizes = [0, 1, 2, 100, 4096, 70_000, 300_000];
const datasets: [string, (seed: number, size: number) => Uint8Array][] = [
  ['random', randomBytes],
  ['repetitive', repetitiveBytes],
];

test('inflateZlib round-trips node:zlib deflateSync at levels 0, 1, 6 and 9', () => {
  let checked = 0;
  for (const [kind, make] of datasets) {
    for (const size of sizes) {
      const data = make(size + 17, size);
      for (const level of [0, 1, 6, 9]) {
        const z = new Uint8Array(deflateSync(data, { level }));
        assertSameBytes(inflateZlib(z), data, `${kind} ${size} level ${level}`);
        checked++;
      }
    }
  }
  assert.equal(checked, datasets.length * sizes.length * 4);
});

test('inflateZlib round-trips the fixed-Huffman, Huffman-only and RLE strategies and small windows', () => {
  const strategies = [constants.Z_FIXED, constants.Z_HUFFMAN_ONLY, constants.Z_RLE, constants.Z_FILTERED];
  for (const [kind, make] of datasets) {
    for (const size of [1, 1000, 100_000]) {
      const data = make(size * 3 + 1, size);
      for (const strategy of strategies) {
        for (const level of [1, 9]) {
          const z = new Uint8Array(deflateSync(data, { level, strategy }));
          assertSameBytes(inflateZlib(z), data, `${kind} ${size} strategy ${strategy} level ${level}`);
        }
      }
      for (const windowBits of [9, 12, 15]) {
        for (const memLevel of [1, 9]) {
          const z = new Uint8Array(deflateSync(data, { level: 9, windowBits, memLevel }));
          assertSameBytes(inflateZlib(z), data, `${kind} ${size} windowBits ${windowBits} memLevel ${memLevel}`);
        }
      }
    }
  }
});

test('inflateRaw decodes raw DEFLATE, including streams made of many flushed blocks', () => {
  const data = repetitiveBytes(99, 200_000);
  assertSameBytes(inflateRaw(new Uint8Array(deflateRawSync(data, { level: 6 }))), data, 'raw level 6');
  // Small chunks force many blocks of all three types.
  const z = new Uint8Array(deflateRawSync(data, { level: 6, chunkSize: 64 }));
  assertSameBytes(inflateRaw(z), data, 'raw chunked');
});

test('inflateZlib decodes the acpi.zip payload exactly as node:zlib does', () => {
  const b64 = readFileSync(join(VECTORS, 'acpi', 'acpi.zip'), 'latin1');
  const z = new Uint8Array(Buffer.from(b64, 'base64'));
  const ours = inflateZlib(z);
  assertSameBytes(ours, new Uint8Array(inflateSync(z)), 'acpi.zip payload');
  assert.equal(ours.length, 139899);
});

test('adler32 known values', () => {
  assert.equal(adler32(new Uint8Array(0)), 1);
  assert.equal(adler32(new TextEncoder().encode('Wikipedia')), 0x11e60398);
  // Long input exercises the deferred modulo.
  const big = new Uint8Array(1_000_000).fill(0xff);
  const z = new Uint8Array(deflateSync(big));
  const tail = z.subarray(z.length - 4);
  assert.equal(adler32(big), ((tail[0]! << 24) | (tail[1]! << 16) | (tail[2]! << 8) | tail[3]!) >>> 0);
});

function expectIgvmError(fn: () => unknown, code?: string | RegExp): IgvmError | undefined {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof IgvmError)) assert.fail(`expected IgvmError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    if (code instanceof RegExp) assert.match(e.code, code);
    else if (code !== undefined) assert.equal(e.code, code);
    return e;
  }
  if (code !== undefined) assert.fail(`expected IgvmError ${String(code)}, got success`);
  return undefined;
}

test('bad zlib headers are IgvmErrors', () => {
  const good = new Uint8Array(deflateSync(new TextEncoder().encode('hello hello hello')));
  expectIgvmError(() => inflateZlib(new Uint8Array(0)), 'zlib-truncated');
  expectIgvmError(() => inflateZlib(good.subarray(0, 1)), 'zlib-truncated');
  const badMethod = good.slice();
  badMethod[0] = 0x77; // CM 7
  expectIgvmError(() => inflateZlib(badMethod), 'zlib-bad-header');
  const badCheck = good.slice();
  badCheck[1] = badCheck[1]! ^ 1;
  expectIgvmError(() => inflateZlib(badCheck), 'zlib-bad-header');
  const bigWindow = new Uint8Array([0x88, 0]);
  bigWindow[1] = 31 - ((0x88 << 8) % 31);
  expectIgvmError(() => inflateZlib(bigWindow), 'zlib-bad-header');
  const dict = new Uint8Array([0x78, 0x20]);
  dict[1] = 0x20 + (31 - (((0x78 << 8) | 0x20) % 31));
  expectIgvmError(() => inflateZlib(dict), 'zlib-dictionary');
});

test('a wrong Adler-32 and a missing one are IgvmErrors', () => {
  const good = new Uint8Array(deflateSync(repetitiveBytes(5, 5000)));
  const bad = good.slice();
  bad[bad.length - 1] = bad[bad.length - 1]! ^ 0x40;
  const e = expectIgvmError(() => inflateZlib(bad), 'zlib-bad-checksum');
  assert.match(e!.message, /Adler-32/);
  expectIgvmError(() => inflateZlib(good.subarray(0, good.length - 2)), 'zlib-truncated');
});

test('every truncation of a stream is an IgvmError', () => {
  for (const level of [0, 1, 9]) {
    const z = new Uint8Array(deflateSync(repetitiveBytes(level, 3000), { level }));
    for (let n = 0; n < z.length; n++) expectIgvmError(() => inflateZlib(z.subarray(0, n)), /^(zlib|inflate)-/);
  }
});

test('a stored block whose NLEN is not the complement of LEN is an IgvmError', () => {
  const z = new Uint8Array(deflateSync(randomBytes(3, 100), { level: 0 }));
  z[2 + 1 + 2] = z[2 + 1 + 2]! ^ 0xff; // first NLEN byte (after the 2-byte header and the block-type byte)
  expectIgvmError(() => inflateZlib(z), 'inflate-bad-stored');
});

test('invalid DEFLATE constructs are IgvmErrors', () => {
  // BFINAL=1, BTYPE=3.
  expectIgvmError(() => inflateRaw(new Uint8Array([0x07])), 'inflate-bad-block');
  // Fixed block whose first code is a distance-reaching match (length 3, distance 1) with empty output.
  expectIgvmError(() => inflateRaw(new Uint8Array([0x03, 0x02, 0x00])), 'inflate-bad-distance');
  // Dynamic block: HLIT 257, HDIST 1, HCLEN 4 with all code-length code lengths zero.
  expectIgvmError(() => inflateRaw(new Uint8Array([0x05, 0x00, 0x00, 0x00])), /^inflate-/);
});

test('the output cap stops a decompression bomb', () => {
  const z = new Uint8Array(deflateSync(new Uint8Array(2_000_000)));
  assert.ok(z.length < 5000);
  expectIgvmError(() => inflateZlib(z, { maxOutput: 1_000_000 }), 'inflate-too-large');
  assert.equal(inflateZlib(z, { maxOutput: 2_000_000 }).length, 2_000_000);
  expectIgvmError(() => inflateZlib(z, { maxOutput: 0 }), 'inflate-too-large');
});

test('fixed-seed bit flips and random garbage give IgvmError or a result, never another exception', () => {
  const r = rng(20240606);
  const sources = [
    new Uint8Array(deflateSync(repetitiveBytes(1, 20_000), { level: 9 })),
    new Uint8Array(deflateSync(repetitiveBytes(2, 20_000), { strategy: constants.Z_FIXED })),
    new Uint8Array(deflateSync(randomBytes(3, 2000), { level: 0 })),
    new Uint8Array(deflateSync(repetitiveBytes(4, 5000), { strategy: constants.Z_HUFFMAN_ONLY })),
  ];
  let errors = 0;
  let runs = 0;
  for (let iter = 0; iter < 1500; iter++) {
    const src = sources[iter % sources.length]!;
    const z = src.slice();
    const flips = 1 + Math.floor(r() * 4);
    for (let k = 0; k < flips; k++) {
      const bit = Math.floor(r() * z.length * 8);
      z[bit >> 3] = z[bit >> 3]! ^ (1 << (bit & 7));
    }
    runs++;
    if (expectIgvmError(() => inflateZlib(z, { maxOutput: 1 << 20 }))) errors++;
  }
  for (let iter = 0; iter < 300; iter++) {
    const garbage = randomBytes(1000 + iter, 1 + Math.floor(r() * 400));
    garbage[0] = 0x78;
    garbage[1] = 0x9c;
    runs++;
    if (expectIgvmError(() => inflateZlib(garbage, { maxOutput: 1 << 20 }))) errors++;
    expectIgvmError(() => inflateRaw(garbage.subarray(2), { maxOutput: 1 << 20 }));
  }
  assert.equal(runs, 1800);
  assert.ok(errors > 1500, `most corrupt streams are rejected (${errors})`);
});
