// Files the igvm C library refuses (QEMU-LOADER.md §2 step 1, FORMAT.md §9.2): "Unable to parse IGVM file <path>: <code>".
import test from 'node:test';
import assert from 'node:assert/strict';
import { C_API_ERRORS, cApiCode } from '../../src/load/qemu/library.js';
import { loadIgvm, missingFileFailure } from '../../src/load/index.js';
import { assemble, pageData, platform, PLAT, refreshChecksum, relocatableRegion } from '../raw-igvm.js';
import { failsWith, nativeBuilder } from './fixtures.js';

test('§2 [exp]: a non-IGVM file: Unable to parse IGVM file <path>: -16 (InvalidFixedHeader)', () => {
  const r = failsWith(new TextEncoder().encode('#!/bin/sh\necho not an IGVM file\n'), 'Unable to parse IGVM file /tmp/x.bin: -16', {}, '/tmp/x.bin');
  assert.equal(r.failure.stage, 'parse');
});

test('FORMAT §9.2: C API codes −5 … −28 are the crate errors in declaration order', () => {
  assert.equal(C_API_ERRORS.length, 24);
  const expected: [string, number][] = [
    ['NoPlatformHeaders', -5], ['FileDataSectionTooLarge', -6], ['VariableHeaderSectionTooLarge', -7], ['TotalFileSizeTooLarge', -8],
    ['InvalidBinaryPlatformHeader(InvalidVtl)', -9], ['InvalidBinaryInitializationHeader(ReservedNotZero)', -10],
    ['InvalidBinaryDirectiveHeader(UnalignedAddress)', -11], ['MultiplePlatformHeadersWithSameIsolation', -12],
    ['InvalidParameterAreaIndex', -13], ['InvalidPlatformType', -14], ['NoFreeCompatibilityMasks', -15], ['InvalidFixedHeader', -16],
    ['InvalidBinaryVariableHeaderSection', -17], ['InvalidChecksum', -18], ['MultiplePageTableRelocationHeaders', -19],
    ['RelocationRegionsOverlap', -20], ['ParameterInsertInsidePageTableRegion', -21], ['NoMatchingVpContext', -22],
    ['PlatformArchUnsupported', -23], ['InvalidHeaderArch', -24], ['UnsupportedPageSize(8192)', -25], ['InvalidFixedHeaderArch', -26],
    ['MergeRevision', -27], ['InvalidCcaPolicyCompatibilityMask(3)', -28],
  ];
  for (const [crate, code] of expected) assert.equal(cApiCode(crate), code, crate);
});

test('§2: a bad checksum is -18', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m, new Uint8Array([1]));
  const f = b.toBytes();
  f[0x14] = f[0x14]! ^ 1;
  failsWith(f, 'Unable to parse IGVM file test.igvm: -18');
});

test('§2: a bad directive (unaligned page GPA) is -11', () => {
  const f = assemble({ records: [platform({ mask: 1, type: PLAT.NATIVE }), pageData(0x100001n, 1, 0)], data: new Uint8Array(1) });
  failsWith(f, 'Unable to parse IGVM file test.igvm: -11');
});

test('§2: a file without platforms is -5 (NoPlatformHeaders)', () => {
  const f = assemble({ records: [pageData(0x100000n, 1, 0)], data: new Uint8Array(1) });
  failsWith(refreshChecksum(f), 'Unable to parse IGVM file test.igvm: -5');
});

test('§2: two platforms of the same type are -12', () => {
  const f = assemble({ records: [platform({ mask: 1, type: PLAT.NATIVE }), platform({ mask: 2, type: PLAT.NATIVE }), pageData(0x100000n, 1, 0)], data: new Uint8Array(1) });
  failsWith(f, 'Unable to parse IGVM file test.igvm: -12');
});

test('§2 [exp]: a missing file', () => {
  assert.equal(missingFileFailure('/no/such.igvm').message, 'Unable to load /no/such.igvm: Failed to open file “/no/such.igvm”: No such file or directory');
});

test('§2: a file the igvm library panics on makes QEMU abort (the panic crosses the C API)', () => {
  const f = assemble({ records: [platform({ mask: 1, type: PLAT.NATIVE }), relocatableRegion({ mask: 1, alignment: 0n }), pageData(0x100000n, 1, 0)], data: new Uint8Array(1) });
  const r = loadIgvm(f, {}, 'p.igvm');
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.failure.kind, 'abort');
    assert.equal(r.failure.stage, 'parse');
  }
});
