// Round trips for every header type and every stored igvmgen vector: parse → serialize('preserve') is byte-identical,
// parse → serialize('compact') reproduces already-compact input, and decoded fields equal what was put in (FORMAT.md §3, §8, §10).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  IgvmBuilder,
  parseIgvm,
  serializeIgvm,
  encodeVmsa,
  encodeNativeContext,
  encodeCcaContext,
  encodeVbsContext,
  PARAMETER_TYPES,
  type AnyHeader,
  type IgvmFile,
  type DirectiveHeader,
  type InitializationHeader,
  type SupportedPlatform,
  type VpContextData,
} from '../../src/index.js';
import { rng, storedVectors, assertSameBytes } from '../helpers.js';
import { expectedChecksum, walkRecords } from '../raw-igvm.js';

// ---- small independent byte helpers ----------------------------------------------------------------

const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u32 = (b: Uint8Array, o: number) => dv(b).getUint32(o, true);

function padTo(data: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(data);
  return out;
}

const next = rng(0xc0ffee);
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
const randomU64 = () => (BigInt(Math.floor(next() * 2 ** 32)) << 32n) | BigInt(Math.floor(next() * 2 ** 32));

// ---- field comparison ------------------------------------------------------------------------------

/** Assert a decoded header equals the header given to the builder (file offsets excepted; data compared padded). */
function assertHeader(actual: AnyHeader | undefined, expected: AnyHeader, where: string): void {
  assert.ok(actual, `${where}: missing`);
  assert.equal(actual.type, expected.type, `${where}: type`);
  const a = actual as unknown as Record<string, unknown>;
  const e = expected as unknown as Record<string, unknown>;
  for (const key of Object.keys(e)) {
    if (key === 'file_offset' || key === 'data' || key === 'context') continue;
    assert.deepEqual(a[key], e[key], `${where}.${key}`);
  }
  if (expected.type === 'PAGE_DATA' && actual.type === 'PAGE_DATA') {
    if (expected.data) assert.deepEqual(actual.data, padTo(expected.data, 4096), `${where}.data`);
    else assert.equal(actual.data, undefined, `${where}.data (zero page)`);
  }
  if (expected.type === 'PARAMETER_AREA' && actual.type === 'PARAMETER_AREA') {
    if (expected.data) assert.deepEqual(actual.data, padTo(expected.data, Number(expected.number_of_bytes)), `${where}.data`);
    else assert.equal(actual.data, undefined, `${where}.data (no initial data)`);
  }
  if ((expected.type === 'CORIM_DOCUMENT' || expected.type === 'CORIM_SIGNATURE') && actual.type === expected.type) {
    assert.deepEqual(actual.data, expected.data, `${where}.data`);
  }
  if (expected.type === 'VP_CONTEXT' && actual.type === 'VP_CONTEXT') assertContext(actual.context, expected.context, where);
}

function assertContext(actual: VpContextData, expected: VpContextData, where: string): void {
  assert.equal(actual.kind, expected.kind, `${where}.context.kind`);
  assert.deepEqual(actual.data, expected.data, `${where}.context.data`);
  if (expected.kind === 'vbs' && actual.kind === 'vbs') {
    assert.equal(actual.vtl, expected.vtl, `${where}.context.vtl`);
    assert.equal(actual.registers.length, expected.registers.length, `${where}.context.registers`);
    expected.registers.forEach((r, i) => {
      const got = actual.registers[i]!;
      assert.equal(got.vtl, r.vtl, `${where} register ${i} vtl`);
      assert.equal(got.register_name, r.register_name, `${where} register ${i} name`);
      assert.deepEqual(got.register_value, padTo(r.register_value, 16), `${where} register ${i} value`);
      assert.ok(got.name !== undefined, `${where} register ${i}: 0x${r.register_name.toString(16)} should be an accepted register`);
    });
  }
}

// ---- cases: one small valid file per header type ------------------------------------------------

