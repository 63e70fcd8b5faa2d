// ACPI table encoders (ACPI 6.3 §5.2.5.3, §5.2.6, §5.2.8–§5.2.12) and an independent check of the default set with ACPICA's iasl.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FADT_FLAG,
  FADT_SIZE,
  GAS_SYSTEM_IO,
  encodeFacs,
  encodeFadt,
  encodeGas,
  encodeMadt,
  encodeRsdp,
  encodeTable,
  encodeXsdt,
  sum8,
  type TableIds,
} from '../../src/acpi/tables.js';
import { buildDefaultAcpi } from '../../src/acpi/default.js';
import type { AcpiImage } from '../../src/acpi/image.js';

const ids: TableIds = { oemId: 'IGVMKT', oemTableId: 'IGVMACPI', oemRevision: 1, creatorId: 'IGVM', creatorRevision: 1 };
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

test('table header: Length, checksum, space-padded IDs', () => {
  const t = encodeTable('TEST', 3, { ...ids, oemId: 'AB', oemTableId: 'XYZ' }, Uint8Array.of(1, 2, 3));
  assert.equal(t.length, 39);
  assert.equal(latin1(t.subarray(0, 4)), 'TEST');
  assert.equal(view(t).getUint32(4, true), 39);
  assert.equal(t[8], 3);
  assert.equal(sum8(t), 0);
  assert.equal(latin1(t.subarray(10, 16)), 'AB    ');
  assert.equal(latin1(t.subarray(16, 24)), 'XYZ     ');
  assert.equal(view(t).getUint32(24, true), 1);
  assert.equal(latin1(t.subarray(28, 32)), 'IGVM');
  assert.equal(view(t).getUint32(32, true), 1);
  assert.throws(() => encodeTable('TEST', 1, { ...ids, oemId: 'TOOLONG' }, new Uint8Array()), RangeError);
  assert.throws(() => encodeTable('test', 1, ids, new Uint8Array()), RangeError);
});

test('RSDP v2: both checksums, Length 36, XSDT address', () => {
  const r = encodeRsdp('IGVMKT', 0x100000);
  assert.equal(r.length, 36);
  assert.equal(latin1(r.subarray(0, 8)), 'RSD PTR ');
  assert.equal(sum8(r, 0, 20), 0, 'checksum over the first 20 bytes');
  assert.equal(sum8(r, 0, 36), 0, 'extended checksum');
  assert.equal(r[15], 2);
  assert.equal(view(r).getUint32(16, true), 0, 'no RSDT');
  assert.equal(view(r).getUint32(20, true), 36);
  assert.equal(view(r).getBigUint64(24, true), 0x100000n);
});

test('XSDT, FACS, GAS', () => {
  const x = encodeXsdt(ids, [0x100038, 0x1_0000_0000n]);
  assert.equal(x.length, 52);
  assert.equal(sum8(x), 0);
  assert.equal(view(x).getBigUint64(36, true), 0x100038n);
  assert.equal(view(x).getBigUint64(44, true), 0x1_0000_0000n);
  const f = encodeFacs();
  assert.equal(f.length, 64);
  assert.equal(latin1(f.subarray(0, 4)), 'FACS');
  assert.equal(view(f).getUint32(4, true), 64);
  assert.equal(f[32], 2, 'FACS version 2');
  const g = encodeGas({ spaceId: GAS_SYSTEM_IO, bitWidth: 8, bitOffset: 0, accessSize: 1, address: 0xcf9 });
  assert.equal(Buffer.from(g).toString('hex'), '01080001f90c000000000000');
});

test('FADT 6.3: 276 bytes, 32- and 64-bit DSDT/FACS pointers, flags, reset register', () => {
  const f = encodeFadt(ids, {
    dsdt: 0x1001c0,
    facs: 0x100180,
    flags: FADT_FLAG.HW_REDUCED_ACPI,
    iapcBootArch: 0x0004,
    reset: { register: { spaceId: GAS_SYSTEM_IO, bitWidth: 8, bitOffset: 0, accessSize: 1, address: 0xcf9 }, value: 6 },
  });
  const v = view(f);
  assert.equal(f.length, FADT_SIZE);
  assert.equal(v.getUint32(4, true), 276);
  assert.equal(latin1(f.subarray(0, 4)), 'FACP');
  assert.equal(f[8], 6, 'major revision');
  assert.equal(f[131], 3, 'minor revision');
  assert.equal(sum8(f), 0);
  assert.equal(v.getUint32(36, true), 0x100180, 'FIRMWARE_CTRL');
  assert.equal(v.getUint32(40, true), 0x1001c0, 'DSDT');
  assert.equal(v.getBigUint64(132, true), 0x100180n, 'X_FIRMWARE_CTRL');
  assert.equal(v.getBigUint64(140, true), 0x1001c0n, 'X_DSDT');
  assert.equal(v.getUint16(109, true), 0x0004, 'IAPC_BOOT_ARCH');
  assert.equal(v.getUint32(112, true), (1 << 20) | (1 << 10), 'HW_REDUCED_ACPI | RESET_REG_SUP');
  assert.equal(Buffer.from(f.subarray(116, 128)).toString('hex'), '01080001f90c000000000000');
  assert.equal(f[128], 6);
  assert.ok(f.subarray(244, 276).every((b) => b === 0), 'no sleep registers, no hypervisor ID');
  // Above 4 GiB only the 64-bit fields are set.
  const hi = encodeFadt(ids, { dsdt: 0x1_0000_1000, facs: 0x1_0000_0000, flags: 0, iapcBootArch: 0 });
  assert.equal(view(hi).getUint32(40, true), 0);
  assert.equal(view(hi).getUint32(36, true), 0);
  assert.equal(view(hi).getBigUint64(140, true), 0x1_0000_1000n);
});

