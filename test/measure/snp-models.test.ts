// SEV-SNP launch-digest models (MEASUREMENT.md §1–§3): igvmgen vectors, the §2 worked values, and per-model behaviour
// checked against a hash chain written here with node:crypto (no library code computes the expected digests).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, VECTORS, manifest, storedVectors } from '../helpers.js';
import { PLAT, assembleWith, guestPolicy, pageData, parameterArea, parameterInsert, platform, vpContext, type RawRecord } from '../raw-igvm.js';
import { referenceSnpDigest } from './snp-reference.js';
import { parseIgvm } from '../../src/format/index.js';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';
import { installNodeHash } from '../../src/io/node-hash.js';
import type { IgvmFile } from '../../src/model.js';
import { measureSnpIgvm } from '../../src/measure/snp/igvm.js';
import { measureSnpIgvmmeasure } from '../../src/measure/snp/igvmmeasure.js';
import { measureSnpClhKvm, measureSnpClhMshv } from '../../src/measure/snp/clh.js';
import type { SnpMeasureFn, SnpMeasureOptions } from '../../src/measure/snp/types.js';

installNodeHash();

// ---------------------------------------------------------------------------------------------
// The independent oracle: PAGE_INFO chain (§1.1) with node:crypto

const N = 1, VMSA = 2, Z = 3, U = 4, S = 5, C = 6;
interface Step {
  gpa: bigint;
  type: number;
  /** NORMAL / VMSA page bytes (zero-padded to 4096; undefined = zeros). */
  page?: Uint8Array;
}
const sha384 = (b: Uint8Array): Buffer => createHash('sha384').update(b).digest();

function chain(steps: readonly Step[]): string {
  let ld: Buffer = Buffer.alloc(48);
  for (const s of steps) {
    const info = Buffer.alloc(0x70);
    ld.copy(info, 0);
    if (s.type === N || s.type === VMSA) {
      const p = Buffer.alloc(4096);
      if (s.page) p.set(s.page);
      sha384(p).copy(info, 0x30);
    }
    info.writeUInt16LE(0x70, 0x60);
    info[0x62] = s.type;
    info.writeBigUInt64LE(s.gpa, 0x68);
    ld = sha384(info);
  }
  return ld.toString('hex');
}

const KVM_GPA = 0xfffffffff000n;

/** The reset-state VMSA assumed for vCPUs without a context (virtee sev-snp-measure's QEMU values), written by offset. */
function resetVmsa(sevFeatures = 1n): Uint8Array {
  const p = Buffer.alloc(4096);
  const seg = (at: number, selector: number, attrib: number, limit: number, base: bigint) => {
    p.writeUInt16LE(selector, at);
    p.writeUInt16LE(attrib, at + 2);
    p.writeUInt32LE(limit, at + 4);
    p.writeBigUInt64LE(base, at + 8);
  };
  seg(0x00, 0, 0x93, 0xffff, 0n); // es
  seg(0x10, 0xf000, 0x9b, 0xffff, 0xffff0000n); // cs
  for (const at of [0x20, 0x30, 0x40, 0x50]) seg(at, 0, 0x93, 0xffff, 0n); // ss ds fs gs
  seg(0x60, 0, 0, 0xffff, 0n); // gdtr
  seg(0x70, 0, 0x82, 0xffff, 0n); // ldtr
  seg(0x80, 0, 0, 0xffff, 0n); // idtr
  seg(0x90, 0, 0x8b, 0xffff, 0n); // tr
  const q = (at: number, v: bigint) => p.writeBigUInt64LE(v, at);
  q(0xd0, 0x1000n); q(0x148, 0x40n); q(0x158, 0x10n); q(0x160, 0x400n); q(0x168, 0xffff0ff0n); q(0x170, 2n); q(0x178, 0xfff0n);
  q(0x268, 0x7040600070406n); q(0x3b0, sevFeatures); q(0x3e8, 1n);
  return new Uint8Array(p);
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const digestOf = (fn: SnpMeasureFn, f: IgvmFile, opts: SnpMeasureOptions = {}): string => hex(fn(f, opts).digest);
const pageOf = (fill: number): Uint8Array => new Uint8Array(4096).fill(fill);

// ---------------------------------------------------------------------------------------------
// igvmgen vectors: the crate model gives the manifest's launch_digest

for (const v of storedVectors()) {
  test(`igvm model: ${v.name} gives the manifest launch digest (and the independent TLV-walk reference)`, () => {
    const c = manifest().find((x) => x.name === v.name)!;
    const got = digestOf(measureSnpIgvm, parseIgvm(v.bytes));
    assert.equal(got, c.launch_digest);
    assert.equal(got, referenceSnpDigest(v.bytes));
  });
}

const scratch = mkdtempSync(join(tmpdir(), 'igvmkit-measure-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('igvm model: T_elf_x64_pgt4 (34 MB, generated here with igvmgen) gives the manifest launch digest, library and CLI', () => {
  const c = manifest().find((x) => x.name === 'T_elf_x64_pgt4');
  assert.ok(c, 'manifest case T_elf_x64_pgt4');
  cpSync(join(VECTORS, 'inputs'), join(scratch, 'inputs'), { recursive: true });
  cpSync(join(VECTORS, 'acpi'), join(scratch, 'acpi'), { recursive: true });
  const gen = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'cli', 'igvmgen.js'), ...(c.args_for_igvmkit ?? c.args)], {
    cwd: scratch, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(gen.status, 0, gen.stderr);
  const path = join(scratch, 'T_elf_x64_pgt4.igvm');
  assert.ok(existsSync(path));
  const bytes = new Uint8Array(readFileSync(path));
  assert.equal(bytes.length, c.size);
  assert.equal(digestOf(measureSnpIgvm, parseIgvm(bytes)), c.launch_digest);
  const cli = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js'), 'measure', path, '--vmm', 'igvm', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  assert.equal(cli.status, 0, cli.stderr);
  assert.equal((JSON.parse(cli.stdout) as { digest: string }).digest, c.launch_digest);
});

