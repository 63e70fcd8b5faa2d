// Tests for igvmgen's built-in ACPI snapshot acpi.zip (IGVMGEN.md §10.1): pages, hash, and the bytes in the original's output.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { IgvmError } from '../../src/errors.js';
import { decodeAcpiZip, decodeBase64Text } from '../../src/igvmgen/acpi-zip.js';
import { EXPECTED, VECTORS, assertSameBytes, pageDataOf } from '../helpers.js';

const ZIP = join(VECTORS, 'acpi', 'acpi.zip');
const zipBytes = (): Uint8Array => new Uint8Array(readFileSync(ZIP));


const EXPECTED_GPAS = [0xe0000, 0x100000, ...Array.from({ length: 31 }, (_, i) => 0x101000 + i * 0x1000), 0x1ff000];

test('acpi.zip decodes to the 34 built-in pages (GPAs and SHA-256 of §10.1)', () => {
  const img = decodeAcpiZip(zipBytes(), ZIP);
  assert.equal(img.pages.size, 34);
  const gpas = [...img.pages.keys()];
  assert.deepEqual(gpas, EXPECTED_GPAS);
  const h = createHash('sha256');
  for (const gpa of gpas) {
    const page = img.pages.get(gpa)!;
    assert.equal(page.length, 4096);
    h.update(page);
  }
  assert.equal(h.digest('hex'), '5a4c9532ac2077e29d068acb33459c770308b9f847477101474cd8c44d233a53');
  assert.equal(img.acpiEnd, 0x200000);
  assert.equal(img.rsdp, 0xe0000);
  assert.equal(img.source, ZIP);
});

test('acpi.zip table map follows RSDP → XSDT → FACP as §10.1 describes', () => {
  const img = decodeAcpiZip(zipBytes());
  assert.equal(img.source, 'acpi.zip');
  assert.deepEqual(Object.fromEntries(img.tables), {
    RSDP: 0xe0000,
    XSDT: 0x100000,
    FACP: 0x101000,
    FACS: 0x101114,
    DSDT: 0x1011b8,
    OEM0: 0x101154,
    APIC: 0x11f292,
  });
  const rsdp = img.pages.get(0xe0000)!;
  const v = new DataView(rsdp.buffer, rsdp.byteOffset, rsdp.byteLength);
  assert.equal(Buffer.from(rsdp.subarray(9, 15)).toString('latin1'), 'VRTUAL');
  assert.equal(rsdp[15], 2);
  assert.equal(v.getUint32(16, true), 0x100000);
  assert.equal(v.getBigUint64(24, true), 0x100000n);
  const xsdt = img.pages.get(0x100000)!;
  assert.equal(new DataView(xsdt.buffer, xsdt.byteOffset).getUint32(4, true), 60);
});

test('the page at 0x1FF000 holds only the u32 0x1FE000 at offset 16', () => {
  const page = decodeAcpiZip(zipBytes()).pages.get(0x1ff000)!;
  const expected = new Uint8Array(4096);
  new DataView(expected.buffer).setUint32(16, 0x1fe000, true);
  assertSameBytes(page, expected, 'page 0x1ff000');
});

test('every acpi.zip page equals the PAGE_DATA at its GPA in the original T_bzImage64.igvm', () => {
  const img = decodeAcpiZip(zipBytes());
  const file = pageDataOf(join(EXPECTED, 'T_bzImage64.igvm'));
  for (const [gpa, page] of img.pages) {
    const inFile = file.get(gpa);
    assert.ok(inFile, `PAGE_DATA at 0x${gpa.toString(16)}`);
    assertSameBytes(page, inFile, `page 0x${gpa.toString(16)}`);
  }
  // The rest of the emitted ACPI region [0xA0000, 0x200000) is zero in the file.
  for (const [gpa, page] of file) {
    if (gpa >= 0xa0000 && gpa < 0x200000 && !img.pages.has(gpa)) assert.ok(page.every((b) => b === 0), `zero page 0x${gpa.toString(16)}`);
  }
});