interface Built {
  bytes: Uint8Array;
  platforms: SupportedPlatform[];
  initializations: InitializationHeader[];
  directives: DirectiveHeader[];
}

/** A builder wrapper that remembers the headers given, so decoded values can be compared with them. */
class Recorder {
  readonly b: IgvmBuilder;
  readonly platforms: SupportedPlatform[] = [];
  readonly initializations: InitializationHeader[] = [];
  readonly directives: DirectiveHeader[] = [];
  constructor(opts: ConstructorParameters<typeof IgvmBuilder>[0] = {}) {
    this.b = new IgvmBuilder(opts);
  }
  platform(type: Parameters<IgvmBuilder['platform']>[0], platform_type: number, opts: { highestVtl?: number; sharedGpaBoundary?: bigint } = {}): number {
    const mask = this.b.platform(type, opts);
    this.platforms.push({ type: 'SUPPORTED_PLATFORM', compatibility_mask: mask, highest_vtl: opts.highestVtl ?? 0, platform_type, platform_version: 1, shared_gpa_boundary: opts.sharedGpaBoundary ?? 0n });
    return mask;
  }
  init(h: InitializationHeader): this {
    this.b.initialization(h);
    this.initializations.push(h);
    return this;
  }
  dir(h: DirectiveHeader): this {
    this.b.directive(h);
    this.directives.push(h);
    return this;
  }
  page(gpa: bigint, mask: number, data: Uint8Array | undefined, flags = 0, data_type = 0): this {
    return this.dir({ type: 'PAGE_DATA', gpa, compatibility_mask: mask, file_offset: 0, flags, data_type, reserved: 0, data });
  }
  context(gpa: bigint, mask: number, vp_index: number, context: VpContextData): this {
    return this.dir({ type: 'VP_CONTEXT', gpa, compatibility_mask: mask, file_offset: 0, vp_index, reserved: 0, context });
  }
  vbs(mask: number, vtl: number, regs: [number, Uint8Array][]): this {
    const data = encodeVbsContext(regs.map(([register_name, value]) => ({ vtl, register_name, value })));
    return this.context(0n, mask, 0, {
      kind: 'vbs', data, vtl,
      registers: regs.map(([register_name, value]) => ({ vtl, register_name, name: undefined, mbz: new Uint8Array(11), register_value: value })),
    });
  }
  done(): Built {
    return { bytes: this.b.toBytes(), platforms: this.platforms, initializations: this.initializations, directives: this.directives };
  }
}

const HV = { Rip: 0x20010, Rsp: 0x20004, Cr0: 0x40000, Cr3: 0x40002, Cr4: 0x40003, Efer: 0x80001, Gdtr: 0x70001, Cs: 0x60001 } as const;

interface Case {
  name: string;
  /** Record type codes this case exists to cover. */
  covers: number[];
  build(): Built;
}