// ---------------------------------------------------------------------------------------------
// §2 worked values: one SEV_SNP platform, a GUEST_POLICY and the directive(s), raw-assembled

function snpFile(directives: (ds: number) => RawRecord[], data: Uint8Array = new Uint8Array(8)): IgvmFile {
  return parseIgvm(assembleWith({}, (ds) => ({ records: [platform({ mask: 1, type: PLAT.SNP }), guestPolicy(0x30000n, 1), ...directives(ds)], data })));
}

const WORKED = {
  normalZero: '9d13634b6014bb21cf059b2dc694e7bff01a8a7137041100cd2b695f3d10fb687267b97808b27f8f471d943bc6f53a20',
  zero: '70c0ecaab9608f14ebf8ac6f0f07bcd8728f4e2ab30382b539b4de4de904ca9f8ebdf4b2cd3cd84dd996bd55dd794676',
  unmeasured: 'ed501ced343b88df8d4f114dc336e76fa53d3ad6ef71dab22a38755569189d2844af45f162ec25b45beefc8ea308cba7',
  secrets: 'f82df3e24c5ee15432532f4ac74006616c0606cf256422a33889bc1bc9709ed7e687674f6e254181d44920ff5cd44645',
  cpuid: '7c7f78c1edef2bf1d91e6280e5b94c2837f67eac4c440f3f93d1202baad801a889a777eda868ca6830d65a90a1655821',
  vmsaZero: 'f4577da9b848673216afc3909e5ea7aa80150dda441526874cd2b0282894709b46484c13a07221aefbedfff667199259',
  twoNormal: '788fcd12cf2a62b8661cf2440e0b2650d4e6133a6b8ad44e0e1db720788cb40e183dbcd8da4a097dc96cd73609d2d2fe',
  insert2: '85fc77da7d148c595e5fca39aa0fda4bc8abb69c46decd3d6720b7cff9fc6bcb94761d5b7b15e6a216d14f3fce936433',
};

