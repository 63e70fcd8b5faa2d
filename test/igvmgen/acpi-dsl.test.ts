// Tests for the pure -acpi_dir logic (IGVMGEN.md §10.2) with a fake compiler: naming, placement, patches, packing, errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmError } from '../../src/errors.js';
import { buildAcpiFromDsl, packAcpiPages, patchFacpText, patchXsdtText, xsdtEntryLines, type DslFile } from '../../src/igvmgen/acpi-dsl.js';
import { assertSameBytes } from '../helpers.js';

function table(sig: string, length: number, headerLength = length): Uint8Array {
  const t = new Uint8Array(length);
  for (let i = 0; i < length; i++) t[i] = (i * 7 + sig.charCodeAt(0)) & 0xff;
  t.set(Buffer.from(sig, 'latin1'));
  new DataView(t.buffer).setUint32(4, headerLength, true);
  return t;
}

function rsdp(xsdt: bigint): Uint8Array {
  const t = new Uint8Array(36);
  t.set(Buffer.from('RSD PTR '));
  t[15] = 2;
  new DataView(t.buffer).setUint32(20, 36, true);
  new DataView(t.buffer).setBigUint64(24, xsdt, true);
  return t;
}

const FACP_DSL = [
  '[000h 0000   4]                    Signature : "FACP"',
  '[024h 0036   4]                 FACS Address : 0',
  '[028h 0040   4]                 DSDT Address : 0',
  '[084h 0132   8]                 FACS Address : 0',
  '[08Ch 0140   8]                 DSDT Address : 0',
  '',
].join('\n');
const XSDT_DSL = '[000h 0000   4]                    Signature : "XSDT"\n[004h 0004   4]                 Table Length : 0000003C\n\n';

/**
 * A stand-in for iasl: the first call returns the given AML per file; later calls "compile" the patched FACP
 * (addresses parsed from the text into the 32-bit fields) and XSDT (one 8-byte entry per "ACPI Table Address" line).
 */
class FakeIasl {
  readonly calls: DslFile[][] = [];
  constructor(
    private readonly amls: Map<string, Uint8Array | undefined>,
    private readonly patchedMissing = false,
  ) {}
  compile = (files: DslFile[]): Map<string, Uint8Array | undefined> => {
    this.calls.push(files.map((f) => ({ ...f })));
    const out = new Map<string, Uint8Array | undefined>();
    for (const f of files) {
      if (this.calls.length === 1) out.set(f.name, this.amls.get(f.name));
      else if (this.patchedMissing) out.set(f.name, undefined);
      else if (f.text.includes('"FACP"')) {
        const t = table('FACP', 276);
        const num = (re: RegExp): number => parseInt(re.exec(f.text)![1]!, 16);
        new DataView(t.buffer).setUint32(36, num(/FACS Address : 0x([0-9a-f]+)/), true);
        new DataView(t.buffer).setUint32(40, num(/DSDT Address : 0x([0-9a-f]+)/), true);
        out.set(f.name, t);
      } else {
        const addrs = [...f.text.matchAll(/ACPI Table Address \d+ : ([0-9a-f]+)/g)].map((m) => BigInt('0x' + m[1]!));
        const t = table('XSDT', 36 + 8 * addrs.length);
        addrs.forEach((a, i) => new DataView(t.buffer).setBigUint64(36 + 8 * i, a, true));
        out.set(f.name, t);
      }
    }
    return out;
  };
}

interface Setup {
  listing: string[];
  amls: Map<string, Uint8Array | undefined>;
  texts: Map<string, string>;
}

/** A folder like acpi-test: RSDP, XSDT, FACP, FACS, DSDT, APIC and a non-DSL file. */
function standard(dsdtLength = 5000): Setup {
  const amls = new Map<string, Uint8Array | undefined>([
    ['rsdp.dsl', rsdp(0n)],
    ['XSDT.dsl', table('XSDT', 36)],
    ['FACP.dsl', table('FACP', 276)],
    ['FACS.dsl', table('FACS', 64)],
    ['DSDT.dsl', table('DSDT', dsdtLength)],
    ['APIC.dsl', table('APIC', 80)],
  ]);
  const texts = new Map([...amls.keys()].map((n) => [n, `/* ${n} */\n`]));
  texts.set('FACP.dsl', FACP_DSL);
  texts.set('XSDT.dsl', XSDT_DSL);
  return { listing: [...amls.keys(), 'README.txt'], amls, texts };
}

