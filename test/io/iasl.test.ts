// Tests for loadAcpiDir (IGVMGEN.md §10.2) with the real iasl: the original's pages, no side effects, error messages.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AcpiImage } from '../../src/acpi/image.js';
import { IgvmError } from '../../src/errors.js';
import { amlNameFor, loadAcpiDir } from '../../src/io/iasl.js';
import { EXPECTED, VECTORS, assertSameBytes, pageDataOf } from '../helpers.js';

const ACPI_TEST = join(VECTORS, 'acpi', 'acpi-test');
const ACPI_CLH = join(VECTORS, 'acpi', 'acpi-clh');


function snapshot(dir: string): string[] {
  return [`. ${statSync(dir).mtimeMs}`, ...readdirSync(dir).map((n) => `${n} ${statSync(join(dir, n)).mtimeMs} ${statSync(join(dir, n)).size}`)];
}

/**
 * Runs loadAcpiDir with os.tmpdir() pointed at a private, empty folder (so parallel test files cannot interfere)
 * and checks that the call changed nothing in the ACPI folder and left nothing in the temp folder.
 */
function loadClean(dir: string, opts?: { iasl?: string }): AcpiImage {
  const before = snapshot(dir);
  const privateTmp = mkdtempSync(join(tmpdir(), 'igvmkit-acpitmp-'));
  const saved = process.env['TMPDIR'];
  process.env['TMPDIR'] = privateTmp;
  try {
    assert.equal(tmpdir(), privateTmp);
    return loadAcpiDir(dir, opts);
  } finally {
    if (saved === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = saved;
    const left = readdirSync(privateTmp);
    rmSync(privateTmp, { recursive: true, force: true });
    assert.deepEqual(snapshot(dir), before, 'the ACPI folder is unchanged');
    assert.deepEqual(left, [], 'no temp dirs (iasl work dirs, "-new" dirs) left in os.tmpdir()');
  }
}

function scratchCopy(t: { after(fn: () => void): void }, from: string, sub: string): string {
  const root = mkdtempSync(join(tmpdir(), 'igvmkit-acpitest-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, sub);
  cpSync(from, dir, { recursive: true });
  // The shared vectors are read-only and cpSync keeps the modes: make the copy writable (and removable).
  chmodSync(dir, 0o755);
  for (const n of readdirSync(dir)) chmodSync(join(dir, n), 0o644);
  return dir;
}

/** Every produced page equals the file's PAGE_DATA; every other page of [0xA0000, acpiEnd) in the file is zero. */
function assertMatchesFile(img: AcpiImage, igvm: string, regionStart: number): void {
  const file = pageDataOf(join(EXPECTED, igvm));
  for (const [gpa, bytes] of img.pages) {
    const inFile = file.get(gpa);
    assert.ok(inFile, `${igvm} has PAGE_DATA at 0x${gpa.toString(16)}`);
    const page = new Uint8Array(4096);
    page.set(bytes);
    assertSameBytes(page, inFile, `${igvm} page 0x${gpa.toString(16)}`);
  }
  let zero = 0;
  for (let gpa = regionStart; gpa < img.acpiEnd; gpa += 0x1000) {
    if (img.pages.has(gpa)) continue;
    const inFile = file.get(gpa);
    assert.ok(inFile, `${igvm} emits ACPI-region page 0x${gpa.toString(16)}`);
    assert.ok(inFile.every((b) => b === 0), `${igvm} page 0x${gpa.toString(16)} is zero`);
    zero++;
  }
  assert.ok(zero > 0);
}

test('acpi-test: 33 pages, acpi_end 0x120000 and the table addresses of §10.2, equal to T_bzImage.igvm', () => {
  const img = loadClean(ACPI_TEST);
  assert.equal(img.pages.size, 33);
  assert.equal(img.acpiEnd, 0x120000);
  assert.equal(img.rsdp, 0xe0000);
  assert.equal(img.source, ACPI_TEST);
  assert.deepEqual(Object.fromEntries(img.tables), {
    RSDP: 0xe0000,
    XSDT: 0x100000,
    APIC: 0x101000,
    DSDT: 0x101050,
    FACP: 0x11eea8,
    FACS: 0x11efbc,
    TPM2: 0x11effc,
  });
  assert.equal(img.pages.get(0xe0000)!.length, 36);
  const xsdt = img.pages.get(0x100000)!;
  assert.equal(xsdt.length, 60);
  const xv = new DataView(xsdt.buffer, xsdt.byteOffset, xsdt.byteLength);
  assert.deepEqual([36, 44, 52].map((o) => xv.getBigUint64(o, true)), [0x101000n, 0x11eea8n, 0x11effcn]);
  assertMatchesFile(img, 'T_bzImage.igvm', 0xa0000);
  // -pvalidate_opt 0 emits [0, acpi_end) with the same ACPI pages.
  assertMatchesFile(img, 'T_bzImageNoOpt.igvm', 0);
});

test('acpi-clh: 10 pages, acpi_end 0x109000, equal to T_bzImage_x64_clh.igvm', () => {
  const img = loadClean(ACPI_CLH);
  assert.equal(img.pages.size, 10);
  assert.equal(img.acpiEnd, 0x109000);
  assert.deepEqual(Object.fromEntries(img.tables), {
    RSDP: 0xe0000,
    XSDT: 0x100000,
    APIC: 0x101000,
    DSDT: 0x101050,
    FACP: 0x108b02,
    FACS: 0x108c16,
    MCFG: 0x108c56,
    TPM2: 0x108d22,
  });
  assertMatchesFile(img, 'T_bzImage_x64_clh.igvm', 0xa0000);
});

test('a folder whose path contains "dsl" works (the original replaced "dsl" in the whole path)', (t) => {
  assert.equal(amlNameFor('XSDT_sample.dsl'), 'XSDT_sample.aml');
  assert.equal(amlNameFor('mydsl.dsl'), 'myaml.aml');
  const dir = scratchCopy(t, ACPI_TEST, 'dsl-tables.dsl');
  const img = loadClean(dir);
  const ref = loadAcpiDir(ACPI_TEST);
  assert.deepEqual([...img.pages.keys()], [...ref.pages.keys()]);
  for (const [gpa, page] of ref.pages) assertSameBytes(img.pages.get(gpa)!, page, `page 0x${gpa.toString(16)}`);
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.aml')), [], 'no .aml written into the folder');
});

test('iasl runs only in temp dirs under os.tmpdir(), which are gone afterwards', (t) => {
  const bin = mkdtempSync(join(tmpdir(), 'igvmkit-acpitest-'));
  t.after(() => rmSync(bin, { recursive: true, force: true }));
  const log = join(bin, 'cwd.log');
  const wrapper = join(bin, 'iasl-wrapper');
  writeFileSync(wrapper, `#!/bin/sh\npwd >> '${log}'\nexec iasl "$@"\n`);
  chmodSync(wrapper, 0o755);
  const img = loadClean(ACPI_CLH, { iasl: wrapper });
  assert.equal(img.pages.size, 10);
  const cwds = readFileSync(log, 'utf8').trim().split('\n');
  assert.equal(cwds.length, 8 + 2, 'one run per .dsl, then FACP and XSDT');
  const dirs = [...new Set(cwds)];
  assert.equal(dirs.length, 2, 'a work dir for the sources and one for the patched tables');
  assert.match(dirs[0]!, /\/igvmkit-acpitmp-[^/]+\/igvmkit-iasl-[^/]+$/);
  assert.match(dirs[1]!, /\/igvmkit-acpitmp-[^/]+\/igvmkit-iasl-new-[^/]+$/);
  for (const d of dirs) assert.throws(() => statSync(d), /ENOENT/);
});

test('a missing iasl is iasl-missing with the install hint', () => {
  for (const iasl of ['/nonexistent/iasl', 'igvmkit-no-such-iasl-binary']) {
    assert.throws(
      () => loadClean(ACPI_TEST, { iasl }),
      (e: unknown) => {
        assert.ok(e instanceof IgvmError);
        assert.equal(e.code, 'iasl-missing');
        assert.equal(e.message, "iasl not found: -acpi_dir DIR needs the ACPI compiler; install it with 'apt-get install acpica-tools'");
        assert.match(e.message, /acpica-tools/);
        assert.equal(e.file, ACPI_TEST);
        return true;
      },
    );
  }
});

test('not a folder, a missing folder and a folder without .dsl files are IgvmErrors', (t) => {
  const zip = join(VECTORS, 'acpi', 'acpi.zip');
  assert.throws(() => loadAcpiDir(zip), (e: unknown) => e instanceof IgvmError && e.code === 'acpi-dir' && e.file === zip && /not a folder/.test(e.message));
  assert.throws(() => loadAcpiDir('/nonexistent/acpi'), (e: unknown) => e instanceof IgvmError && e.code === 'acpi-dir');
  const root = mkdtempSync(join(tmpdir(), 'igvmkit-acpitest-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(join(root, 'notes.txt'), 'x');
  mkdirSync(join(root, 'sub'));
  assert.throws(() => loadClean(root), (e: unknown) => e instanceof IgvmError && e.code === 'acpi-no-dsl');
  mkdirSync(join(root, 'dir.dsl'));
  assert.throws(() => loadClean(root), (e: unknown) => e instanceof IgvmError && e.code === 'acpi-dsl-read' && /dir\.dsl$/.test(e.file ?? ''));
});

test('a source iasl cannot compile: acpi-no-aml with the iasl output in the message', (t) => {
  const dir = scratchCopy(t, ACPI_TEST, 'acpi');
  writeFileSync(join(dir, 'bad.dsl'), 'this is not ACPI\n');
  assert.throws(
    () => loadClean(dir),
    (e: unknown) => {
      assert.ok(e instanceof IgvmError);
      assert.equal(e.code, 'acpi-no-aml');
      assert.equal(e.file, join(dir, 'bad.dsl'));
      assert.match(e.message, /^iasl produced no AML \(expected bad\.aml\); iasl output:\n/);
      assert.match(e.message, /Intel ACPI Component Architecture|bad\.dsl/);
      return true;
    },
  );
});

test('a table igvmgen does not accept (an SSDT) is an error naming the file and the signature', (t) => {
  const dir = scratchCopy(t, ACPI_CLH, 'acpi');
  writeFileSync(join(dir, 'extra.dsl'), 'DefinitionBlock ("", "SSDT", 2, "TEST", "TESTTBL", 1)\n{\n}\n');
  assert.throws(
    () => loadClean(dir),
    (e: unknown) => e instanceof IgvmError && e.code === 'acpi-unknown-table' && /extra\.dsl: ACPI table signature "SSDT"/.test(e.describe()),
  );
});