test('MADT: header fields and interrupt controller structures', () => {
  const m = encodeMadt(ids, 0xfee00000, 1, [
    { type: 'local-apic', uid: 3, apicId: 4, enabled: true },
    { type: 'io-apic', id: 2, address: 0xfec00000, gsiBase: 0 },
    { type: 'interrupt-override', bus: 0, source: 9, gsi: 9, flags: 0x000d },
    { type: 'local-apic-nmi', uid: 0xff, flags: 0, lint: 1 },
  ]);
  assert.equal(m.length, 44 + 8 + 12 + 10 + 6);
  assert.equal(sum8(m), 0);
  assert.equal(m[8], 5, 'MADT revision 5');
  const hex = Buffer.from(m.subarray(36)).toString('hex');
  assert.equal(hex, '0000e0fe' + '01000000' + '0008030401000000' + '010c02000000c0fe00000000' + '020a0009090000000d00' + '0406ff000001');
  assert.throws(() => encodeMadt(ids, 0xfee00000, 1, [{ type: 'local-apic', uid: 256, apicId: 0, enabled: true }]), RangeError);
});

// ---- Independent validation with ACPICA's iasl ----

function iasl(args: string[], cwd: string): string {
  const r = spawnSync('iasl', args, { cwd, encoding: 'utf8' });
  if (r.error !== undefined) {
    assert.fail(`cannot run iasl (${r.error.message}): install ACPICA's iasl (Debian/Ubuntu: apt-get install acpica-tools)`);
  }
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, `iasl ${args.join(' ')} exited with ${String(r.status)}:\n${out}`);
  return out;
}

function readGpa(img: AcpiImage, gpa: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const page = Math.floor((gpa + i) / 4096) * 4096;
    out[i] = img.pages.get(page)?.[gpa + i - page] ?? 0;
  }
  return out;
}

function tableAt(img: AcpiImage, sig: string): Uint8Array {
  const gpa = img.tables.get(sig);
  assert.ok(gpa !== undefined, `${sig} missing`);
  const len = sig === 'RSDP' ? 36 : view(readGpa(img, gpa, 8)).getUint32(4, true);
  return readGpa(img, gpa, len);
}

/** A data-table field line of an iasl disassembly: "[off dec len]   Name : value". */
function field(dsl: string, name: string): string[] {
  const re = new RegExp(`^\\[[0-9A-F]+h \\d+ +\\d+\\] +${name.replace(/[()]/g, '\\$&')} : (.*)$`, 'gm');
  return [...dsl.matchAll(re)].map((m) => (m[1] ?? '').trim());
}

const hex8 = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
const hex16 = (n: number) => n.toString(16).toUpperCase().padStart(16, '0');

