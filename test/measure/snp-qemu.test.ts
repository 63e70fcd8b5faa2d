// measureSnpQemu (MEASUREMENT.md §3.4): where QEMU + KVM differ from the crate rule, each against a digest computed
// here by a plain PAGE_INFO hash chain with node:crypto (no igvmkit code in the expected values).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IgvmBuilder } from '../../src/builder.js';
import { installNodeHash } from '../../src/io/node-hash.js';
import { measureSnpQemu } from '../../src/measure/snp/qemu.js';
import { IgvmError } from '../../src/errors.js';
import type { IgvmFile } from '../../src/model.js';
import { referenceSnpDigest } from './snp-reference.js';

installNodeHash();

const VMSA_GPA = 0xfffffffff000n;
const NORMAL = 1;
const VMSA = 2;
const UNMEASURED = 4;

const sha384 = (b: Uint8Array): Buffer => createHash('sha384').update(b).digest();

/** The launch digest of [gpa, page type, 4096-byte page (NORMAL/VMSA only)] steps, from 48 zero bytes. */
function chain(steps: [bigint, number, Uint8Array?][]): string {
  let ld: Buffer = Buffer.alloc(48);
  for (const [gpa, type, page] of steps) {
    const info = Buffer.alloc(0x70);
    ld.copy(info, 0);
    if (page) sha384(page).copy(info, 0x30);
    info.writeUInt16LE(0x70, 0x60);
    info[0x62] = type;
    info.writeBigUInt64LE(gpa, 0x68);
    ld = sha384(info);
  }
  return ld.toString('hex');
}

const zeros = (): Uint8Array => new Uint8Array(4096);
function page(fill: number, n = 4096): Uint8Array {
  const p = zeros();
  p.fill(fill, 0, n);
  return p;
}

function seg(v: DataView, at: number, selector: number, attrib: number, limit: number, base: bigint): void {
  v.setUint16(at, selector, true);
  v.setUint16(at + 2, attrib, true);
  v.setUint32(at + 4, limit, true);
  v.setBigUint64(at + 8, base, true);
}

/** A VMSA already in the form KVM produces (EFER.SVME, CR4.MCE, CR0.ET, RFLAGS bit 1): KVM measures these bytes. */
function kvmFormVmsa(rip: bigint, sevFeatures = 1n): Uint8Array {
  const p = zeros();
  const v = new DataView(p.buffer);
  seg(v, 0x10, 8, 0xc9b, 0xffffffff, 0n);
  for (const at of [0x00, 0x20, 0x30, 0x40, 0x50]) seg(v, at, 0x10, 0xc93, 0xffffffff, 0n);
  v.setBigUint64(0xd0, 0x1000n, true); // EFER
  v.setBigUint64(0x148, 0x40n, true); // CR4
  v.setBigUint64(0x158, 0x11n, true); // CR0
  v.setBigUint64(0x170, 2n, true); // RFLAGS
  v.setBigUint64(0x178, rip, true); // RIP
  v.setBigUint64(0x268, 0x0007040600070406n, true); // G_PAT
  v.setBigUint64(0x3b0, sevFeatures, true);
  v.setBigUint64(0x3e8, 1n, true); // XCR0
  v.setUint32(0x408, 0x1f80, true); // MXCSR
  v.setUint16(0x410, 0x37f, true); // x87 FCW
  return p;
}

/** The VMSA KVM builds for a vCPU in QEMU's reset state (sev-snp-measure's values; RDX = EPYC-v4 signature). */
function resetVmsa(sevFeatures: bigint): Uint8Array {
  const p = zeros();
  const v = new DataView(p.buffer);
  for (const at of [0x00, 0x20, 0x30, 0x40, 0x50]) seg(v, at, 0, 0x93, 0xffff, 0n);
  seg(v, 0x10, 0xf000, 0x9b, 0xffff, 0xffff0000n);
  seg(v, 0x60, 0, 0, 0xffff, 0n);
  seg(v, 0x70, 0, 0x82, 0xffff, 0n);
  seg(v, 0x80, 0, 0, 0xffff, 0n);
  seg(v, 0x90, 0, 0x8b, 0xffff, 0n);
  v.setBigUint64(0xd0, 0x1000n, true);
  v.setBigUint64(0x148, 0x40n, true);
  v.setBigUint64(0x158, 0x10n, true);
  v.setBigUint64(0x160, 0x400n, true);
  v.setBigUint64(0x168, 0xffff0ff0n, true);
  v.setBigUint64(0x170, 2n, true);
  v.setBigUint64(0x178, 0xfff0n, true);
  v.setBigUint64(0x268, 0x0007040600070406n, true);
  v.setBigUint64(0x310, 0x800f12n, true); // RDX
  v.setBigUint64(0x3b0, sevFeatures, true);
  v.setBigUint64(0x3e8, 1n, true);
  v.setUint32(0x408, 0x1f80, true);
  v.setUint16(0x410, 0x37f, true);
  return p;
}

function snpBuilder(build: (b: IgvmBuilder, m: number) => void): IgvmBuilder {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, m);
  build(b, m);
  return b;
}

function snp(build: (b: IgvmBuilder, m: number) => void): IgvmFile {
  return snpBuilder(build).build();
}

const hex = (d: Uint8Array): string => Buffer.from(d).toString('hex');

test('the test chain reproduces MEASUREMENT.md §2 (all-zero VMSA at 0xFFFFFFFFF000)', () => {
  assert.equal(chain([[VMSA_GPA, VMSA, zeros()]]), 'f4577da9b848673216afc3909e5ea7aa80150dda441526874cd2b0282894709b46484c13a07221aefbedfff667199259');
});

