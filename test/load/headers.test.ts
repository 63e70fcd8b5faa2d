// Header types and masks (QEMU-LOADER.md §2, §4): unknown types even when masked for another platform, mask filtering, the order of the sections.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import type { ParameterType } from '../../src/spec/constants.js';
import { assembleWith, ccaPolicy, corimData, pageData, platform, PLAT, T } from '../raw-igvm.js';
import { failsWith, failure, loaded, nativeBuilder, snpVmsa, KVM_VMSA_GPA } from './fixtures.js';

const NATIVE = { platform: 'native' } as const;

const unknown = (type: number) => `IGVM: Unknown header type encountered when processing file: (type 0x${type.toString(16).toUpperCase()})`;

/** NATIVE (mask 1) + SEV_SNP (mask 2), one native page, then `add`. */
function nativeAndSnp(add: (b: IgvmBuilder, native: number, snp: number) => void): Uint8Array {
  const b = new IgvmBuilder();
  const native = b.platform('NATIVE');
  const snp = b.platform('SEV_SNP');
  b.pageData(0x100000n, native, new Uint8Array([1]));
  add(b, native, snp);
  return b.toBytes();
}

const UNHANDLED_PARAMETERS: [ParameterType, number][] = [
  ['SRAT', 0x308], ['MADT', 0x309], ['MMIO_RANGES', 0x30a], ['COMMAND_LINE', 0x30e], ['SLIT', 0x30f], ['PPTT', 0x310], ['DEVICE_TREE', 0x312],
];

for (const [type, code] of UNHANDLED_PARAMETERS) {
  test(`§4: ${type} (0x${code.toString(16)}) is an unknown header type for QEMU 10.2`, () => {
    const f = nativeAndSnp((b) => b.parameterArea(0, 0x1000n).parameter(type, 0, 0));
    const r = failsWith(f, unknown(code), NATIVE);
    assert.equal(r.failure.stage, 'directives');
    assert.equal(r.failure.directive, 2);
  });
}

test('§4: ERROR_RANGE (0x30D) is unknown even when its mask is for another platform', () => {
  const f = nativeAndSnp((b, _n, snp) => b.directive({ type: 'ERROR_RANGE', gpa: 0x300000n, compatibility_mask: snp, size_bytes: 0x1000 }));
  failsWith(f, unknown(0x30d), NATIVE);
});

test('§4: VBS_MEASUREMENT (0x311) is unknown even when its mask is for another platform', () => {
  const f = nativeAndSnp((b, _n, snp) => b.vbsMeasurement({ compatibility_mask: snp }));
  failsWith(f, unknown(0x311), NATIVE);
});

/** NATIVE (1) + VSM (2) with a VBS context, so relocation headers are valid for the library. */
function withVbsContext(init: (b: IgvmBuilder, vsm: number) => void): Uint8Array {
  const b = new IgvmBuilder();
  const native = b.platform('NATIVE');
  const vsm = b.platform('VSM_ISOLATION', { highestVtl: 2 });
  init(b, vsm);
  b.pageData(0x100000n, native, new Uint8Array([1]));
  b.vbsContext(vsm, 0, [{ register_name: 0x20010, value: new Uint8Array(8) }]);
  return b.toBytes();
}

test('§4: RELOCATABLE_REGION (0x102) is unknown, checked after all directives', () => {
  const f = withVbsContext((b, vsm) => b.initialization({
    type: 'RELOCATABLE_REGION', compatibility_mask: vsm, vp_index: 0, vtl: 0, flags: 0, relocation_alignment: 0x1000n,
    relocation_region_gpa: 0x100000n, relocation_region_size: 0x2000n, minimum_relocation_gpa: 0n, maximum_relocation_gpa: 0x10000000n,
  }));
  const r = failsWith(f, unknown(0x102));
  assert.equal(r.failure.stage, 'initialization');
});

test('§4: PAGE_TABLE_RELOCATION_REGION (0x103) is unknown', () => {
  const f = withVbsContext((b, vsm) => b.initialization({
    type: 'PAGE_TABLE_RELOCATION_REGION', compatibility_mask: vsm, vp_index: 0, vtl: 0, reserved: 0, gpa: 0x200000n, size: 0x4000n, used_size: 0x1000n,
  }));
  failsWith(f, unknown(0x103));
});

test('§4: a pending page region is not flushed when an initialization header is unknown', () => {
  const f = withVbsContext((b, vsm) => b.initialization({
    type: 'PAGE_TABLE_RELOCATION_REGION', compatibility_mask: vsm, vp_index: 0, vtl: 0, reserved: 0, gpa: 0x200000n, size: 0x4000n, used_size: 0x1000n,
  }));
  assert.deepEqual(failure(f).progress?.populations, []);
});