for (const vcpus of [1, 2, 8, 255]) {
  test(`iasl -d accepts every default table (vcpus ${vcpus}) and recompiles them to the same bytes`, () => {
    const img = buildDefaultAcpi({ vcpus });
    const dir = mkdtempSync(join(tmpdir(), 'igvmkit-acpi-'));
    try {
      mkdirSync(join(dir, 'rt'));
      const dsl: Record<string, string> = {};
      for (const sig of ['XSDT', 'FACP', 'FACS', 'DSDT', 'APIC']) {
        const ours = tableAt(img, sig);
        writeFileSync(join(dir, `${sig}.dat`), ours);
        const out = iasl(['-d', `${sig}.dat`], dir);
        assert.doesNotMatch(out, /error|warning|incorrect/i, `${sig} disassembly:\n${out}`);
        const text = readFileSync(join(dir, `${sig}.dsl`), 'utf8');
        assert.doesNotMatch(text, /incorrect|error|\*\*\*\*/i, `${sig}.dsl`);
        dsl[sig] = text;
        // Recompile the disassembly: the bytes must be ours except the checksum and the compiler ID/revision iasl stamps.
        const cout = iasl(['-p', join(dir, 'rt', sig), `${sig}.dsl`], dir);
        assert.match(cout, /Compilation successful\. 0 Errors, 0 Warnings/, cout);
        const again = new Uint8Array(readFileSync(join(dir, 'rt', `${sig}.aml`)));
        assert.equal(again.length, ours.length, `${sig} recompiled length`);
        const masked = (b: Uint8Array) => Buffer.from(sig === 'FACS' ? b : Uint8Array.from(b, (x, i) => (i === 9 || (i >= 28 && i < 36) ? 0 : x))).toString('hex');
        assert.equal(masked(again), masked(ours), `${sig} recompiled bytes`);
      }
      const at = (s: string) => img.tables.get(s) ?? -1;
      const madt = dsl['APIC'] ?? '';
      assert.equal((madt.match(/Subtable Type : 00 \[Processor Local APIC\]/g) ?? []).length, vcpus, 'Processor Local APIC subtables');
      assert.equal((madt.match(/Subtable Type : 01 \[I\/O APIC\]/g) ?? []).length, 1);
      assert.equal((madt.match(/Subtable Type : 02 \[Interrupt Source Override\]/g) ?? []).length, 2);
      assert.deepEqual(field(madt, 'Address'), ['FEC00000']);
      assert.deepEqual(field(madt, 'I/O Apic ID'), [vcpus.toString(16).toUpperCase().padStart(2, '0')]);
      assert.deepEqual(field(madt, 'Local Apic Address'), ['FEE00000']);
      assert.equal((madt.match(/^ +Processor Enabled : 1$/gm) ?? []).length, vcpus);
      const fadt = dsl['FACP'] ?? '';
      assert.deepEqual(field(fadt, 'DSDT Address'), [hex8(at('DSDT')), hex16(at('DSDT'))]);
      assert.deepEqual(field(fadt, 'FACS Address'), [hex8(at('FACS')), hex16(at('FACS'))]);
      assert.deepEqual(field(fadt, 'Revision'), ['06']);
      assert.deepEqual(field(fadt, 'FADT Minor Revision'), ['03']);
      assert.match(fadt, /^ +Hardware Reduced \(V5\) : 1$/m);
      assert.match(fadt, /^ +Reset Register Supported \(V2\) : 1$/m);
      assert.match(fadt, /^ +VGA Not Present \(V4\) : 1$/m);
      assert.deepEqual(field(fadt, 'Value to cause reset'), ['06']);
      assert.ok(field(fadt, 'Address').includes('0000000000000CF9'), 'reset register at I/O 0xCF9');
      const xsdt = dsl['XSDT'] ?? '';
      assert.deepEqual(field(xsdt, 'ACPI Table Address   0'), [hex16(at('FACP'))]);
      assert.deepEqual(field(xsdt, 'ACPI Table Address   1'), [hex16(at('APIC'))]);
      const facs = dsl['FACS'] ?? '';
      assert.deepEqual(field(facs, 'Length'), ['00000040']);
      assert.deepEqual(field(facs, 'Version'), ['02']);
      const dsdt = dsl['DSDT'] ?? '';
      for (const s of ['_S5_', 'Name (_S5, Package (0x04)', 'COM1', 'EisaId ("PNP0501")', 'Name (_UID, One)', 'IRQNoFlags ()']) {
        assert.ok(dsdt.includes(s), `DSDT disassembly contains ${s}`);
      }
      assert.match(dsdt, /IO \(Decode16,\s+0x03F8,\s+\/\/ Range Minimum\s+0x03F8,\s+\/\/ Range Maximum\s+0x00,\s+\/\/ Alignment\s+0x08,/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('iasl compiles an RSDP with our field values to exactly our bytes (both checksums computed by iasl)', () => {
  const img = buildDefaultAcpi({ vcpus: 1 });
  const ours = tableAt(img, 'RSDP');
  // `iasl -d` cannot read a raw RSDP (its bytes 4..7 are not a Length), so compile the data-table source instead.
  const source = [
    '[0008]                          Signature : "RSD PTR "',
    '[0001]                           Checksum : 00',
    '[0006]                             Oem ID : "IGVMKT"',
    '[0001]                           Revision : 02',
    '[0004]                       RSDT Address : 00000000',
    '[0004]                             Length : 00000024',
    `[0008]                       XSDT Address : ${hex16(img.tables.get('XSDT') ?? 0)}`,
    '[0001]                  Extended Checksum : 00',
    '[0003]                           Reserved : 000000',
    '',
  ].join('\n');
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-acpi-'));
  try {
    writeFileSync(join(dir, 'rsdp.asl'), source);
    const out = iasl(['rsdp.asl'], dir);
    assert.match(out, /Compilation successful\. 0 Errors, 0 Warnings/, out);
    const compiled = new Uint8Array(readFileSync(join(dir, 'rsdp.aml')));
    assert.equal(Buffer.from(compiled).toString('hex'), Buffer.from(ours).toString('hex'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