test('§2: every worked value through the crate model (the ZERO row through igvmmeasure --native-zero)', () => {
  assert.equal(digestOf(measureSnpIgvm, snpFile(() => [pageData(0n, 1, 0)])), WORKED.normalZero);
  assert.equal(digestOf(measureSnpIgvmmeasure, snpFile(() => [pageData(0n, 1, 0)]), { nativeZero: true }), WORKED.zero);
  assert.equal(digestOf(measureSnpIgvm, snpFile(() => [pageData(0n, 1, 0, 2)])), WORKED.unmeasured);
  assert.equal(digestOf(measureSnpIgvm, snpFile(() => [pageData(0n, 1, 0, 0, 1)])), WORKED.secrets);
  assert.equal(digestOf(measureSnpIgvm, snpFile(() => [pageData(0n, 1, 0, 0, 2)])), WORKED.cpuid);
  assert.equal(digestOf(measureSnpIgvm, snpFile(() => [pageData(0n, 1, 0, 0, 3)])), WORKED.cpuid, 'CPUID_XF is a CPUID page too');
  assert.equal(digestOf(measureSnpIgvm, snpFile((ds) => [vpContext(KVM_GPA, 1, ds)], new Uint8Array(4096))), WORKED.vmsaZero);
  assert.equal(digestOf(measureSnpIgvm, snpFile(() => [pageData(0n, 1, 0), pageData(0x1000n, 1, 0)])), WORKED.twoNormal);
  assert.equal(digestOf(measureSnpIgvm, snpFile(() => [parameterArea(0x2000n, 0), parameterInsert(0n, 1, 0)])), WORKED.insert2);
  // igvmmeasure: a PARAMETER_INSERT is one page, so a 1- or 2-page area equals the UNMEASURED row.
  assert.equal(digestOf(measureSnpIgvmmeasure, snpFile(() => [parameterArea(0x1000n, 0), parameterInsert(0n, 1, 0)])), WORKED.unmeasured);
  assert.equal(digestOf(measureSnpIgvmmeasure, snpFile(() => [parameterArea(0x2000n, 0), parameterInsert(0n, 1, 0)])), WORKED.unmeasured);
  // The oracle agrees with the table, so the model tests below rest on it.
  assert.equal(chain([{ gpa: 0n, type: N }]), WORKED.normalZero);
  assert.equal(chain([{ gpa: 0n, type: Z }]), WORKED.zero);
  assert.equal(chain([{ gpa: 0n, type: U }, { gpa: 0x1000n, type: U }]), WORKED.insert2);
  assert.equal(chain([{ gpa: KVM_GPA, type: VMSA }]), WORKED.vmsaZero);
  assert.equal(chain([{ gpa: 0n, type: S }]), WORKED.secrets);
  assert.equal(chain([{ gpa: 0n, type: C }]), WORKED.cpuid);
});

test('§2: the first PAGE_INFO step of the trace (zero-page CONTENTS, GPA 0)', () => {
  const m = measureSnpIgvm(snpFile(() => [pageData(0n, 1, 0)]), { trace: true });
  assert.equal(m.steps?.length, 1);
  const s = m.steps![0]!;
  assert.equal(hex(s.contents), 'c0e59a3e3ffbd3b5c75428fb36432facabc745944296ff515f737c4fef4efc64586809f7a16f56354a1eaecf2aa8d774');
  assert.equal(s.gpa, 0n);
  assert.equal(s.type, N);
  assert.equal(s.source, 0);
  assert.equal(hex(s.digest), WORKED.normalZero);
});

// ---------------------------------------------------------------------------------------------
// Errors

test('igvm model: MissingGuestPolicy without a GUEST_POLICY for the SNP mask; every model: no SEV_SNP platform', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x1000n, m);
  const noPolicy = b.build();
  assert.throws(() => measureSnpIgvm(noPolicy), (e: unknown) => e instanceof IgvmError && e.code === 'measure-missing-guest-policy' && e.crate === 'MissingGuestPolicy');
  assert.doesNotThrow(() => measureSnpIgvmmeasure(noPolicy), 'igvmmeasure does not need a policy');
  const n = new IgvmBuilder();
  n.pageData(0x1000n, n.platform('NATIVE'));
  const native = n.build();
  for (const fn of [measureSnpIgvm, measureSnpIgvmmeasure, measureSnpClhKvm, measureSnpClhMshv]) {
    assert.throws(() => fn(native), (e: unknown) => e instanceof IgvmError && e.code === 'measure-no-snp' && /no SEV_SNP platform/.test(e.message));
  }
});

// ---------------------------------------------------------------------------------------------
// Per-model behaviour on hand-made files

function snp(): { b: IgvmBuilder; m: number } {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, m);
  return { b, m };
}