const CASES: Case[] = [
  {
    name: 'SUPPORTED_PLATFORM (0x001): every x64 platform type with VTL and shared GPA boundary',
    covers: [0x001],
    build() {
      const r = new Recorder();
      r.platform('NATIVE', 0);
      r.platform('VSM_ISOLATION', 1, { highestVtl: 2 });
      r.platform('SEV_SNP', 2, { sharedGpaBoundary: 1n << 46n });
      r.platform('TDX', 3, { sharedGpaBoundary: 1n << 47n, highestVtl: 2 });
      r.platform('SEV', 4);
      r.platform('SEV_ES', 5, { sharedGpaBoundary: 0x8000_0000_0000n });
      return r.done();
    },
  },
  {
    name: 'GUEST_POLICY (0x101) for SNP and TDX',
    covers: [0x101],
    build() {
      const r = new Recorder();
      const snp = r.platform('SEV_SNP', 2);
      const tdx = r.platform('TDX', 3);
      r.init({ type: 'GUEST_POLICY', policy: 0x30000n, compatibility_mask: snp, reserved: 0 });
      r.init({ type: 'GUEST_POLICY', policy: 0x7n, compatibility_mask: tdx, reserved: 0 });
      r.page(0x1000n, snp | tdx, randomBytes(4096));
      return r.done();
    },
  },
  {
    name: 'RELOCATABLE_REGION (0x102) with its VBS VP context',
    covers: [0x102],
    build() {
      const r = new Recorder();
      const vsm = r.platform('VSM_ISOLATION', 1, { highestVtl: 2 });
      r.init({
        type: 'RELOCATABLE_REGION', compatibility_mask: vsm, vp_index: 0, vtl: 0, flags: 0x7, relocation_alignment: 0x200000n,
        relocation_region_gpa: 0x200000n, relocation_region_size: 0x400000n, minimum_relocation_gpa: 0x200000n, maximum_relocation_gpa: 0x40000000n,
      });
      r.page(0x200000n, vsm, randomBytes(4096));
      r.vbs(vsm, 0, [[HV.Rip, randomBytes(16)], [HV.Cr3, randomBytes(16)]]);
      return r.done();
    },
  },
  {
    name: 'PAGE_TABLE_RELOCATION_REGION (0x103) with its VBS VP context',
    covers: [0x103],
    build() {
      const r = new Recorder();
      const vsm = r.platform('VSM_ISOLATION', 1, { highestVtl: 2 });
      r.init({ type: 'PAGE_TABLE_RELOCATION_REGION', compatibility_mask: vsm, vp_index: 0, vtl: 2, reserved: 0, gpa: 0x1000000n, size: 0x8000n, used_size: 0x3000n });
      r.page(0x1000000n, vsm, randomBytes(100));
      r.vbs(vsm, 2, [[HV.Rsp, randomBytes(16)]]);
      return r.done();
    },
  },
  {
    name: 'CORIM_DOCUMENT (0x104) and CORIM_SIGNATURE (0x105)',
    covers: [0x104, 0x105],
    build() {
      const r = new Recorder();
      const snp = r.platform('SEV_SNP', 2);
      const doc = randomBytes(37);
      const sig = randomBytes(19);
      r.init({ type: 'CORIM_DOCUMENT', compatibility_mask: snp, file_offset: 0, size_bytes: doc.length, reserved: 0, data: doc });
      r.init({ type: 'CORIM_SIGNATURE', compatibility_mask: snp, file_offset: 0, size_bytes: sig.length, reserved: 0, data: sig });
      r.page(0x0n, snp, randomBytes(4096));
      return r.done();
    },
  },
  {
    name: 'CCA_POLICY (0x106) and a CCA VP context on an AArch64 v2 file',
    covers: [0x106, 0x304],
    build() {
      const r = new Recorder({ formatVersion: 2, architecture: 'AARCH64' });
      const cca = r.platform('CCA', 6);
      r.init({
        type: 'CCA_POLICY', compatibility_mask: cca, reserved: 0, attributes_required_zeroes: 0x2n, attributes_required_ones: 0x1n,
        hash_algorithm: 2, lfa_policy: 1, reserved2: new Uint8Array(6),
      });
      r.page(0x40000000n, cca, randomBytes(4096));
      r.context(0n, cca, 0, { kind: 'cca', data: encodeCcaContext({ x0: 0x1234n, x1: randomU64(), pc: 0x40080000n, flags: 1n }) });
      r.context(0n, cca, 1, { kind: 'cca', data: encodeCcaContext({ pc: 0x40080000n }) });
      return r.done();
    },
  },
  {
    name: 'PARAMETER_AREA (0x301), PARAMETER_INSERT (0x303) and every IGVM_VHS_PARAMETER type (0x307–0x313)',
    covers: [0x301, 0x303, 0x307, 0x308, 0x309, 0x30a, 0x30c, 0x30e, 0x30f, 0x310, 0x312, 0x313],
    build() {
      const r = new Recorder();
      const snp = r.platform('SEV_SNP', 2);
      const tdx = r.platform('TDX', 3);
      PARAMETER_TYPES.forEach((t, i) => {
        const withData = i % 3 === 0;
        r.dir({ type: 'PARAMETER_AREA', number_of_bytes: BigInt(0x1000 * (1 + (i % 2))), parameter_area_index: i, file_offset: 0, data: withData ? randomBytes(10 + i) : undefined });
        r.dir({ type: t, parameter_area_index: i, byte_offset: 8 * i });
        r.dir({ type: 'PARAMETER_INSERT', gpa: BigInt(0x100000 + 0x2000 * i), compatibility_mask: i % 2 ? snp : snp | tdx, parameter_area_index: i });
      });
      return r.done();
    },
  },
  {
    name: 'PAGE_DATA (0x302): data, short data, zero pages, flags and every data type',
    covers: [0x302],
    build() {
      const r = new Recorder();
      const snp = r.platform('SEV_SNP', 2);
      const tdx = r.platform('TDX', 3);
      r.page(0x0n, snp, randomBytes(4096));
      r.page(0x1000n, snp | tdx, randomBytes(123), 0x2, 0);
      r.page(0x2000n, snp, undefined, 0, 1);
      r.page(0x3000n, snp, randomBytes(4096), 0, 2);
      r.page(0x4000n, snp, randomBytes(4096), 0, 3);
      r.page(0x5000n, tdx, randomBytes(4096), 0x4, 0);
      r.page(0x6000n, tdx, undefined, 0x2, 0);
      return r.done();
    },
  },
  {
    name: 'VP_CONTEXT (0x304): SEV-SNP VMSA',
    covers: [0x304],
    build() {
      const r = new Recorder();
      const snp = r.platform('SEV_SNP', 2);
      r.page(0x0n, snp, randomBytes(4096));
      r.context(0xfffff000n, snp, 0, { kind: 'vmsa', data: encodeVmsa({ rip: 0xfff0n, cr0: 0x10n, efer: 0x1000n, sev_features: 0x1n, cs: { selector: 0xf000, attrib: 0x9b, limit: 0xffff, base: 0xffff0000n } }) });
      r.context(0xffffe000n, snp, 1, { kind: 'vmsa', data: encodeVmsa({ rip: 0x1234n, sev_features: 0x21n }) });
      return r.done();
    },
  },
  {
    name: 'VP_CONTEXT (0x304): SEV-ES VMSA',
    covers: [0x304],
    build() {
      const r = new Recorder();
      const es = r.platform('SEV_ES', 5);
      r.page(0x0n, es, randomBytes(4096));
      r.context(0x803000n, es, 0, { kind: 'vmsa', data: encodeVmsa({ rip: 0x100000n, rsp: 0x8000n, xcr0: 1n }) });
      return r.done();
    },
  },
  {
    name: 'VP_CONTEXT (0x304): NATIVE x64 context',
    covers: [0x304],
    build() {
      const r = new Recorder();
      const native = r.platform('NATIVE', 0);
      r.page(0x100000n, native, randomBytes(4096));
      r.context(0n, native, 0, { kind: 'native-x64', data: encodeNativeContext({ rip: 0x100000n, rsp: 0x8000n, cr0: 0x80000011n, cr3: 0x9000n, efer: 0x500n, code_selector: 0x10, code_attributes: 0xa09b, data_limit: 0xffffffff }) });
      return r.done();
    },
  },
  {
    name: 'VP_CONTEXT (0x304): SEV with the native context format',
    covers: [0x304],
    build() {
      const r = new Recorder();
      const sev = r.platform('SEV', 4);
      r.page(0x100000n, sev, randomBytes(4096));
      r.context(0n, sev, 0, { kind: 'native-x64', data: encodeNativeContext({ rip: 0xfff0n, rflags: 2n, gdtr_base: 0x5000n, gdtr_limit: 0x27 }) });
      r.context(0n, sev, 3, { kind: 'native-x64', data: encodeNativeContext({ rip: 0x1000n }) });
      return r.done();
    },
  },
  {
    name: 'VP_CONTEXT (0x304): VBS x64 register list',
    covers: [0x304],
    build() {
      const r = new Recorder();
      const vsm = r.platform('VSM_ISOLATION', 1, { highestVtl: 2 });
      r.page(0x0n, vsm, randomBytes(4096));
      r.vbs(vsm, 2, [[HV.Rip, randomBytes(16)], [HV.Rsp, randomBytes(16)], [HV.Cr0, randomBytes(16)], [HV.Cs, randomBytes(16)], [HV.Gdtr, randomBytes(16)]]);
      return r.done();
    },
  },
  {
    name: 'REQUIRED_MEMORY (0x305)',
    covers: [0x305],
    build() {
      const r = new Recorder();
      const vsm = r.platform('VSM_ISOLATION', 1, { highestVtl: 2 });
      const snp = r.platform('SEV_SNP', 2);
      r.dir({ type: 'REQUIRED_MEMORY', gpa: 0x10000000n, compatibility_mask: vsm, number_of_bytes: 0x200000, flags: 1, reserved: 0 });
      r.dir({ type: 'REQUIRED_MEMORY', gpa: 0x20000000n, compatibility_mask: vsm | snp, number_of_bytes: 0x1000, flags: 0, reserved: 0 });
      return r.done();
    },
  },
  {
    name: 'SNP_ID_BLOCK (0x30B) with every field set',
    covers: [0x30b],
    build() {
      const r = new Recorder();
      const snp = r.platform('SEV_SNP', 2);
      r.page(0x0n, snp, randomBytes(4096));
      r.dir({
        type: 'SNP_ID_BLOCK', compatibility_mask: snp, author_key_enabled: 1, reserved: randomBytes(3), ld: randomBytes(48), family_id: randomBytes(16),
        image_id: randomBytes(16), version: 1, guest_svn: 7, id_key_algorithm: 1, author_key_algorithm: 1, id_key_signature: randomBytes(144),
        id_public_key: randomBytes(152), author_key_signature: randomBytes(144), author_public_key: randomBytes(152),
      });
      return r.done();
    },
  },
  {
    name: 'ERROR_RANGE (0x30D)',
    covers: [0x30d],
    build() {
      const r = new Recorder();
      const vsm = r.platform('VSM_ISOLATION', 1);
      r.dir({ type: 'ERROR_RANGE', gpa: 0x7000000n, compatibility_mask: vsm, size_bytes: 0x3000 });
      r.page(0x0n, vsm, randomBytes(64));
      return r.done();
    },
  },
  {
    name: 'VBS_MEASUREMENT (0x311) with every field set',
    covers: [0x311],
    build() {
      const r = new Recorder();
      const vsm = r.platform('VSM_ISOLATION', 1, { highestVtl: 2 });
      r.page(0x0n, vsm, randomBytes(4096));
      r.dir({
        type: 'VBS_MEASUREMENT', compatibility_mask: vsm, version: 1, product_id: 0x1234, module_id: 0x5678, security_version: 3, policy_flags: 0x80,
        boot_digest_algo: 1, signing_algo: 1, boot_measurement_digest: randomBytes(64), signature: randomBytes(256), public_key: randomBytes(512),
      });
      return r.done();
    },
  },
  {
    name: 'a v2 X64 file mixing platforms, data and contexts',
    covers: [0x001, 0x101, 0x301, 0x302, 0x303, 0x304, 0x305, 0x307, 0x30b],
    build() {
      const r = new Recorder({ formatVersion: 2 });
      const snp = r.platform('SEV_SNP', 2, { sharedGpaBoundary: 1n << 51n });
      const native = r.platform('NATIVE', 0);
      r.init({ type: 'GUEST_POLICY', policy: 0x30000n, compatibility_mask: snp, reserved: 0 });
      const shared = randomBytes(4096);
      r.page(0x0n, snp | native, shared);
      r.page(0x1000n, snp, shared);
      r.page(0x2000n, native, undefined);
      r.dir({ type: 'PARAMETER_AREA', number_of_bytes: 0x1000n, parameter_area_index: 0, file_offset: 0, data: undefined });
      r.dir({ type: 'VP_COUNT_PARAMETER', parameter_area_index: 0, byte_offset: 0 });
      r.dir({ type: 'PARAMETER_INSERT', gpa: 0x10000n, compatibility_mask: snp | native, parameter_area_index: 0 });
      r.dir({ type: 'REQUIRED_MEMORY', gpa: 0x20000n, compatibility_mask: snp, number_of_bytes: 0x4000, flags: 0, reserved: 0 });
      r.context(0xfffff000n, snp, 0, { kind: 'vmsa', data: encodeVmsa({ rip: 0x1000n }) });
      r.context(0n, native, 0, { kind: 'native-x64', data: encodeNativeContext({ rip: 0x1000n }) });
      r.dir({
        type: 'SNP_ID_BLOCK', compatibility_mask: snp, author_key_enabled: 0, reserved: new Uint8Array(3), ld: randomBytes(48), family_id: new Uint8Array(16),
        image_id: new Uint8Array(16), version: 1, guest_svn: 2, id_key_algorithm: 1, author_key_algorithm: 0, id_key_signature: randomBytes(144),
        id_public_key: randomBytes(152), author_key_signature: new Uint8Array(144), author_public_key: new Uint8Array(152),
      });
      return r.done();
    },
  },
];

