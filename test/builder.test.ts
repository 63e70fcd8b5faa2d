// IgvmBuilder: mask assignment, page splitting, and build() rejecting invalid files with the crate rule's error code (FORMAT.md §9, §10).
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder, IgvmError, parseIgvm, encodeNativeContext, type PageData } from '../src/index.js';
import { rng } from './helpers.js';

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u32 = (b: Uint8Array, o: number) => view(b).getUint32(o, true);

function throwsIgvm(fn: () => unknown, code: string, crate?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IgvmError, `expected IgvmError, got ${String(e)}`);
    assert.equal(e.code, code, `error code (message: ${e.message})`);
    if (crate !== undefined) assert.equal(e.crate, crate, 'crate error');
    return true;
  });
}

const next = rng(0xb01d);
const randomBytes = (n: number) => Uint8Array.from({ length: n }, () => 1 + Math.floor(next() * 255));

test('platform masks are assigned 1, 2, 4, ... in declaration order', () => {
  const b = new IgvmBuilder();
  const types = ['SEV_SNP', 'TDX', 'NATIVE', 'VSM_ISOLATION', 'SEV', 'SEV_ES'] as const;
  const masks = types.map((t) => b.platform(t));
  assert.deepEqual(masks, [1, 2, 4, 8, 16, 32]);
  const f = b.build();
  assert.deepEqual(f.platforms.map((p) => p.compatibility_mask), [1, 2, 4, 8, 16, 32]);
  assert.deepEqual(f.platforms.map((p) => p.platform_type), [2, 3, 0, 1, 4, 5]);
  assert.ok(f.platforms.every((p) => p.platform_version === 1));
});

test('platform options: highest VTL, shared GPA boundary and an explicit mask', () => {
  const b = new IgvmBuilder();
  const snp = b.platform('SEV_SNP', { sharedGpaBoundary: 1n << 46n });
  const vsm = b.platform('VSM_ISOLATION', { highestVtl: 2, mask: 0x80 });
  assert.equal(snp, 1);
  assert.equal(vsm, 0x80);
  const [p0, p1] = b.build().platforms;
  assert.equal(p0!.shared_gpa_boundary, 1n << 46n);
  assert.equal(p1!.highest_vtl, 2);
  assert.equal(p1!.compatibility_mask, 0x80);
});

test('pages() splits a buffer into 4 KiB pages and turns all-zero pages into zero pages', () => {
  const p0 = randomBytes(4096);
  const p2 = randomBytes(4096);
  const tail = randomBytes(300);
  const buf = new Uint8Array(4 * 4096 + 300);
  buf.set(p0, 0);
  // page 1 stays all zero
  buf.set(p2, 2 * 4096);
  buf[3 * 4096 + 4095] = 0; // page 3 all zero too
  buf.set(tail, 4 * 4096);
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pages(0x100000n, buf, m, { flags: 0x2, dataType: 0 });
  const bytes = b.toBytes();
  const pages = parseIgvm(bytes).directives as PageData[];
  assert.equal(pages.length, 5);
  assert.deepEqual(pages.map((p) => p.gpa), [0x100000n, 0x101000n, 0x102000n, 0x103000n, 0x104000n]);
  assert.ok(pages.every((p) => p.type === 'PAGE_DATA' && p.compatibility_mask === m && p.flags === 0x2));
  assert.deepEqual(pages[0]!.data, p0);
  assert.equal(pages[1]!.data, undefined, 'all-zero page → zero page');
  assert.equal(pages[1]!.file_offset, 0);
  assert.deepEqual(pages[2]!.data, p2);
  assert.equal(pages[3]!.data, undefined);
  const last = new Uint8Array(4096);
  last.set(tail);
  assert.deepEqual(pages[4]!.data, last, 'the partial last page is zero-padded');
  // Only the three pages with data occupy the data section.
  assert.equal(bytes.length, u32(bytes, 8) + u32(bytes, 12) + 3 * 4096);
});

test('pageData() without data is a zero page; with data it keeps flags and data type', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x0n, m);
  b.pageData(0x1000n, m, randomBytes(10), { flags: 0x4, dataType: 1 });
  const [z, d] = b.build().directives as PageData[];
  assert.equal(z!.data, undefined);
  assert.equal(z!.file_offset, 0);
  assert.equal(d!.flags, 0x4);
  assert.equal(d!.data_type, 1);
  assert.equal(d!.data!.length, 4096);
});

test('build() returns the parsed model of toBytes()', () => {
  const b = new IgvmBuilder({ formatVersion: 2 });
  const m = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, m).pageData(0x0n, m, randomBytes(4096)).vmsa(0x1000n, m, 0, { rip: 0xfff0n });
  const bytes = b.toBytes();
  const f = b.build();
  assert.deepEqual(f.revision, { format_version: 2, architecture: 0, page_size: 0x1000 });
  assert.ok(f.source, 'the model comes from parsing');
  assert.deepEqual(f.source.bytes, bytes);
  assert.deepEqual(f.directives.map((d) => d.type), ['PAGE_DATA', 'VP_CONTEXT']);
  assert.equal(f.initializations[0]!.type, 'GUEST_POLICY');
});

test('AArch64 needs format version 2; v1 + AARCH64 is rejected', () => {
  throwsIgvm(() => new IgvmBuilder({ formatVersion: 1, architecture: 'AARCH64' }), 'builder-arch');
  const b = new IgvmBuilder({ formatVersion: 2, architecture: 'AARCH64' });
  const cca = b.platform('CCA');
  b.pageData(0x0n, cca, randomBytes(8));
  const bytes = b.toBytes();
  assert.equal(u32(bytes, 4), 2);
  assert.equal(u32(bytes, 0x18), 1, 'architecture AARCH64');
  // The default is v1 X64.
  const d = new IgvmBuilder();
  d.platform('SEV_SNP');
  const v1 = d.toBytes();
  assert.equal(u32(v1, 4), 1);
  assert.equal(u32(v1, 8), 24);
});