test('§4: CORIM_DOCUMENT / CORIM_SIGNATURE never reach QEMU: igvm 0.4.0 has no corim feature (-10)', () => {
  for (const type of [T.CORIM_DOCUMENT, T.CORIM_SIGNATURE]) {
    const bytes = assembleWith({}, (ds) => ({
      records: [platform({ mask: 1, type: PLAT.NATIVE }), corimData(T.CORIM_DOCUMENT, 1, ds, 4), ...(type === T.CORIM_SIGNATURE ? [corimData(T.CORIM_SIGNATURE, 1, ds + 4, 4)] : []), pageData(0x100000n, 1, 0)],
      data: new Uint8Array([0xa0, 0, 0, 0, 0xd2, 0x84, 0x40, 0xa0, 0xf6, 0x40]),
    }));
    failsWith(bytes, 'Unable to parse IGVM file test.igvm: -10');
  }
});

test('§4: CCA_POLICY never reaches QEMU: igvm 0.4.0 does not know the header (-10)', () => {
  const bytes = assembleWith({}, () => ({
    records: [platform({ mask: 1, type: PLAT.NATIVE }), ccaPolicy({ mask: 1 }), pageData(0x100000n, 1, 0)],
    data: new Uint8Array(1),
  }));
  failsWith(bytes, 'Unable to parse IGVM file test.igvm: -10');
});

test('§2 step 3: a file without any directive fails with the directive count', () => {
  const b = new IgvmBuilder();
  b.platform('NATIVE');
  failsWith(b.toBytes(), 'Invalid directive header count in IGVM file. Error code: 0');
});

test('§2: directive indices skip headers with compatibility_mask 0 (the library drops them)', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x300000n, 0).pageData(0x100000n, m, new Uint8Array([1]));
  assert.equal(loaded(b.toBytes()).populations[0]?.directive, 0);
});

// ---- mask filtering: headers with a mask are applied only if header_mask & mask != 0

test('§4 mask: PAGE_DATA for another platform is skipped', () => {
  const plan = loaded(nativeAndSnp((b, _n, snp) => b.pageData(0x200000n, snp, new Uint8Array([2]))), NATIVE);
  assert.deepEqual(plan.populations.map((p) => p.gpa), [0x100000n]);
});

test('§4 mask: VP_CONTEXT for another platform is skipped', () => {
  const plan = loaded(nativeAndSnp((b, _n, snp) => b.vmsa(KVM_VMSA_GPA, snp, 0, snpVmsa())), NATIVE);
  assert.equal(plan.vps[0]?.source, 'reset');
});

test('§4 mask: PARAMETER_INSERT for another platform is skipped (the area stays uninserted)', () => {
  const plan = loaded(nativeAndSnp((b, _n, snp) => b.parameterArea(0, 0x1000n).parameterInsert(0x200000n, snp, 0)), NATIVE);
  assert.equal(plan.parameterAreas[0]?.insertedAt, undefined);
  assert.equal(plan.populations.length, 1);
});

test('§4 mask: REQUIRED_MEMORY for another platform is skipped', () => {
  const plan = loaded(nativeAndSnp((b, _n, snp) => b.requiredMemory(0x40000000n, snp, 0x1000)), NATIVE);
  assert.deepEqual(plan.populations.map((p) => p.source), ['page-data']);
});

test('§4 mask: SNP_ID_BLOCK for another platform is skipped (two of them are no error)', () => {
  loaded(nativeAndSnp((b, _n, snp) => b.snpIdBlock({ compatibility_mask: snp }).snpIdBlock({ compatibility_mask: snp })), NATIVE);
});

test('§4 mask: GUEST_POLICY for another platform is skipped', () => {
  const plan = loaded(nativeAndSnp((b, _n, snp) => b.guestPolicy(0x30000n, snp)), NATIVE);
  assert.equal(plan.guestPolicy, undefined);
  const own = loaded(nativeAndSnp((b, n) => b.guestPolicy(0x1234n, n)), NATIVE);
  assert.equal(own.guestPolicy, 0x1234n);
});

test('§4: PARAMETER_AREA, MEMORY_MAP, VP_COUNT and ENVIRONMENT_INFO have no mask and are always processed', () => {
  const plan = loaded(nativeAndSnp((b, _n, snp) => {
    b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(0x200000n, snp, 0);
    b.parameterArea(1, 0x1000n).parameter('VP_COUNT_PARAMETER', 1, 0).parameter('ENVIRONMENT_INFO_PARAMETER', 1, 4).parameterInsert(0x201000n, snp, 1);
  }), NATIVE);
  assert.deepEqual(plan.parameterAreas.map((a) => a.writes.map((w) => w.type)), [['MEMORY_MAP'], ['VP_COUNT_PARAMETER', 'ENVIRONMENT_INFO_PARAMETER']]);
  assert.ok(plan.parameterAreas.every((a) => a.insertedAt === undefined));
});
