// igvmgen generation on synthetic kernels: layout, boot_params, VMSA, page tables and digest checked independently (IGVMGEN.md §2–§9).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VECTORS, manifest } from '../helpers.js';
import { makeBzImage, pseudoRandom } from '../../src/examples/synthetic-bzimage.js';
import { referenceSnpDigest } from '../measure/snp-reference.js';
import { generateIgvmgen, DEFAULT_ID_BLOCK, type IgvmgenOptions } from '../../src/igvmgen/generate.js';
import { parseIgvm } from '../../src/format/index.js';
import { validateIgvm } from '../../src/validate/index.js';
import { decodeVmsa } from '../../src/format/contexts.js';
import { parseEcPrivateKey } from '../../src/crypto/ec-key.js';
import { toHex } from '../../src/bytes.js';
import type { AcpiImage } from '../../src/acpi/image.js';
import type { PageData, IgvmFile } from '../../src/model.js';

const KEY_PEM = readFileSync(join(VECTORS, 'inputs', 'sign_key.pem'));
const KEY = parseEcPrivateKey(KEY_PEM, 'sign_key.pem');

/** A stand-in ACPI image: an RSDP-looking page at 0xE0000 and one table page, region end 0x102000. */
const ACPI: AcpiImage = {
  pages: new Map([[0xe0000, new TextEncoder().encode('RSD PTR test')], [0x101000, pseudoRandom(300, 9)]]),
  acpiEnd: 0x102000,
  rsdp: 0xe0000,
  source: 'test',
  tables: new Map(),
};

const PAYLOAD = pseudoRandom(300_000, 7);
const KERNEL = makeBzImage({ payload: PAYLOAD, prefAddress: 0x1000000, initSize: 0x2000000 });

function options(over: Partial<IgvmgenOptions> = {}): IgvmgenOptions {
  return {
    inform: 'bzImage', intel: true, bootMode: 'x86', kernel: { name: 'bzImage', bytes: KERNEL }, append: 'console=ttyS0 quiet',
    highestVtl: 2, pvalidateOpt: true, encryptedPage: true, svme: true, acpi: ACPI, idBlock: DEFAULT_ID_BLOCK,
    signKey: KEY, signDeterministic: true, ...over,
  };
}

/** Guest memory as the file describes it: GPA → page bytes (data pages only). */
function pages(file: IgvmFile): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const d of file.directives) {
    if (d.type === 'PAGE_DATA') m.set(Number(d.gpa), d.data && d.data.length ? d.data : new Uint8Array(4096));
    if (d.type === 'VP_CONTEXT') m.set(Number(d.gpa), d.context.data ?? new Uint8Array(4096));
  }
  return m;
}

function read(m: Map<number, Uint8Array>, gpa: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; ) {
    const g = gpa + i;
    const base = g - (g % 4096);
    const p = m.get(base);
    assert.ok(p, `page 0x${base.toString(16)} present`);
    const n = Math.min(4096 - (g - base), size - i);
    out.set(p.subarray(g - base, g - base + n), i);
    i += n;
  }
  return out;
}

const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const u64 = (b: Uint8Array, at: number): bigint => new DataView(b.buffer, b.byteOffset).getBigUint64(at, true);

function e820(bp: Uint8Array): [number, number, number][] {
  const n = bp[0x1e8] ?? 0;
  return Array.from({ length: n }, (_, i) => [Number(u64(bp, 0x2d0 + i * 20)), Number(u64(bp, 0x2d0 + i * 20 + 8)), u32(bp, 0x2d0 + i * 20 + 16)]);
}