/** The record types FORMAT.md §3.1 defines (0x306 is rejected by the crate). */
const EVERY_TYPE = [0x001, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x301, 0x302, 0x303, 0x304, 0x305, ...Array.from({ length: 0x313 - 0x307 + 1 }, (_, i) => 0x307 + i)];

test('the cases cover every record type (0x001, 0x101–0x106, 0x301–0x305, 0x307–0x313)', () => {
  const covered = new Set(CASES.flatMap((c) => c.covers));
  for (const t of EVERY_TYPE) assert.ok(covered.has(t), `no case covers 0x${t.toString(16)}`);
});

for (const c of CASES) {
  test(`round trip: ${c.name}`, () => {
    const built = c.build();
    const bytes = built.bytes;
    const types = new Set(walkRecords(bytes).map((t) => t.type));
    for (const t of c.covers) assert.ok(types.has(t), `the built file has no record of type 0x${t.toString(16)}`);
    assert.equal(u32(bytes, 0x14), expectedChecksum(bytes), 'checksum');
    assert.equal(u32(bytes, 0x10), bytes.length, 'total_file_size');

    const file = parseIgvm(bytes);
    assertSameBytes(serializeIgvm(file, { mode: 'preserve' }), bytes, 'preserve');
    assertSameBytes(serializeIgvm(file, { mode: 'compact' }), bytes, 'compact (input already compact)');
    assertSameBytes(serializeIgvm(file), bytes, 'default mode');

    // Field values survive.
    assert.equal(file.platforms.length, built.platforms.length, 'platform count');
    assert.equal(file.initializations.length, built.initializations.length, 'initialization count');
    assert.equal(file.directives.length, built.directives.length, 'directive count');
    built.platforms.forEach((h, i) => assertHeader(file.platforms[i], h, `platforms[${i}]`));
    built.initializations.forEach((h, i) => assertHeader(file.initializations[i], h, `initializations[${i}]`));
    built.directives.forEach((h, i) => assertHeader(file.directives[i], h, `directives[${i}]`));

    // Offsets point into the data section; headers without data have offset 0 (VP contexts always have data).
    const fds = u32(bytes, 8) + u32(bytes, 12);
    for (const h of [...file.initializations, ...file.directives]) {
      if (!('file_offset' in h)) continue;
      const hasData = h.type === 'VP_CONTEXT' ? h.context.data !== undefined : h.data !== undefined;
      if (hasData) assert.ok(h.file_offset >= fds && h.file_offset < bytes.length, `${h.type} file_offset 0x${h.file_offset.toString(16)} outside the data section`);
      else assert.equal(h.file_offset, 0, `${h.type} without data has file_offset 0`);
    }

    // A second generation is stable too.
    const again = parseIgvm(serializeIgvm(file, { mode: 'preserve' }));
    assertSameBytes(serializeIgvm(again, { mode: 'compact' }), bytes, 'compact of the preserved copy');
  });
}