test('base64 decoding skips non-alphabet characters and stops at padding, as Python b64decode', () => {
  const text = zipBytes();
  const wrapped = Buffer.from(Buffer.from(text).toString('latin1').replace(/(.{76})/g, '$1\r\n') + '\n');
  assertSameBytes(decodeBase64Text(new Uint8Array(wrapped)), decodeBase64Text(text), 'wrapped base64');
  assert.deepEqual([...decodeBase64Text(new Uint8Array(Buffer.from('aGk=')))], [0x68, 0x69]);
  // Expected values from Python 3.11 base64.b64decode:
  assert.deepEqual([...decodeBase64Text(new Uint8Array(Buffer.from('aGVsbG8=')))], [...Buffer.from('hello')]);
  assert.deepEqual([...decodeBase64Text(new Uint8Array(Buffer.from('aGVsbG8=ignored')))], [...Buffer.from('hello')], 'data ends at the completing "="');
  assert.deepEqual([...decodeBase64Text(new Uint8Array(Buffer.from('aG=Vs')))], [...Buffer.from('hel')], 'a "=" that does not complete a quad is skipped');
  assert.deepEqual([...decodeBase64Text(new Uint8Array(Buffer.from('aGk==')))], [0x68, 0x69]);
  for (const bad of ['aGVsbG8', 'aGVsb', 'eJzLSM='])
    assert.throws(() => decodeBase64Text(new Uint8Array(Buffer.from(bad))), (e: unknown) => e instanceof IgvmError && e.code === 'acpi-zip-base64', bad);
});

/** acpi.zip-format bytes for the given pages (a pickle of {gpa: bytes} written by hand). */
function makeZip(pages: [number, Uint8Array][]): Uint8Array {
  const parts: Buffer[] = [Buffer.from('\x80\x04}(', 'latin1')];
  for (const [gpa, data] of pages) {
    const head = Buffer.alloc(10);
    head.write('J', 0, 'latin1');
    head.writeInt32LE(gpa, 1);
    head.write('B', 5, 'latin1');
    head.writeUInt32LE(data.length, 6);
    parts.push(head, Buffer.from(data));
  }
  parts.push(Buffer.from('u.', 'latin1'));
  return new Uint8Array(Buffer.from(deflateSync(Buffer.concat(parts)).toString('base64')));
}

function zipError(pages: [number, Uint8Array][], code: string, message: RegExp): void {
  assert.throws(
    () => decodeAcpiZip(makeZip(pages), 'my.zip'),
    (e: unknown) => e instanceof IgvmError && e.code === code && message.test(e.message) && e.file === 'my.zip',
  );
}

test('hand-made snapshots: a valid one decodes; bad page sizes, alignment, range and a missing RSDP are IgvmErrors', () => {
  const rsdp = new Uint8Array(4096);
  rsdp.set(Buffer.from('RSD PTR '));
  const img = decodeAcpiZip(makeZip([[0x100000, new Uint8Array(4096)], [0xe0000, rsdp]]));
  assert.deepEqual([...img.pages.keys()], [0xe0000, 0x100000]);
  assert.equal(img.acpiEnd, 0x200000);
  assert.deepEqual([...img.tables], [['RSDP', 0xe0000]]);
  zipError([[0xe0000, new Uint8Array(4095)]], 'acpi-zip-page', /page at 0xe0000 has 4095 bytes, expected 4096/);
  zipError([[0xe0000, rsdp], [0x100800, new Uint8Array(4096)]], 'acpi-zip-page', /0x100800 is not 4 KiB aligned/);
  zipError([[0xe0000, rsdp], [0x200000, new Uint8Array(4096)]], 'acpi-zip-page', /outside \[0xe0000, 0x200000\)/);
  zipError([[0x100000, new Uint8Array(4096)]], 'acpi-zip-rsdp', /no page at the RSDP address/);
});

test('corrupt acpi.zip text is an IgvmError', () => {
  const text = zipBytes();
  const cut = text.subarray(0, 1000);
  assert.throws(() => decodeAcpiZip(cut, 'cut.zip'), (e: unknown) => e instanceof IgvmError && e.file === 'cut.zip');
  assert.throws(() => decodeAcpiZip(new Uint8Array(Buffer.from('not base64 at all!'))), IgvmError);
  const notPickle = new Uint8Array(Buffer.from(deflateSync(Buffer.from('\x80\x04]', 'latin1')).toString('base64')));
  assert.throws(() => decodeAcpiZip(notPickle), (e: unknown) => e instanceof IgvmError && e.code === 'pickle-opcode' && /offset 2/.test(e.message));
});