/** Checks every generated file gets: independent digest = ID block Ld = result; the signature verifies; it validates. */
function checkCommon(bytes: Uint8Array, launchDigest: Uint8Array): IgvmFile {
  const file = parseIgvm(bytes);
  assert.equal(referenceSnpDigest(bytes), toHex(launchDigest), 'independent digest');
  const id = file.directives.find((d) => d.type === 'SNP_ID_BLOCK');
  assert.ok(id && id.type === 'SNP_ID_BLOCK');
  assert.equal(toHex(id.ld), toHex(launchDigest));
  const msg = Buffer.alloc(96);
  Buffer.from(id.ld).copy(msg, 0);
  Buffer.from(id.family_id).copy(msg, 48);
  Buffer.from(id.image_id).copy(msg, 64);
  msg.writeUInt32LE(id.version, 80);
  msg.writeUInt32LE(id.guest_svn, 84);
  const policy = file.initializations.find((i) => i.type === 'GUEST_POLICY');
  assert.ok(policy && policy.type === 'GUEST_POLICY');
  msg.writeBigUInt64LE(policy.policy, 88);
  const be = (le: Uint8Array): Buffer => Buffer.from(le.subarray(0, 48)).reverse();
  const sig = Buffer.concat([be(id.id_key_signature.subarray(0, 72)), be(id.id_key_signature.subarray(72, 144))]);
  assert.ok(cryptoVerify('sha384', msg, { key: createPublicKey({ key: Buffer.from(KEY_PEM), format: 'pem' }), dsaEncoding: 'ieee-p1363' }, sig), 'ID block signature verifies with node:crypto');
  const problems = validateIgvm(bytes).problems.filter((p) => p.severity === 'error');
  assert.deepEqual(problems, []);
  return file;
}

test('bzImage x86 with pvalidate_opt: kernel bytes, boot_params, e820, VMSA', () => {
  const r = generateIgvmgen(options());
  const file = checkCommon(r.bytes, r.launchDigest);
  const m = pages(file);
  const pref = 0x1000000;
  assert.deepEqual(read(m, pref, PAYLOAD.length), PAYLOAD, 'protected-mode kernel at pref_address');
  const vmsa = decodeVmsa(m.get(0x803000)!);
  assert.equal(vmsa.rip, BigInt(pref));
  assert.equal(vmsa.cr0, 1n);
  assert.equal(vmsa.efer, 0x1000n);
  assert.equal(vmsa.rflags, 2n);
  assert.equal(vmsa.sev_features, 9n);
  const vmlinuxSize = Math.ceil(PAYLOAD.length / 4096) * 4096;
  const start = pref + 0x2000000; // pref + init_size: TSS, GDT, boot_params, cmdline, initrd, stack, cc_blob
  assert.equal(vmsa.tr.base, BigInt(start));
  assert.equal(vmsa.gdtr.base, BigInt(start + 104));
  const bp = Number(vmsa.rsi);
  assert.equal(bp, start + 104 + 48);
  const zp = read(m, bp, 4096);
  assert.equal(zp[0x210], 0xff);
  assert.equal(u32(zp, 0x214), pref);
  const cmd = u32(zp, 0x228);
  assert.equal(cmd, bp + 4096);
  assert.equal(u32(zp, 0x238), 'console=ttyS0 quiet'.length);
  assert.equal(new TextDecoder().decode(read(m, cmd, 20)), 'console=ttyS0 quiet\0');
  const initrd = u32(zp, 0x218);
  assert.equal(initrd % 4096, 0);
  assert.equal(vmsa.rsp, BigInt(initrd + 4096), 'RSP = top of the boot stack, which starts at the (empty) initrd');
  const ccBlob = u32(zp, 0x13c);
  assert.equal(ccBlob, initrd + 4096);
  const cc = read(m, ccBlob, 40);
  assert.equal(u32(cc, 0), 0x45444d41);
  assert.equal(u64(cc, 8), 0x801000n);
  assert.equal(u64(cc, 24), 0x800000n);
  assert.equal(u64(zp, 0x70), 0xe0000n);
  const end = ccBlob + 4096;
  assert.deepEqual(e820(zp), [
    [0, 0, 1], [0xa0000, 0x60000, 2], [0x100000, 0x2000, 3], [pref, vmlinuxSize, 1],
    [pref + vmlinuxSize + 0x10000, 0x4000, 1], [pref + 0x2000000 - 0x7000, 0x7000, 1], [start, end - start, 1],
  ]);
  // The setup header is copied (bytes other than the overridden fields).
  assert.deepEqual(zp.subarray(0x1f1, 0x210), KERNEL.subarray(0x1f1, 0x210));
  // Pages emitted: only the ACPI region, the fixed pages, the kernel, the two regions and the after-code area.
  const gpas = file.directives.filter((d): d is PageData => d.type === 'PAGE_DATA').map((d) => Number(d.gpa));
  for (const g of gpas) {
    const ok = (g >= 0xa0000 && g < 0x102000) || (g >= 0x800000 && g < 0x804000) || (g >= pref && g < pref + vmlinuxSize) ||
      (g >= pref + vmlinuxSize + 0x10000 && g < pref + vmlinuxSize + 0x14000) || (g >= pref + 0x2000000 - 0x7000 && g < end);
    assert.ok(ok, `page 0x${g.toString(16)} emitted`);
  }
  assert.equal(new Set(gpas).size, gpas.length, 'each page once');
});