test('the builder does not modify the header objects it was given', () => {
  const r = new Recorder();
  const snp = r.platform('SEV_SNP', 2);
  const data = randomBytes(4096);
  r.page(0x0n, snp, data);
  r.context(0x1000n, snp, 0, { kind: 'vmsa', data: encodeVmsa({ rip: 1n }) });
  const snapshot = JSON.stringify(r.directives, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Array.from(v) : v));
  r.done();
  r.done();
  assert.equal(JSON.stringify(r.directives, (_, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Array.from(v) : v)), snapshot);
});

// ---- stored igvmgen vectors ------------------------------------------------------------------------

const vectors = storedVectors();

test('there are stored igvmgen vectors', () => {
  assert.ok(vectors.length >= 5, `only ${vectors.length} vectors`);
});

for (const v of vectors) {
  test(`igvmgen vector ${v.name}: preserve is byte-identical, compact differs only in VP_CONTEXT padding and checksum`, () => {
    const bytes = v.bytes;
    const file: IgvmFile = parseIgvm(bytes);
    assertSameBytes(serializeIgvm(file, { mode: 'preserve' }), bytes, 'preserve');

    // igvmgen never shares data (IGVMGEN.md §8.3); the crate layout would, so the claim below needs distinct chunks.
    const chunks = file.directives.flatMap((d) => (d.type === 'PAGE_DATA' && d.data ? [d.data] : d.type === 'VP_CONTEXT' && d.context.data ? [d.context.data] : []));
    const keys = new Set(chunks.map((c) => Buffer.from(c).toString('base64')));
    assert.equal(keys.size, chunks.length, 'vector has duplicate data pages (compact would deduplicate them)');

    const compact = serializeIgvm(file, { mode: 'compact' });
    assert.equal(compact.length, bytes.length, 'compact length');
    // The VP_CONTEXT records: igvmgen pads them with ASCII '0', compact with zeros.
    const vp = walkRecords(bytes).filter((t) => t.type === 0x304);
    assert.ok(vp.length >= 1, 'vector has a VP_CONTEXT');
    const expected = bytes.slice();
    for (const t of vp) {
      assert.equal(t.length, 20);
      const pad = t.offset + 8 + 20;
      assert.deepEqual(Array.from(bytes.subarray(pad, pad + 4)), [0x30, 0x30, 0x30, 0x30], `igvmgen padding at 0x${pad.toString(16)}`);
      assert.deepEqual(Array.from(compact.subarray(pad, pad + 4)), [0, 0, 0, 0], `compact padding at 0x${pad.toString(16)}`);
      expected.fill(0, pad, pad + 4);
    }
    // Checksum: the compact one is correct for its own bytes, and differs from the original's exactly because of the padding.
    assert.equal(u32(compact, 0x14), expectedChecksum(compact), 'compact checksum');
    assert.equal(u32(bytes, 0x14), expectedChecksum(bytes), 'original checksum');
    new DataView(expected.buffer).setUint32(0x14, expectedChecksum(expected), true);
    assertSameBytes(compact, expected, 'compact vs the original with zeroed padding and recomputed checksum');

    // Compact output parses and is a fixed point of both modes.
    const reparsed = parseIgvm(compact);
    assertSameBytes(serializeIgvm(reparsed, { mode: 'compact' }), compact, 'compact is idempotent');
    assertSameBytes(serializeIgvm(reparsed, { mode: 'preserve' }), compact, 'preserve of compact');
    assert.equal(reparsed.directives.length, file.directives.length);
  });
}