test('pages without data: NORMAL of zeros (igvm, igvmmeasure, clh-mshv), ZERO (clh-kvm, igvmmeasure --native-zero)', () => {
  const { b, m } = snp();
  const a = pageOf(0xa1);
  b.pageData(0x1000n, m).pageData(0x2000n, m, a);
  const f = b.build();
  const normal = chain([{ gpa: 0x1000n, type: N }, { gpa: 0x2000n, type: N, page: a }]);
  assert.equal(digestOf(measureSnpIgvm, f), normal);
  assert.equal(digestOf(measureSnpIgvmmeasure, f), normal);
  assert.equal(digestOf(measureSnpClhMshv, f), normal);
  assert.equal(digestOf(measureSnpIgvmmeasure, f, { nativeZero: true }), chain([{ gpa: 0x1000n, type: Z }, { gpa: 0x2000n, type: N, page: a }]));
  assert.equal(digestOf(measureSnpClhKvm, f), chain([{ gpa: 0x1000n, type: Z }, { gpa: 0x2000n, type: N, page: a }, { gpa: KVM_GPA, type: VMSA, page: resetVmsa() }]));
});

test('shared flag: skipped by igvm, measured by igvmmeasure, clh-kvm and clh-mshv', () => {
  const { b, m } = snp();
  const a = pageOf(0xa2), s = pageOf(0x5a);
  b.pageData(0x1000n, m, a).pageData(0x2000n, m, s, { flags: 4 });
  const f = b.build();
  assert.equal(digestOf(measureSnpIgvm, f), chain([{ gpa: 0x1000n, type: N, page: a }]));
  const both = [{ gpa: 0x1000n, type: N, page: a }, { gpa: 0x2000n, type: N, page: s }];
  assert.equal(digestOf(measureSnpIgvmmeasure, f), chain(both));
  assert.equal(digestOf(measureSnpClhMshv, f), chain(both));
  assert.equal(digestOf(measureSnpClhKvm, f), chain([...both, { gpa: KVM_GPA, type: VMSA, page: resetVmsa() }]));
});

test('PARAMETER_INSERT: one UNMEASURED page per 4 KiB (igvm, clh-kvm) vs exactly one page (igvmmeasure, clh-mshv)', () => {
  const { b, m } = snp();
  b.parameterArea(0, 0x3000n).parameter('VP_COUNT_PARAMETER', 0).parameterInsert(0x10000n, m, 0);
  const f = b.build();
  const three = [0x10000n, 0x11000n, 0x12000n].map((gpa) => ({ gpa, type: U }));
  assert.equal(digestOf(measureSnpIgvm, f), chain(three));
  assert.equal(digestOf(measureSnpClhKvm, f), chain([...three, { gpa: KVM_GPA, type: VMSA, page: resetVmsa() }]));
  assert.equal(digestOf(measureSnpIgvmmeasure, f), chain([{ gpa: 0x10000n, type: U }]));
  assert.equal(digestOf(measureSnpClhMshv, f), chain([{ gpa: 0x10000n, type: U }]));
});

test('VMSA: igvm/igvmmeasure at its position and GPA; clh-kvm at the end at 0xfffffffff000 per vCPU; clh-mshv sorted by GPA', () => {
  const { b, m } = snp();
  const a = pageOf(0xa3), c = pageOf(0xc3);
  const vmsa = new Uint8Array(4096);
  const dv = new DataView(vmsa.buffer);
  dv.setBigUint64(0x178, 0x1234n, true); // rip
  dv.setBigUint64(0x158, 0x31n, true); // cr0
  dv.setBigUint64(0x3b0, 0x21n, true); // sev_features: SNP | DebugSwap
  b.pageData(0x5000n, m, a).vmsa(0x3000n, m, 0, vmsa).pageData(0x1000n, m, c);
  const f = b.build();
  const inFile = [{ gpa: 0x5000n, type: N, page: a }, { gpa: 0x3000n, type: VMSA, page: vmsa }, { gpa: 0x1000n, type: N, page: c }];
  assert.equal(digestOf(measureSnpIgvm, f), chain(inFile));
  assert.equal(digestOf(measureSnpIgvmmeasure, f), chain(inFile));
  assert.equal(digestOf(measureSnpClhMshv, f), chain([inFile[2]!, inFile[1]!, inFile[0]!]));
  const kvmPages = [{ gpa: 0x5000n, type: N, page: a }, { gpa: 0x1000n, type: N, page: c }];
  const one = digestOf(measureSnpClhKvm, f);
  assert.equal(one, chain([...kvmPages, { gpa: KVM_GPA, type: VMSA, page: vmsa }]));
  const two = digestOf(measureSnpClhKvm, f, { vcpus: 2 });
  // vp 1 has no context: the reset-state VMSA with vp 0's SEV_FEATURES.
  assert.equal(two, chain([...kvmPages, { gpa: KVM_GPA, type: VMSA, page: vmsa }, { gpa: KVM_GPA, type: VMSA, page: resetVmsa(0x21n) }]));
  assert.notEqual(one, two, 'the KVM digest depends on the vCPU count');
  assert.equal(digestOf(measureSnpIgvm, f, { vcpus: 2 }), chain(inFile), 'the crate rule ignores the vCPU count');
});