test('bzImage x64: 64-bit entry, 2-level identity map with the C-bit, CR3/CR4/EFER', () => {
  for (const encrypted of [true, false]) {
    const r = generateIgvmgen(options({ bootMode: 'x64', encryptedPage: encrypted }));
    const m = pages(checkCommon(r.bytes, r.launchDigest));
    const vmsa = decodeVmsa(m.get(0x803000)!);
    const c = encrypted ? 1n << 51n : 0n;
    assert.equal(vmsa.rip, 0x1000200n);
    assert.equal(vmsa.cr4, 0x30n);
    assert.equal(vmsa.cr0, 0x80000001n);
    assert.equal(vmsa.efer, 0x1d01n);
    assert.equal(vmsa.cs.attrib, 0xa9b);
    const pgd = 0x3000000;
    assert.equal(vmsa.cr3, BigInt(pgd) | c);
    const pgdPage = read(m, pgd, 4096);
    assert.equal(u64(pgdPage, 0), BigInt(pgd + 4096) | 7n | c);
    for (let i = 1; i < 512; i++) assert.equal(u64(pgdPage, i * 8), 0n);
    const pud = read(m, pgd + 4096, 4096);
    for (let i = 0; i < 512; i++) assert.equal(u64(pud, i * 8), (BigInt(i) << 30n) | c | 0x87n);
    assert.equal(vmsa.tr.base, BigInt(pgd + 8192));
    // GDT: 64-bit code segment with L=1 and the 16-byte TSS descriptor.
    const gdt = read(m, pgd + 8192 + 104, 56);
    assert.equal(u64(gdt, 8), 0x00af9b000000ffffn);
    assert.equal(u64(gdt, 48), 0n);
  }
});

test('pvalidate_opt false: every page from 0 is emitted and measured; 4-entry e820', () => {
  const r = generateIgvmgen(options({ pvalidateOpt: false }));
  const file = checkCommon(r.bytes, r.launchDigest);
  const gpas = new Set(file.directives.filter((d): d is PageData => d.type === 'PAGE_DATA').map((d) => Number(d.gpa)));
  for (let g = 0; g < 0x102000; g += 4096) assert.ok(gpas.has(g), `0x${g.toString(16)}`);
  for (let g = 0x102000; g < 0x800000; g += 4096) assert.ok(!gpas.has(g));
  for (let g = 0x1000000; g < 0x3000000; g += 4096) assert.ok(gpas.has(g));
  const m = pages(file);
  const bp = Number(decodeVmsa(m.get(0x803000)!).rsi);
  const zp = read(m, bp, 4096);
  const end = u32(zp, 0x13c) + 4096;
  assert.deepEqual(e820(zp), [[0, 0xa0000, 1], [0xa0000, 0x60000, 2], [0x100000, 0x2000, 3], [0x1000000, end - 0x1000000, 1]]);
});

