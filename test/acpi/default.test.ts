// buildDefaultAcpi: layout, checksums and cross-pointers read back from the pages (ACPI 6.3 §5.2.5–§5.2.12); namespace load with ACPICA's acpiexec.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDefaultAcpi } from '../../src/acpi/default.js';
import type { AcpiImage } from '../../src/acpi/image.js';
import { IgvmError } from '../../src/errors.js';

const PAGE = 4096;
const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');
const sum = (b: Uint8Array) => b.reduce((s, x) => (s + x) & 0xff, 0);

/** Guest memory as the pages describe it (unlisted bytes are zero). */
function readGpa(img: AcpiImage, gpa: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) {
    const page = Math.floor((gpa + i) / PAGE) * PAGE;
    out[i] = img.pages.get(page)?.[gpa + i - page] ?? 0;
  }
  return out;
}

/** The table whose header is at `gpa`, by its Length field. */
function tableAtGpa(img: AcpiImage, gpa: number): Uint8Array {
  return readGpa(img, gpa, view(readGpa(img, gpa, 8)).getUint32(4, true));
}

function gpaOf(img: AcpiImage, sig: string): number {
  const g = img.tables.get(sig);
  assert.ok(g !== undefined, `tables has ${sig}`);
  return g;
}

function throwsIgvm(fn: () => unknown, code: string, path: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IgvmError, `expected IgvmError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.path, path);
    return true;
  });
}

for (const vcpus of [1, 2, 8, 255]) {
  test(`default tables for ${vcpus} vCPU(s): layout, checksums, pointers`, () => {
    const img = buildDefaultAcpi({ vcpus });
    assert.equal(img.source, 'built-in');
    assert.equal(img.rsdp, 0xe0000);
    assert.deepEqual([...img.tables.keys()].sort(), ['APIC', 'DSDT', 'FACP', 'FACS', 'RSDP', 'XSDT']);

    // RSDP: alone in its page, both checksums, points at the XSDT.
    const rsdpPage = img.pages.get(0xe0000);
    assert.ok(rsdpPage !== undefined);
    assert.equal(rsdpPage.length, 36);
    const rsdp = readGpa(img, 0xe0000, 36);
    assert.equal(latin1(rsdp.subarray(0, 8)), 'RSD PTR ');
    assert.equal(sum(rsdp.subarray(0, 20)), 0, 'RSDP checksum');
    assert.equal(sum(rsdp), 0, 'RSDP extended checksum');
    assert.equal(rsdp[15], 2);
    assert.equal(view(rsdp).getUint32(20, true), 36);
    assert.equal(Number(view(rsdp).getBigUint64(24, true)), 0x100000);
    assert.equal(gpaOf(img, 'XSDT'), 0x100000);

    // Every table: signature at its GPA, checksum, 8-byte alignment (FACS 64), no overlaps.
    const spans: [number, number][] = [];
    for (const [sig, gpa] of img.tables) {
      if (sig === 'RSDP') continue;
      const t = tableAtGpa(img, gpa);
      assert.equal(latin1(t.subarray(0, 4)), sig, `signature at 0x${gpa.toString(16)}`);
      assert.equal(gpa % (sig === 'FACS' ? 64 : 8), 0, `${sig} alignment`);
      if (sig !== 'FACS') {
        assert.equal(sum(t), 0, `${sig} checksum`);
        assert.equal(latin1(t.subarray(10, 16)), 'IGVMKT');
        assert.equal(latin1(t.subarray(16, 24)), 'IGVMACPI');
        assert.equal(latin1(t.subarray(28, 32)), 'IGVM');
      }
      spans.push([gpa, gpa + t.length]);
    }
    spans.sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < spans.length; i++) assert.ok((spans[i - 1]?.[1] ?? 0) <= (spans[i]?.[0] ?? 0), 'tables do not overlap');
    const lastEnd = spans[spans.length - 1]?.[1] ?? 0;

    // Lengths.
    const facp = tableAtGpa(img, gpaOf(img, 'FACP'));
    const facs = tableAtGpa(img, gpaOf(img, 'FACS'));
    const madt = tableAtGpa(img, gpaOf(img, 'APIC'));
    const xsdt = tableAtGpa(img, gpaOf(img, 'XSDT'));
    assert.equal(facp.length, 276);
    assert.equal(facs.length, 64);
    assert.equal(xsdt.length, 36 + 16);
    assert.equal(madt.length, 44 + 8 * vcpus + 12 + 2 * 10);

    // XSDT → FACP, APIC; FADT → DSDT, FACS (32- and 64-bit fields).
    const entries = [0, 1].map((i) => Number(view(xsdt).getBigUint64(36 + 8 * i, true)));
    assert.deepEqual(entries, [gpaOf(img, 'FACP'), gpaOf(img, 'APIC')]);
    const f = view(facp);
    assert.equal(Number(f.getBigUint64(140, true)), gpaOf(img, 'DSDT'), 'X_DSDT');
    assert.equal(Number(f.getBigUint64(132, true)), gpaOf(img, 'FACS'), 'X_FIRMWARE_CTRL');
    assert.equal(f.getUint32(40, true), gpaOf(img, 'DSDT'), 'DSDT');
    assert.equal(f.getUint32(36, true), gpaOf(img, 'FACS'), 'FIRMWARE_CTRL');
    assert.equal(facp[8], 6);
    assert.equal(facp[131], 3);
    assert.ok((f.getUint32(112, true) & (1 << 20)) !== 0, 'HW_REDUCED_ACPI');

    // MADT: vcpus Local APICs (UID = APIC ID = index, enabled), I/O APIC id = vcpus, two overrides.
    const m = view(madt);
    assert.equal(m.getUint32(36, true), 0xfee00000);
    assert.equal(m.getUint32(40, true), 1, 'PCAT_COMPAT');
    let at = 44;
    const seen: number[][] = [];
    while (at < madt.length) {
      const type = madt[at] ?? -1;
      const len = madt[at + 1] ?? 0;
      assert.ok(len > 0);
      seen.push([type, ...madt.subarray(at + 2, at + len)]);
      at += len;
    }
    assert.equal(at, madt.length);
    const lapics = seen.filter((e) => e[0] === 0);
    assert.equal(lapics.length, vcpus);
    lapics.forEach((e, i) => assert.deepEqual(e, [0, i, i, 1, 0, 0, 0]));
    assert.deepEqual(seen.filter((e) => e[0] === 1), [[1, vcpus, 0, 0x00, 0x00, 0xc0, 0xfe, 0, 0, 0, 0]]);
    assert.deepEqual(seen.filter((e) => e[0] === 2), [
      [2, 0, 0, 2, 0, 0, 0, 0x05, 0x00],
      [2, 0, 9, 9, 0, 0, 0, 0x0d, 0x00],
    ]);

    // Pages: page-aligned keys, ≤ 4096 bytes, every page the tables touch, nothing else; acpiEnd.
    assert.equal(img.acpiEnd, Math.ceil(lastEnd / PAGE) * PAGE);
    assert.ok(img.acpiEnd <= 0x800000);
    const expectedPages = [0xe0000];
    for (let p = 0x100000; p < lastEnd; p += PAGE) expectedPages.push(p);
    assert.deepEqual([...img.pages.keys()].sort((a, b) => a - b), expectedPages);
    for (const [gpa, bytes] of img.pages) {
      assert.equal(gpa % PAGE, 0);
      assert.ok(bytes.length <= PAGE);
    }
    assert.equal((img.pages.get(expectedPages[expectedPages.length - 1] ?? 0)?.length ?? 0) % PAGE, lastEnd % PAGE);
  });
}

test('the layout for 1 vCPU', () => {
  const img = buildDefaultAcpi({ vcpus: 1 });
  const hex = Object.fromEntries([...img.tables].map(([k, v]) => [k, `0x${v.toString(16)}`]));
  assert.deepEqual(hex, { RSDP: '0xe0000', XSDT: '0x100000', FACP: '0x100038', FACS: '0x100180', DSDT: '0x1001c0', APIC: '0x100228' });
  assert.equal(img.acpiEnd, 0x101000);
  assert.equal(buildDefaultAcpi({ vcpus: 255 }).acpiEnd, 0x101000); // MADT 2116 bytes still fits the first page
});

test('deterministic bytes; options reach the tables', () => {
  const a = buildDefaultAcpi({ vcpus: 4 });
  const b = buildDefaultAcpi({ vcpus: 4 });
  assert.deepEqual([...a.pages], [...b.pages]);
  const c = buildDefaultAcpi({ vcpus: 4, oemId: 'ACME', oemTableId: 'VM1', ioApicAddress: 0xfec01000, base: 0x200000 });
  assert.equal(c.tables.get('XSDT'), 0x200000);
  assert.equal(Number(view(readGpa(c, 0xe0000, 36)).getBigUint64(24, true)), 0x200000);
  assert.equal(latin1(readGpa(c, 0xe0000 + 9, 6)), 'ACME  ');
  const madt = tableAtGpa(c, gpaOf(c, 'APIC'));
  assert.equal(latin1(madt.subarray(10, 24)), 'ACME  VM1     ');
  assert.equal(view(madt).getUint32(44 + 4 * 8 + 4, true), 0xfec01000);
  assert.ok(c.acpiEnd > 0x200000);
});

test('bad options are IgvmErrors', () => {
  for (const v of [0, 256, -1, 1.5, Number.NaN]) throwsIgvm(() => buildDefaultAcpi({ vcpus: v }), 'acpi-bad-vcpus', 'vcpus');
  throwsIgvm(() => buildDefaultAcpi({ vcpus: 1, oemId: 'SEVENCH' }), 'acpi-bad-oem-id', 'oemId');
  throwsIgvm(() => buildDefaultAcpi({ vcpus: 1, oemTableId: 'NINECHARS' }), 'acpi-bad-oem-table-id', 'oemTableId');
  throwsIgvm(() => buildDefaultAcpi({ vcpus: 1, base: 0x100800 }), 'acpi-bad-base', 'base');
  throwsIgvm(() => buildDefaultAcpi({ vcpus: 1, base: 0xe0000 }), 'acpi-bad-base', 'base');
  throwsIgvm(() => buildDefaultAcpi({ vcpus: 1, base: 0x1_0000_0000 }), 'acpi-bad-base', 'base');
  throwsIgvm(() => buildDefaultAcpi({ vcpus: 1, ioApicAddress: 0x1_0000_0000 }), 'acpi-bad-ioapic', 'ioApicAddress');
});

test('acpiexec loads our FADT, FACS, DSDT, MADT and XSDT and evaluates the namespace', () => {
  const img = buildDefaultAcpi({ vcpus: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-acpi-'));
  try {
    const files: string[] = [];
    for (const sig of ['FACP', 'FACS', 'DSDT', 'APIC', 'XSDT']) {
      const file = join(dir, `${sig.toLowerCase()}.dat`);
      writeFileSync(file, tableAtGpa(img, gpaOf(img, sig)));
      files.push(file);
    }
    const cmds = ['evaluate \\_S5_', 'evaluate \\_SB_.COM1._HID', 'evaluate \\_SB_.COM1._UID', 'evaluate \\_SB_.COM1._CRS', 'namespace'];
    const r = spawnSync('acpiexec', ['-b', cmds.join(';'), ...files], { cwd: dir, encoding: 'utf8' });
    if (r.error !== undefined) {
      assert.fail(`cannot run acpiexec (${r.error.message}): install ACPICA's tools (Debian/Ubuntu: apt-get install acpica-tools)`);
    }
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, out);
    assert.doesNotMatch(out, /error|warning|exception|AE_[A-Z]/i, out);
    for (const sig of ['FACP', 'DSDT', 'APIC', 'XSDT']) assert.match(out, new RegExp(`ACPI: ${sig} .*\\(v0\\d IGVMKT IGVMACPI 00000001 IGVM 00000001\\)`), `${sig} loaded`);
    assert.match(out, /ACPI: FACS 0x[0-9A-F]+ 000040/);
    assert.match(out, /1 ACPI AML tables successfully acquired and loaded/);
    // HW-reduced FADT: acpiexec sets up no GPE blocks (it does with its own default FADT).
    assert.doesNotMatch(out, /Initialized GPE/);
    assert.match(out, /\[Package\] Contains 4 Elements:\s+\[Integer\] = 0000000000000005\s+\[Integer\] = 0000000000000000\s+\[Integer\] = 0000000000000000\s+\[Integer\] = 0000000000000000/);
    assert.match(out, /_HID returned[^\n]*\n\s+\[Integer\] = 000000000105D041/);
    assert.match(out, /_UID returned[^\n]*\n\s+\[Integer\] = 0000000000000001/);
    assert.match(out, /\[Buffer\] Length 0D = +0000: 47 01 F8 03 F8 03 00 08 22 10 00 79 00/);
    assert.match(out, /COM1 Device/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
