// CRC-32 (zlib) check values and the fixed-header checksum rule (FORMAT.md §2).
import test from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from '../../src/format/crc32.js';
import { computeChecksum } from '../../src/format/parse.js';
import { storedVectors } from '../helpers.js';

test('crc32 matches the CRC-32/ISO-HDLC check value and chains', () => {
  const text = new TextEncoder().encode('123456789');
  assert.equal(crc32(text), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(text.subarray(4), crc32(text.subarray(0, 4))), 0xcbf43926);
});

test('computeChecksum reproduces the checksum stored in every igvmgen vector', () => {
  const vectors = storedVectors();
  assert.ok(vectors.length >= 10);
  for (const v of vectors) {
    const dv = new DataView(v.bytes.buffer, v.bytes.byteOffset);
    const stored = dv.getUint32(0x14, true);
    assert.equal(computeChecksum(v.bytes, 24, dv.getUint32(8, true), dv.getUint32(12, true)), stored, v.name);
  }
});