test('build() throws the crate rule\'s error for invalid files', () => {
  const make = () => {
    const b = new IgvmBuilder();
    return { b, snp: b.platform('SEV_SNP'), tdx: b.platform('TDX') };
  };
  // Parameter insert for an area that was never declared.
  {
    const { b, snp } = make();
    b.parameterInsert(0x1000n, snp, 7);
    throwsIgvm(() => b.build(), 'parameter-area-undeclared', 'InvalidParameterAreaIndex');
  }
  // A parameter after the area was inserted.
  {
    const { b, snp } = make();
    b.parameterArea(0, 0x1000n).parameterInsert(0x1000n, snp, 0).parameter('VP_COUNT_PARAMETER', 0);
    throwsIgvm(() => b.build(), 'parameter-area-already-inserted', 'InvalidParameterAreaIndex');
  }
  // An area declared twice.
  {
    const { b } = make();
    b.parameterArea(3, 0x1000n).parameterArea(3, 0x2000n);
    throwsIgvm(() => b.build(), 'parameter-area-redeclared', 'InvalidParameterAreaIndex');
  }
  // A VP context for TDX.
  {
    const { b, tdx } = make();
    b.nativeContext(tdx, 0, { rip: 0xfff0n });
    throwsIgvm(() => b.build(), 'vp-context-platform', 'InvalidBinaryDirectiveHeader(InvalidVpContextPlatformType)');
  }
  // A VP context whose mask covers two platforms.
  {
    const { b, snp, tdx } = make();
    b.vmsa(0x1000n, snp | tdx, 0, { rip: 1n });
    throwsIgvm(() => b.build(), 'vp-context-platform');
  }
  // The same platform type twice.
  {
    const { b } = make();
    b.platform('SEV_SNP');
    throwsIgvm(() => b.build(), 'duplicate-platform-type', 'MultiplePlatformHeadersWithSameIsolation');
  }
  // Unaligned page GPA.
  {
    const { b, snp } = make();
    b.pageData(0x1234n, snp, randomBytes(16));
    throwsIgvm(() => b.build(), 'unaligned-gpa', 'InvalidBinaryDirectiveHeader(UnalignedAddress)');
  }
  // Parameter area size not a multiple of 4 KiB.
  {
    const { b } = make();
    b.parameterArea(0, 0x800n);
    throwsIgvm(() => b.build(), 'unaligned-size', 'InvalidBinaryDirectiveHeader(UnalignedSize)');
  }
  // A relocation region without a matching VBS context.
  {
    const b = new IgvmBuilder();
    const vsm = b.platform('VSM_ISOLATION');
    b.initialization({
      type: 'RELOCATABLE_REGION', compatibility_mask: vsm, vp_index: 0, vtl: 0, flags: 0, relocation_alignment: 0x1000n,
      relocation_region_gpa: 0x100000n, relocation_region_size: 0x1000n, minimum_relocation_gpa: 0n, maximum_relocation_gpa: 0x1000000n,
    });
    throwsIgvm(() => b.build(), 'no-matching-vp-context', 'NoMatchingVpContext');
    // With the matching context it builds.
    b.vbsContext(vsm, 0, [{ register_name: 0x20010, value: new Uint8Array(16) }]);
    b.build();
  }
  // CCA on X64 and NATIVE on AArch64.
  {
    const b = new IgvmBuilder({ formatVersion: 2 });
    b.platform('CCA');
    throwsIgvm(() => b.build(), 'platform-arch-unsupported', 'PlatformArchUnsupported');
    const a = new IgvmBuilder({ formatVersion: 2, architecture: 'AARCH64' });
    a.platform('NATIVE');
    throwsIgvm(() => a.build(), 'platform-arch-unsupported');
  }
  // A native-format context page on AArch64.
  {
    const b = new IgvmBuilder({ formatVersion: 2, architecture: 'AARCH64' });
    const cca = b.platform('CCA');
    b.directive({ type: 'VP_CONTEXT', gpa: 0n, compatibility_mask: cca, file_offset: 0, vp_index: 0, reserved: 0, context: { kind: 'native-x64', data: encodeNativeContext({ rip: 1n }) } });
    // The CCA platform decodes the page as a CCA context, whose tail (past 80 bytes) must be zero: rip at 0x80 is not.
    throwsIgvm(() => b.build(), 'context-tail-not-zero', 'InvalidBinaryDirectiveHeader(InvalidContext)');
  }
  // No platform at all.
  throwsIgvm(() => new IgvmBuilder().build(), 'no-platforms', 'NoPlatformHeaders');
});

test('builder rejects oversized data up front', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  throwsIgvm(() => b.pageData(0x0n, m, new Uint8Array(4097)), 'data-too-large');
  throwsIgvm(() => b.parameterArea(0, 0x1000n, new Uint8Array(0x1001)), 'data-too-large');
  throwsIgvm(() => b.vmsa(0x0n, m, 0, new Uint8Array(100)), 'data-too-large');
});

test('a failed build() leaves the builder usable once the problem is fixed', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.parameterArea(0, 0x1000n);
  b.parameter('MEMORY_MAP', 0, 16);
  b.parameterInsert(0x10000n, m, 0);
  const ok = b.build();
  assert.equal(ok.directives.length, 3);
  b.parameterInsert(0x20000n, m, 0);
  throwsIgvm(() => b.toBytes(), 'parameter-area-already-inserted');
});