test('VMSA for vp 1: clh-kvm uses it for vCPU 1 (error with too few vCPUs); clh-mshv imports vp 0 only', () => {
  const { b, m } = snp();
  const v0 = pageOf(0), v1 = new Uint8Array(4096);
  v0[0x3b0] = 1;
  v1[0x3b0] = 1;
  v1[0x178] = 0x77;
  b.vmsa(0x2000n, m, 0, v0).vmsa(0x3000n, m, 1, v1);
  const f = b.build();
  assert.equal(digestOf(measureSnpClhKvm, f, { vcpus: 2 }), chain([{ gpa: KVM_GPA, type: VMSA, page: v0 }, { gpa: KVM_GPA, type: VMSA, page: v1 }]));
  assert.throws(() => measureSnpClhKvm(f, { vcpus: 1 }), (e: unknown) => e instanceof IgvmError && e.code === 'measure-vp-index' && /--vcpus/.test(e.message));
  assert.throws(() => measureSnpClhKvm(f, { vcpus: 0 }), (e: unknown) => e instanceof IgvmError && e.code === 'measure-vcpus');
  assert.equal(digestOf(measureSnpClhMshv, f), chain([{ gpa: 0x2000n, type: VMSA, page: v0 }]));
  assert.equal(digestOf(measureSnpIgvm, f), chain([{ gpa: 0x2000n, type: VMSA, page: v0 }, { gpa: 0x3000n, type: VMSA, page: v1 }]));
});

test('GPA order: clh-mshv sorts every page by GPA (stable for equal GPAs), the others keep file order', () => {
  const { b, m } = snp();
  const p3 = pageOf(3), p1 = pageOf(1), p1b = pageOf(0x11);
  b.pageData(0x3000n, m, p3).pageData(0x1000n, m, p1).pageData(0x2000n, m, undefined, { flags: 2 }).pageData(0x1000n, m, p1b);
  const f = b.build();
  const fileOrder = [{ gpa: 0x3000n, type: N, page: p3 }, { gpa: 0x1000n, type: N, page: p1 }, { gpa: 0x2000n, type: U }, { gpa: 0x1000n, type: N, page: p1b }];
  assert.equal(digestOf(measureSnpIgvm, f), chain(fileOrder));
  assert.equal(digestOf(measureSnpIgvmmeasure, f), chain(fileOrder));
  assert.equal(digestOf(measureSnpClhMshv, f), chain([fileOrder[1]!, fileOrder[3]!, fileOrder[2]!, fileOrder[0]!]));
});

test('mask inclusion: igvm needs mask & M == M, igvmmeasure and Cloud Hypervisor mask & M != 0 (in-memory model, M = 0x3)', () => {
  // Parsed files have single-bit platform masks, where both tests agree; a model with a two-bit SNP mask shows the rule.
  const a = pageOf(0xa5), c = pageOf(0xc5);
  const f: IgvmFile = {
    revision: { format_version: 1, architecture: 0, page_size: 4096 },
    platforms: [{ type: 'SUPPORTED_PLATFORM', compatibility_mask: 3, highest_vtl: 0, platform_type: 2, platform_version: 1, shared_gpa_boundary: 0n }],
    initializations: [{ type: 'GUEST_POLICY', policy: 0x30000n, compatibility_mask: 3, reserved: 0 }],
    directives: [
      { type: 'PAGE_DATA', gpa: 0x1000n, compatibility_mask: 1, file_offset: 0, flags: 0, data_type: 0, reserved: 0, data: a },
      { type: 'PAGE_DATA', gpa: 0x2000n, compatibility_mask: 3, file_offset: 0, flags: 0, data_type: 0, reserved: 0, data: c },
      { type: 'PAGE_DATA', gpa: 0x3000n, compatibility_mask: 4, file_offset: 0, flags: 0, data_type: 0, reserved: 0, data: c },
    ],
  };
  const both = [{ gpa: 0x1000n, type: N, page: a }, { gpa: 0x2000n, type: N, page: c }];
  assert.equal(digestOf(measureSnpIgvm, f), chain([both[1]!]));
  assert.equal(digestOf(measureSnpIgvmmeasure, f), chain(both));
  assert.equal(digestOf(measureSnpClhMshv, f), chain(both));
  assert.equal(digestOf(measureSnpClhKvm, f), chain([...both, { gpa: KVM_GPA, type: VMSA, page: resetVmsa() }]));
});