test('bzImage2: payload pages are shared (flag 4), unmeasured and leave the digest as bzImage; memory stays sparse', () => {
  const payload = pseudoRandom(10_000, 3);
  const r2 = generateIgvmgen(options({ inform: 'bzImage2', sharedPayload: { name: 'p', bytes: payload } }));
  const r1 = generateIgvmgen(options());
  assert.equal(toHex(r2.launchDigest), toHex(r1.launchDigest));
  assert.deepEqual(r2.stdout, ['write_not_validated 10000000 10002710']);
  const file = checkCommon(r2.bytes, r2.launchDigest);
  const shared = file.directives.filter((d): d is PageData => d.type === 'PAGE_DATA' && d.gpa >= 0x10000000n);
  assert.equal(shared.length, 3);
  for (const d of shared) assert.equal(d.flags, 4);
  assert.deepEqual(read(pages(file), 0x10000000, payload.length), payload);
  assert.ok(r2.bytes.length < 2 * 1024 * 1024, 'the gap below the payload costs nothing in the file');
});

test('a 5000-byte initrd: page-aligned initrd, then the byte-aligned stack and cc_blob (quirk ★7)', () => {
  const initrd = pseudoRandom(5000, 5);
  const r = generateIgvmgen(options({ bootMode: 'x64', intel: false, rdinit: { name: 'initrd', bytes: initrd } }));
  const m = pages(checkCommon(r.bytes, r.launchDigest));
  const vmsa = decodeVmsa(m.get(0x803000)!);
  assert.equal(vmsa.rflags, 0n, '-arch AMD leaves RFLAGS 0');
  const zp = read(m, Number(vmsa.rsi), 4096);
  const at = u32(zp, 0x218);
  assert.equal(at % 4096, 0);
  assert.equal(u32(zp, 0x21c), 5000);
  assert.deepEqual(read(m, at, 5000), initrd);
  assert.equal(vmsa.rsp, BigInt(at + 5000 + 4096));
  assert.equal(u32(zp, 0x13c), at + 5000 + 4096);
});