function build(s: Setup, fake = new FakeIasl(s.amls)) {
  return { img: buildAcpiFromDsl(s.listing, s.texts, fake.compile, '/acpi'), fake };
}

function throwsIgvm(fn: () => unknown, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IgvmError, `IgvmError, got ${String(e)}`);
    assert.equal(e.code, code);
    // The file is in e.file (not repeated in the message); describe() shows both.
    assert.match(e.describe(), message);
    if (e.file !== undefined) assert.ok(!e.message.includes(e.file.split('/').pop() ?? '\0') || /listed file/.test(e.message), `message repeats the file: ${e.message}`);
    return true;
  });
}

test('layout: RSDP and XSDT alone, sub-tables sorted and packed from XSDT + 0x1000 with no alignment', () => {
  const s = standard();
  const { img, fake } = build(s);
  assert.deepEqual(Object.fromEntries(img.tables), {
    RSDP: 0xe0000,
    XSDT: 0x100000,
    APIC: 0x101000,
    DSDT: 0x101050,
    FACP: 0x1023d8,
    FACS: 0x1024ec,
  });
  assert.deepEqual([...img.pages.keys()], [0xe0000, 0x100000, 0x101000, 0x102000]);
  assert.equal(img.acpiEnd, 0x103000);
  assert.equal(img.rsdp, 0xe0000);
  assert.equal(img.source, '/acpi');
  // RSDP verbatim and short; XSDT recompiled with APIC and FACP; only the last page is padded.
  assertSameBytes(img.pages.get(0xe0000)!, s.amls.get('rsdp.dsl')!, 'RSDP page');
  const xsdt = img.pages.get(0x100000)!;
  assert.equal(xsdt.length, 52);
  const xv = new DataView(xsdt.buffer, xsdt.byteOffset);
  assert.deepEqual([xv.getBigUint64(36, true), xv.getBigUint64(44, true)], [0x101000n, 0x1023d8n]);
  assert.equal(fake.calls.length, 2);
  const patchedFacp = table('FACP', 276);
  new DataView(patchedFacp.buffer).setUint32(36, 0x1024ec, true);
  new DataView(patchedFacp.buffer).setUint32(40, 0x101050, true);
  const stream = Buffer.concat([s.amls.get('APIC.dsl')!, s.amls.get('DSDT.dsl')!, patchedFacp, s.amls.get('FACS.dsl')!]);
  assertSameBytes(img.pages.get(0x101000)!, new Uint8Array(stream.subarray(0, 4096)), 'page 0x101000');
  const last = new Uint8Array(4096);
  last.set(stream.subarray(4096));
  assertSameBytes(img.pages.get(0x102000)!, last, 'page 0x102000');
});

test('compile calls and text patches: FACP addresses as lower-case 0x hex plus a newline; XSDT entry lines with a tab and two spaces', () => {
  const s = standard();
  const fake = new FakeIasl(s.amls);
  buildAcpiFromDsl(s.listing, s.texts, fake.compile, '/acpi');
  assert.equal(fake.calls.length, 2);
  assert.deepEqual(
    fake.calls[0]!.map((f) => f.name),
    ['rsdp.dsl', 'XSDT.dsl', 'FACP.dsl', 'FACS.dsl', 'DSDT.dsl', 'APIC.dsl'],
  );
  assert.deepEqual(
    fake.calls[1]!.map((f) => f.name),
    ['FACP.dsl', 'XSDT.dsl'],
  );
  assert.equal(
    fake.calls[1]![0]!.text,
    [
      '[000h 0000   4]                    Signature : "FACP"',
      '[024h 0036   4]                 FACS Address : 0x1024ec',
      '[028h 0040   4]                 DSDT Address : 0x101050',
      '[084h 0132   8]                 FACS Address : 0x1024ec',
      '[08Ch 0140   8]                 DSDT Address : 0x101050',
      '',
      '',
    ].join('\n'),
  );
  assert.equal(fake.calls[1]![1]!.text, XSDT_DSL + '\n[24h 36  8]\tACPI Table Address 0 : 101000\n[2ch 44  8]\tACPI Table Address 1 : 1023d8');
});