test('SNP VP context whose mask excludes the SNP platform: igvmmeasure measures it, igvm and Cloud Hypervisor do not', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  const es = b.platform('SEV_ES');
  b.guestPolicy(0x30000n, m);
  const a = pageOf(0xa6), vmsa = new Uint8Array(4096);
  vmsa[0x178] = 0x42;
  b.pageData(0x1000n, m, a).vmsa(0x4000n, es, 0, vmsa);
  const f = b.build();
  assert.equal(digestOf(measureSnpIgvm, f), chain([{ gpa: 0x1000n, type: N, page: a }]));
  assert.equal(digestOf(measureSnpIgvmmeasure, f), chain([{ gpa: 0x1000n, type: N, page: a }, { gpa: 0x4000n, type: VMSA, page: vmsa }]));
  assert.equal(digestOf(measureSnpClhMshv, f), chain([{ gpa: 0x1000n, type: N, page: a }]));
  assert.equal(digestOf(measureSnpClhKvm, f), chain([{ gpa: 0x1000n, type: N, page: a }, { gpa: KVM_GPA, type: VMSA, page: resetVmsa() }]));
});

test('igvmmeasure: a 2 MiB page without data is 512 steps (with data: an error); the crate ignores the 2 MiB flag', () => {
  const { b, m } = snp();
  b.pageData(0x200000n, m, undefined, { flags: 1 });
  const f = b.build();
  const steps = Array.from({ length: 512 }, (_, k) => ({ gpa: 0x200000n + BigInt(k * 4096), type: N }));
  assert.equal(digestOf(measureSnpIgvmmeasure, f), chain(steps));
  assert.equal(digestOf(measureSnpIgvmmeasure, f, { nativeZero: true }), chain(steps.map((s) => ({ ...s, type: Z }))));
  assert.equal(digestOf(measureSnpIgvm, f), chain([{ gpa: 0x200000n, type: N }]));
  const w = snp();
  w.b.pageData(0x200000n, w.m, pageOf(1), { flags: 1 });
  assert.throws(() => measureSnpIgvmmeasure(w.b.build()), (e: unknown) => e instanceof IgvmError && e.code === 'measure-2mb-data');
});

test('data types: SECRETS and CPUID keep their types in every model, unmeasured flag → UNMEASURED', () => {
  const { b, m } = snp();
  b.pageData(0x1000n, m, pageOf(9), { dataType: 1 }).pageData(0x2000n, m, pageOf(9), { dataType: 2 }).pageData(0x3000n, m, undefined, { flags: 2 });
  const f = b.build();
  const steps = [{ gpa: 0x1000n, type: S }, { gpa: 0x2000n, type: C }, { gpa: 0x3000n, type: U }];
  for (const fn of [measureSnpIgvm, measureSnpIgvmmeasure, measureSnpClhMshv]) assert.equal(digestOf(fn, f), chain(steps));
  assert.equal(digestOf(measureSnpClhKvm, f), chain([...steps, { gpa: KVM_GPA, type: VMSA, page: resetVmsa() }]));
});

test('traces: one step per page with the source directive; the last running digest is the digest', () => {
  const { b, m } = snp();
  b.parameterArea(0, 0x2000n).pageData(0x1000n, m, pageOf(1)).parameterInsert(0x8000n, m, 0);
  const f = b.build();
  const r = measureSnpClhKvm(f, { trace: true });
  assert.deepEqual(r.steps?.map((s) => [s.gpa, s.type, s.source]), [[0x1000n, N, 1], [0x8000n, U, 2], [0x9000n, U, 2], [KVM_GPA, VMSA, undefined]]);
  assert.equal(hex(r.steps!.at(-1)!.digest), hex(r.digest));
  assert.equal(r.vmm, 'clh-kvm');
  assert.equal(r.mask, m);
  assert.equal(measureSnpIgvm(f).steps, undefined, 'no trace unless asked for');
});
