// Regression cases found by test/format/fuzz.test.ts, minimised; each must pass every fuzz assertion.
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseIgvm } from '../../src/format/index.js';
import { computeChecksum } from '../../src/format/parse.js';
import { serializeIgvm } from '../../src/format/serialize.js';
import { validateIgvm } from '../../src/validate/index.js';

const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const u32 = (b: Uint8Array, o: number) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);

/** Every round-trip assertion the fuzzer makes on a valid input. */
function assertRoundTrips(bytes: Uint8Array): Uint8Array {
  const v = validateIgvm(bytes);
  assert.equal(v.errors, 0, v.problems.map((p) => `${p.code}: ${p.message}`).join('; '));
  const file = parseIgvm(bytes);
  assert.deepEqual(serializeIgvm(file, { mode: 'preserve' }), bytes, 'preserve mode must reproduce the input');
  const compact = serializeIgvm(file);
  assert.deepEqual(serializeIgvm(parseIgvm(compact)), compact, 'compact mode must be idempotent');
  return compact;
}

/** A v1 (X64) or v2 (AArch64) file from whole-record hex strings and `dataLength` zero bytes of file data; `patch` sets offsets; checksum fixed. */
function build(version: 1 | 2, records: string[], dataLength: number, patch: (b: Uint8Array, fds: number) => void): Uint8Array {
  const fixed = version === 1 ? 24 : 32;
  const vhs = records.reduce((n, r) => n + r.length / 2, 0);
  const b = new Uint8Array(fixed + vhs + dataLength);
  const view = new DataView(b.buffer);
  view.setUint32(0, 0x4d564749, true);
  view.setUint32(4, version, true);
  view.setUint32(8, fixed, true);
  view.setUint32(12, vhs, true);
  view.setUint32(16, b.length, true);
  if (version === 2) {
    view.setUint32(0x18, 1, true); // AArch64
    view.setUint32(0x1c, 0x1000, true);
  }
  b.set(fromHex(records.join('')), fixed);
  patch(b, fixed + vhs);
  view.setUint32(0x14, computeChecksum(b, fixed, fixed, vhs), true);
  return b;
}

// SUPPORTED_PLATFORM: mask 1, vtl 0, SEV_SNP (2) / CCA (6), version 1, boundary 0.
const SNP = '01000000' + '10000000' + '01000000' + '0002' + '0100' + '0000000000000000';
const CCA = '01000000' + '10000000' + '01000000' + '0006' + '0100' + '0000000000000000';

test('fuzz: PARAMETER_AREA with number_of_bytes 0 and a non-zero file_offset keeps its offset in preserve mode', () => {
  // Minimised fuzzer input (seed 0x1a2b3c4d, iteration 520): the area's file_offset is the file length (0xb1), which the
  // crate accepts (an empty slice at the end of the data section). serializeIgvm(preserve) used to write file_offset 0.
  const found = fromHex(
    '4947564d010000001800000030000000b100000047ac6ef8' + // v1 fixed header, vho 0x18, vhs 0x30, total 0xb1
      '01000000100000000100000002010100' + '0000000000000000' + // VSM_ISOLATION platform, mask 1, highest_vtl 2
      '01030000100000000000000000000000' + '00000000b1000000' + // PARAMETER_AREA: 0 bytes, index 0, file_offset 0xb1
      '00'.repeat(105),
  );
  assert.equal(found.length, 0xb1);
  const compact = assertRoundTrips(found);
  // compact writes the crate's layout: no data, file_offset 0
  assert.equal(u32(compact, 24 + 24 + 8 + 12), 0);

  // the same with the offset at the start of the data section
  const area = '01030000' + '10000000' + '0000000000000000' + '00000000' + '00000000';
  const atStart = build(1, [SNP, area], 1, (b, fds) => new DataView(b.buffer).setUint32(24 + 24 + 8 + 12, fds, true));
  assertRoundTrips(atStart);
});

test('fuzz: CORIM_DOCUMENT with size_bytes 0 and a non-zero file_offset keeps its offset in preserve mode', () => {
  const corim = '04010000' + '10000000' + '01000000' + '00000000' + '00000000' + '00000000';
  const bytes = build(2, [CCA, corim], 4, (b, fds) => new DataView(b.buffer).setUint32(32 + 24 + 8 + 4, fds + 2, true));
  assertRoundTrips(bytes);
});