test('-symbol_elf: the pre-validated regions come from boot_stack, pgtable and _end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-sym-'));
  try {
    const src = join(dir, 'syms.s');
    writeFileSync(src, [
      '.globl boot_stack, pgtable, _end',
      '.set boot_stack, 0x60000', '.size boot_stack, 0x4000',
      '.set pgtable, 0x90000', '.size pgtable, 0x6000',
      '.set _end, 0xa0000', '',
    ].join('\n'));
    execFileSync('as', ['--64', '-o', join(dir, 'syms.o'), src]);
    const elf = new Uint8Array(readFileSync(join(dir, 'syms.o')));
    const r = generateIgvmgen(options({ symbolElf: { name: 'vmlinux', bytes: elf } }));
    const m = pages(checkCommon(r.bytes, r.launchDigest));
    const zp = read(m, Number(decodeVmsa(m.get(0x803000)!).rsi), 4096);
    const entries = e820(zp);
    assert.deepEqual(entries[4], [0x1000000 + 0x60000, 0x4000, 1]);
    assert.deepEqual(entries[5], [0x1000000 + 0x2000000 - 0xa0000 + 0x90000, 0x6000, 1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('elf mode with -vmpl2_kernel: monitor_params, VMPL2 boot_params and e820 (all reserved)', () => {
  const elf = new Uint8Array(readFileSync(join(VECTORS, 'inputs', 'test_elf')));
  const vmpl2 = makeBzImage({ payload: pseudoRandom(9000, 11) });
  const r = generateIgvmgen(options({ inform: 'elf', kernel: { name: 'test_elf', bytes: elf }, append: 'append', vmpl2Kernel: { name: 'bz', bytes: vmpl2 } }));
  const m = pages(checkCommon(r.bytes, r.launchDigest));
  const vmsa = decodeVmsa(m.get(0x803000)!);
  assert.equal(vmsa.rsp, 0x805000n);
  const mp = read(m, Number(vmsa.rsi), 48);
  const bp = Number(u64(mp, 24));
  assert.deepEqual([u64(mp, 0), u64(mp, 8), u64(mp, 16), u64(mp, 32), u64(mp, 40)], [0x800000n, 0x801000n, 0x802000n, 0x3d00000n, BigInt(vmpl2.length)]);
  assert.deepEqual(read(m, 0x3d00000, vmpl2.length), vmpl2, 'the whole VMPL2 file at 0x3D00000');
  const zp = read(m, bp, 4096);
  assert.deepEqual(zp.subarray(0x1f1, 0x210), vmpl2.subarray(0x1f1, 0x210));
  assert.equal(u32(zp, 0x228), 0x805000);
  assert.equal(u32(zp, 0x238), 7, 'NUL counted in elf mode');
  const entries = e820(zp);
  assert.deepEqual(entries.slice(0, 4), [[0, 0, 1], [0xa0000, 0x60000, 2], [0x100000, 0x2000, 3], [0x800000, 0x4000, 2]]);
  assert.deepEqual(entries.slice(4).map((e) => e[2]), [2, 2, 2, 2]);
  assert.deepEqual(entries[7], [0x3d00000, vmpl2.length, 2]);
});

test('elf x64 with 4-level tables maps 16 GiB with 4 KiB pages', () => {
  const elf = new Uint8Array(readFileSync(join(VECTORS, 'inputs', 'test_elf')));
  const r = generateIgvmgen(options({ inform: 'elf', bootMode: 'x64', pgtableLevel: 4, kernel: { name: 'test_elf', bytes: elf }, append: 'a' }));
  const file = parseIgvm(r.bytes);
  const m = pages(file);
  const vmsa = decodeVmsa(m.get(0x803000)!);
  assert.equal(vmsa.cr4, 0x20n);
  const c = 1n << 51n;
  const pgd = Number(vmsa.cr3 & ~c);
  const walk = (va: number): bigint => {
    const e1 = u64(read(m, pgd, 4096), 0);
    const pud = Number(e1 & 0xffffffff000n);
    const e2 = u64(read(m, pud, 4096), Math.floor(va / 2 ** 30) * 8);
    const pmd = Number(e2 & 0xffffffff000n);
    const e3 = u64(read(m, pmd, 4096), (Math.floor(va / 2 ** 21) % 512) * 8);
    const pte = Number(e3 & 0xffffffff000n);
    const e4 = u64(read(m, pte, 4096), (Math.floor(va / 4096) % 512) * 8);
    for (const e of [e1, e2, e3, e4]) assert.equal(e & 0x7n, 7n);
    assert.equal(e4 & c, c);
    return e4 & 0x7fffffffff000n;
  };
  for (const va of [0, 0x1000, 0x803000, 0x3fffff000, 0x123456000, 16 * 2 ** 30 - 4096]) assert.equal(walk(va), BigInt(va));
  assert.equal(referenceSnpDigest(r.bytes), toHex(r.launchDigest));
});

test('deterministic: the same inputs give the same bytes', () => {
  const a = generateIgvmgen(options({ bootMode: 'x64' }));
  const b = generateIgvmgen(options({ bootMode: 'x64' }));
  assert.deepEqual(a.bytes, b.bytes);
});

test('the launch digests of the stored vectors equal the independent computation', () => {
  for (const c of manifest()) {
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(join(VECTORS, 'expected', `${c.name}.igvm`)));
    } catch {
      continue;
    }
    assert.equal(referenceSnpDigest(bytes), c.launch_digest, c.name);
  }
});