test('QEMU: a page without data is a NORMAL page of zeros; KVM adds vp 0\'s VMSA at 0xFFFFFFFFF000 at the end', () => {
  const vmsa = kvmFormVmsa(0x100000n);
  const file = snp((b, m) => b.vmsa(VMSA_GPA, m, 0, vmsa).pageData(0x100000n, m));
  const r = measureSnpQemu(file);
  assert.equal(hex(r.digest), chain([[0x100000n, NORMAL, zeros()], [VMSA_GPA, VMSA, vmsa]]));
  assert.equal(r.vmm, 'qemu');
  assert.equal(r.mask, 1);
});

test('QEMU: the shared flag is not looked at — the page is measured (the crate skips it)', () => {
  const vmsa = kvmFormVmsa(0x100000n);
  const data = page(0x5a, 100);
  const b = snpBuilder((x, m) => x.pageData(0x100000n, m, data.subarray(0, 100), { flags: 0x4 }).vmsa(VMSA_GPA, m, 0, vmsa));
  assert.equal(hex(measureSnpQemu(b.build()).digest), chain([[0x100000n, NORMAL, data], [VMSA_GPA, VMSA, vmsa]]));
  assert.equal(referenceSnpDigest(b.toBytes()), chain([[VMSA_GPA, VMSA, vmsa]]), 'the crate skips the shared page');
});

test('QEMU: a PARAMETER_INSERT is one UNMEASURED page per 4 KiB of the area', () => {
  const vmsa = kvmFormVmsa(0x100000n);
  const file = snp((b, m) => b.parameterArea(0, 0x3000n).parameterInsert(0x200000n, m, 0).vmsa(VMSA_GPA, m, 0, vmsa));
  const expected = chain([[0x200000n, UNMEASURED], [0x201000n, UNMEASURED], [0x202000n, UNMEASURED], [VMSA_GPA, VMSA, vmsa]]);
  assert.equal(hex(measureSnpQemu(file).digest), expected);
});

test('QEMU: one VMSA per vCPU at 0xFFFFFFFFF000 after everything else — the digest depends on --vcpus', () => {
  const vmsa = kvmFormVmsa(0x100000n, 0x21n);
  const data = page(0x11);
  const built = snpBuilder((b, m) => b.vmsa(VMSA_GPA, m, 0, vmsa).pageData(0x100000n, m, data));
  const file = built.build();
  const one = hex(measureSnpQemu(file, { vcpus: 1 }).digest);
  const two = hex(measureSnpQemu(file, { vcpus: 2 }).digest);
  assert.equal(one, chain([[0x100000n, NORMAL, data], [VMSA_GPA, VMSA, vmsa]]));
  assert.equal(two, chain([[0x100000n, NORMAL, data], [VMSA_GPA, VMSA, vmsa], [VMSA_GPA, VMSA, resetVmsa(0x21n)]]));
  assert.notEqual(one, two);
  assert.equal(referenceSnpDigest(built.toBytes()), chain([[VMSA_GPA, VMSA, vmsa], [0x100000n, NORMAL, data]]), 'the crate measures the VMSA at its directive');
});

test('QEMU: a context for vp 1 and none for vp 0 — vp 0 gets the reset-state VMSA, vp 1 its own', () => {
  const vmsa = kvmFormVmsa(0x200000n);
  const file = snp((b, m) => b.pageData(0x100000n, m).vmsa(VMSA_GPA, m, 1, vmsa));
  assert.equal(hex(measureSnpQemu(file, { vcpus: 2 }).digest), chain([[0x100000n, NORMAL, zeros()], [VMSA_GPA, VMSA, resetVmsa(1n)], [VMSA_GPA, VMSA, vmsa]]));
});

test('QEMU: batching reorder — an insert is measured before earlier page data that is still pending', () => {
  const vmsa = kvmFormVmsa(0x100000n);
  const a = page(0xa1);
  const c = page(0xc3);
  const file = snp((b, m) => {
    b.parameterArea(0, 0x1000n);
    b.pageData(0x100000n, m, a).pageData(0x101000n, m, c);
    b.parameterInsert(0x300000n, m, 0);
    b.vmsa(VMSA_GPA, m, 0, vmsa);
  });
  const r = measureSnpQemu(file, { trace: true });
  assert.equal(hex(r.digest), chain([[0x300000n, UNMEASURED], [0x100000n, NORMAL, a], [0x101000n, NORMAL, c], [VMSA_GPA, VMSA, vmsa]]));
  assert.deepEqual(r.steps?.map((s) => [s.gpa, s.source]), [[0x300000n, 3], [0x100000n, 1], [0x101000n, 2], [VMSA_GPA, undefined]]);
  assert.ok(r.notes.some((n) => n.includes('launch-updated after later directives')));
});

test('QEMU: a file without an SEV-SNP platform cannot be measured (measure-no-snp-platform)', () => {
  const b = new IgvmBuilder();
  const m = b.platform('NATIVE');
  b.pageData(0x100000n, m);
  assert.throws(() => measureSnpQemu(b.build()), (e: unknown) => e instanceof IgvmError && e.code === 'measure-no-snp-platform');
});

test('QEMU: a file QEMU rejects raises measure-qemu-rejected with QEMU\'s message', () => {
  const file = snp((b, m) => b.vmsa(0x803000n, m, 0, kvmFormVmsa(0x100000n)));
  assert.throws(() => measureSnpQemu(file), (e: unknown) => e instanceof IgvmError && e.code === 'measure-qemu-rejected'
    && e.message === 'check_vmsa_supported: The VMSA GPA must be FFFFFFFFF000 but is specified as 803000');
});