test('patch helpers: exact strings, the "00000000" spelling quirk, CRLF read as LF', () => {
  assert.deepEqual(xsdtEntryLines([0x101000, 0x11eea8, 0x11effc]), [
    '[24h 36  8]\tACPI Table Address 0 : 101000',
    '[2ch 44  8]\tACPI Table Address 1 : 11eea8',
    '[34h 52  8]\tACPI Table Address 2 : 11effc',
  ]);
  assert.equal(patchXsdtText('a\r\nb\rc\n', [0xabc]), 'a\nb\nc\n\n[24h 36  8]\tACPI Table Address 0 : abc');
  assert.equal(patchXsdtText('x', []), 'x\n');
  assert.equal(patchFacpText('DSDT Address : 00000000\r\nFACS Address : 0\r\n', 0x101050, 0x11efbc), 'DSDT Address : 0x1010500000000\nFACS Address : 0x11efbc\n\n');
  assert.equal(patchFacpText('no fields $& $1', 1, 2), 'no fields $& $1\n');
});

test('an RSDP with a non-zero XsdtAddress moves the XSDT only when listed before it; sub-tables always follow it', () => {
  const before = standard();
  before.amls.set('rsdp.dsl', rsdp(0x180000n));
  const a = build(before).img;
  assert.equal(a.tables.get('XSDT'), 0x180000);
  assert.equal(a.tables.get('APIC'), 0x181000);
  assert.deepEqual([...a.pages.keys()], [0xe0000, 0x180000, 0x181000, 0x182000]);
  assert.equal(a.acpiEnd, 0x183000);
  assertSameBytes(a.pages.get(0xe0000)!, before.amls.get('rsdp.dsl')!, 'RSDP bytes verbatim');

  const after = standard();
  after.amls.set('rsdp.dsl', rsdp(0x180000n));
  after.listing = ['XSDT.dsl', 'rsdp.dsl', 'FACP.dsl', 'FACS.dsl', 'DSDT.dsl', 'APIC.dsl'];
  const b = build(after).img;
  assert.equal(b.tables.get('XSDT'), 0x100000);
  assert.equal(b.tables.get('APIC'), 0x181000);
  assert.deepEqual([...b.pages.keys()], [0xe0000, 0x100000, 0x181000, 0x182000]);
});

test('an XSDT that lands on a sub-table address replaces it (sorted-name order, as the original dict)', () => {
  const s = standard();
  s.amls.set('rsdp.dsl', rsdp(0xff000n));
  s.listing = ['XSDT.dsl', 'rsdp.dsl', 'FACP.dsl', 'FACS.dsl', 'DSDT.dsl', 'APIC.dsl'];
  const { img } = build(s);
  assert.equal(img.tables.get('XSDT'), 0x100000);
  assert.equal(img.tables.has('APIC'), false);
  assert.equal(Buffer.from(img.pages.get(0x100000)!.subarray(0, 4)).toString('latin1'), 'XSDT');
});

test('a last table ending exactly on a page boundary adds an all-zero page', () => {
  const s = standard(8192 - 80 - 276 - 64);
  const { img } = build(s);
  assert.equal(img.tables.get('FACS'), 0x103000 - 64);
  assert.deepEqual([...img.pages.keys()], [0xe0000, 0x100000, 0x101000, 0x102000, 0x103000]);
  assert.equal(img.pages.get(0x102000)!.length, 4096);
  assertSameBytes(img.pages.get(0x103000)!, new Uint8Array(4096), 'extra zero page');
  assert.equal(img.acpiEnd, 0x104000);
});

test('packAcpiPages: short pages stay short, a page boundary leaves an empty entry, overlaps and misalignment are errors', () => {
  const pages = packAcpiPages(
    new Map([
      [0xe0000, new Uint8Array(36).fill(1)],
      [0x1000 * 0x101, new Uint8Array(4096).fill(2)],
      [0x1000 * 0x103, new Uint8Array(10).fill(3)],
    ]),
  );
  assert.deepEqual(
    [...pages].map(([g, p]) => [g, p.length]),
    [
      [0xe0000, 36],
      [0x101000, 4096],
      [0x102000, 0],
      [0x103000, 4096],
    ],
  );
  assert.deepEqual([...pages.get(0x103000)!.subarray(0, 11)], [3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0]);
  throwsIgvm(() => packAcpiPages(new Map([[0x1010, new Uint8Array(4)]])), 'acpi-layout', /not page-aligned/);
  throwsIgvm(
    () =>
      packAcpiPages(
        new Map([
          [0x1000, new Uint8Array(4096)],
          [0x1800, new Uint8Array(10)],
        ]),
      ),
    'acpi-layout',
    /already filled/,
  );
  throwsIgvm(() => packAcpiPages(new Map()), 'acpi-layout', /no ACPI tables/);
});

test('an unknown signature is an error naming the file and the signature', () => {
  const s = standard();
  s.listing.push('ssdt.dsl');
  s.amls.set('ssdt.dsl', table('SSDT', 40));
  s.texts.set('ssdt.dsl', '');
  throwsIgvm(() => build(s), 'acpi-unknown-table', /ssdt\.dsl: ACPI table signature "SSDT" is not one igvmgen accepts/);
});

test('missing FACS, FACP, DSDT or XSDT are errors', () => {
  for (const gone of ['FACS', 'FACP', 'DSDT']) {
    const s = standard();
    s.listing = s.listing.filter((n) => n !== `${gone}.dsl`);
    throwsIgvm(() => build(s), 'acpi-missing-table', new RegExp(`needs FACP, DSDT and FACS tables; missing ${gone} \\[`));
  }
  const s = standard();
  s.listing = s.listing.filter((n) => n !== 'XSDT.dsl');
  throwsIgvm(() => build(s), 'acpi-missing-table', /needs an XSDT/);
});

test('a sub-table whose header Length differs from its AML size is an error', () => {
  const s = standard();
  s.amls.set('APIC.dsl', table('APIC', 80, 81));
  throwsIgvm(() => build(s), 'acpi-length-mismatch', /APIC\.dsl: APIC header Length is 81 but iasl produced 80 bytes/);
  // The RSDP and XSDT lengths are not checked.
  const t = standard();
  t.amls.set('XSDT.dsl', table('XSDT', 36, 999));
  assert.equal(build(t).img.tables.get('XSDT'), 0x100000);
});

test('missing or short AML, missing texts and empty listings are errors', () => {
  const s = standard();
  s.amls.set('DSDT.dsl', undefined);
  throwsIgvm(() => build(s), 'acpi-no-aml', /DSDT\.dsl: iasl produced no AML \[acpi-no-aml\]$/);
  const p = standard();
  throwsIgvm(() => build(p, new FakeIasl(p.amls, true)), 'acpi-no-aml', /FACP\.dsl: iasl produced no AML for the patched FACP table/);
  const short = standard();
  short.amls.set('APIC.dsl', new Uint8Array(10));
  throwsIgvm(() => build(short), 'acpi-short-aml', /APIC\.dsl: AML is 10 bytes/);
  const noText = standard();
  noText.texts.delete('APIC.dsl');
  throwsIgvm(() => build(noText), 'acpi-dsl-missing', /APIC\.dsl/);
  throwsIgvm(() => buildAcpiFromDsl(['a.txt', 'b.DSL'], new Map(), () => new Map(), '/x'), 'acpi-no-dsl', /\/x: no \.dsl files/);
});

test('two files with the same signature: the later one in the listing wins', () => {
  const s = standard();
  s.listing.push('APIC2.dsl');
  s.amls.set('APIC2.dsl', table('APIC', 100));
  s.texts.set('APIC2.dsl', '');
  const { img } = build(s);
  assert.equal(img.tables.get('DSDT'), 0x101000 + 100);
  assertSameBytes(img.pages.get(0x101000)!.subarray(0, 100), s.amls.get('APIC2.dsl')!, 'APIC2 bytes');
});
