// AML encoder (ACPI 6.3 §20.2): PkgLength, integers, names, EISAID, resource descriptors; byte-for-byte against iasl-compiled ASL.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as aml from '../../src/acpi/aml.js';
import { encodeDsdt, sum8 } from '../../src/acpi/tables.js';
import { defaultDsdtAml } from '../../src/acpi/default.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (...xs: number[]) => Uint8Array.from(xs);

/** Independent PkgLength decoder (ACPI 6.3 §20.2.4): returns [value, encoded size]. */
function decodePkgLength(b: Uint8Array, at = 0): [number, number] {
  const lead = b[at] ?? 0;
  const follow = lead >> 6;
  if (follow === 0) return [lead & 0x3f, 1];
  let v = lead & 0x0f;
  for (let i = 0; i < follow; i++) v |= (b[at + 1 + i] ?? 0) << (4 + 8 * i);
  return [v, 1 + follow];
}

test('PkgLength encodings at the 1/2/3/4-byte boundaries', () => {
  const cases: [number, number[]][] = [
    [0, [0x00]],
    [63, [0x3f]],
    [64, [0x40, 0x04]],
    [4095, [0x4f, 0xff]],
    [4096, [0x80, 0x00, 0x01]],
    [1048575, [0x8f, 0xff, 0xff]],
    [1048576, [0xc0, 0x00, 0x00, 0x01]],
    [0x0fffffff, [0xcf, 0xff, 0xff, 0xff]],
  ];
  for (const [value, expected] of cases) {
    const enc = aml.encodePkgLength(value);
    assert.deepEqual([...enc], expected, `PkgLength(${value})`);
    assert.deepEqual(decodePkgLength(enc), [value, expected.length], `decode PkgLength(${value})`);
    // Bits 5–4 of a multi-byte lead byte are reserved zero.
    if (expected.length > 1) assert.equal((enc[0] ?? 0) & 0x30, 0);
  }
  assert.throws(() => aml.encodePkgLength(0x10000000), RangeError);
  assert.throws(() => aml.encodePkgLength(-1), RangeError);
  assert.throws(() => aml.encodePkgLength(1.5), RangeError);
});

test('pkg() counts its own bytes and picks the smallest encoding', () => {
  // [body length, expected PkgLength size]: totals straddle 63, 4095 and 1048575.
  const cases: [number, number][] = [
    [0, 1],
    [62, 1],
    [63, 2],
    [4093, 2],
    [4094, 3],
    [1048572, 3],
    [1048573, 4],
  ];
  for (const [len, size] of cases) {
    const out = aml.pkg(new Uint8Array(len));
    const [value, encSize] = decodePkgLength(out);
    assert.equal(encSize, size, `body ${len}: PkgLength size`);
    assert.equal(value, len + size, `body ${len}: PkgLength value`);
    assert.equal(out.length, len + size);
  }
});

test('integers use the shortest opcode', () => {
  const cases: [number | bigint, string][] = [
    [0, '00'],
    [1, '01'],
    [2, '0a02'],
    [0xff, '0aff'],
    [0x100, '0b0001'],
    [0xffff, '0bffff'],
    [0x10000, '0c00000100'],
    [0xffffffff, '0cffffffff'],
    [0x100000000, '0e0000000001000000'],
    [0xffffffffffffffffn, '0effffffffffffffff'],
  ];
  for (const [v, h] of cases) assert.equal(hex(aml.int(v)), h, `int(${v})`);
  assert.throws(() => aml.int(-1), RangeError);
  assert.throws(() => aml.int(0x10000000000000000n), RangeError);
});

test('EISAID compression', () => {
  assert.equal(aml.eisaId('PNP0501'), 0x0105d041);
  assert.equal(aml.eisaId('PNP0A03'), 0x030ad041);
  assert.equal(aml.eisaId('PNP0C0F'), 0x0f0cd041);
  assert.throws(() => aml.eisaId('pnp0501'), RangeError);
  assert.throws(() => aml.eisaId('PNP050'), RangeError);
  // As an AML integer it is a DWord: 0C 41 D0 05 01.
  assert.equal(hex(aml.int(aml.eisaId('PNP0501'))), '0c41d00501');
});

test('name segments are padded with "_"; name strings get root, parent, dual and multi prefixes', () => {
  assert.equal(Buffer.from(aml.nameSeg('_S5')).toString('latin1'), '_S5_');
  assert.equal(Buffer.from(aml.nameSeg('A')).toString('latin1'), 'A___');
  assert.equal(Buffer.from(aml.nameSeg('COM1')).toString('latin1'), 'COM1');
  assert.throws(() => aml.nameSeg('com1'), RangeError);
  assert.throws(() => aml.nameSeg('1ABC'), RangeError);
  assert.throws(() => aml.nameSeg('ABCDE'), RangeError);
  assert.equal(hex(aml.nameString('\\_SB')), '5c5f53425f');
  assert.equal(hex(aml.nameString('\\')), '5c00');
  assert.equal(hex(aml.nameString('^^X')), '5e5e585f5f5f');
  assert.equal(Buffer.from(aml.nameString('_SB.COM1')).toString('latin1'), '\x2e_SB_COM1');
  assert.equal(Buffer.from(aml.nameString('\\_SB.PCI0.S08')).toString('latin1'), '\\\x2f\x03_SB_PCI0S08_');
});

test('strings, packages, resource descriptors', () => {
  assert.equal(hex(aml.str('hi')), '0d686900');
  assert.equal(hex(aml.str('')), '0d00');
  assert.throws(() => aml.str('\u00e9'), RangeError);
  assert.equal(hex(aml.name('_S5', aml.pkgOf([aml.int(5), aml.int(0), aml.int(0), aml.int(0)]))), '085f53355f1207040a05000000');
  assert.equal(hex(aml.ioPort(0x3f8, 0x3f8, 0, 8)), '4701f803f8030008');
  assert.equal(hex(aml.irq([4])), '221000');
  assert.equal(hex(aml.irq([5, 7], { level: true, activeLow: true, shared: true })), '23a00018');
  assert.equal(hex(aml.irq([3], { level: false, activeLow: false, shared: false })), '23080001');
  assert.throws(() => aml.irq([16]), RangeError);
  // End tag checksum: 0 by default (like iasl); with `checksum` the template sums to zero.
  const plain = aml.resourceTemplate([aml.ioPort(0x3f8, 0x3f8, 0, 8), aml.irq([4])]);
  assert.equal(hex(plain), '11100a0d4701f803f8030008221000' + '7900');
  const summed = aml.resourceTemplate([aml.ioPort(0x3f8, 0x3f8, 0, 8), aml.irq([4])], true);
  const template = summed.subarray(4); // BufferOp, PkgLength, BytePrefix, size
  assert.equal(template.length, 13);
  assert.equal(sum8(template), 0);
  assert.notEqual(summed[summed.length - 1], 0);
});

// ---- Byte-for-byte comparison with iasl (ACPICA acpica-tools) ----

function iaslMissing(r: ReturnType<typeof spawnSync>): void {
  if (r.error !== undefined) {
    assert.fail(`cannot run iasl (${r.error.message}): install ACPICA's iasl (Debian/Ubuntu: apt-get install acpica-tools)`);
  }
}

/** Compile an ASL DefinitionBlock with iasl and return the table bytes. */
function compileAsl(dir: string, base: string, source: string): Uint8Array {
  writeFileSync(join(dir, `${base}.dsl`), source);
  const r = spawnSync('iasl', ['-p', join(dir, base), join(dir, `${base}.dsl`)], { encoding: 'utf8' });
  iaslMissing(r);
  const out = `${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, `iasl failed on ${base}.dsl:\n${out}`);
  assert.match(out, /Compilation successful\. 0 Errors, 0 Warnings/, out);
  return new Uint8Array(readFileSync(join(dir, `${base}.aml`)));
}

const block = (body: string) => `DefinitionBlock ("", "DSDT", 2, "IGVMKT", "IGVMACPI", 1)\n{\n${body}\n}\n`;

test('iasl compiles the same AML as the encoder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-aml-'));
  try {
    const long = 'A'.repeat(200);
    const cases: [string, string, Uint8Array][] = [
      [
        'dsdt',
        `Name (_S5, Package () {5, 0, 0, 0})
         Scope (_SB) { Device (COM1) {
           Name (_HID, EisaId ("PNP0501"))
           Name (_UID, One)
           Name (_CRS, ResourceTemplate () { IO (Decode16, 0x03F8, 0x03F8, 0x00, 0x08) IRQNoFlags () {4} })
         } }`,
        defaultDsdtAml(),
      ],
      [
        'ints',
        `Name (I0, 0) Name (I1, 1) Name (I2, 0x80) Name (I3, 0x1234) Name (I4, 0x12345678) Name (I5, 0x123456789A)`,
        aml.concat(
          aml.name('I0', aml.int(0)),
          aml.name('I1', aml.int(1)),
          aml.name('I2', aml.int(0x80)),
          aml.name('I3', aml.int(0x1234)),
          aml.name('I4', aml.int(0x12345678)),
          aml.name('I5', aml.int(0x123456789an)),
        ),
      ],
      [
        'pkglen',
        // A 2-byte (≈ 800 bytes) and a 3-byte (≈ 6 KB) PkgLength.
        `Name (PK2, Package () {${Array(4).fill(`"${long}"`).join(', ')}})
         Name (PK3, Package () {${Array(30).fill(`"${long}"`).join(', ')}})`,
        aml.concat(aml.name('PK2', aml.pkgOf(Array(4).fill(aml.str(long)))), aml.name('PK3', aml.pkgOf(Array(30).fill(aml.str(long))))),
      ],
      [
        'methods',
        `Scope (_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03"))
           Method (_STA, 0, NotSerialized) { Return (0x0F) }
           Method (TST, 2, Serialized) { Return ("hi") }
           Device (S08) { Name (_ADR, 0x00010000) } } }
         Scope (\\_SB.PCI0.S08) { Name (X, Buffer () {1, 2, 3}) }
         Name (_SB.PCI0.RES, ResourceTemplate () { IRQ (Level, ActiveLow, Shared) {5, 7} IO (Decode10, 0x0060, 0x0060, 0x01, 0x01) })`,
        aml.concat(
          aml.scope('_SB', [
            aml.device('PCI0', [
              aml.name('_HID', aml.int(aml.eisaId('PNP0A03'))),
              aml.method('_STA', 0, false, [aml.ret(aml.int(0x0f))]),
              aml.method('TST', 2, true, [aml.ret(aml.str('hi'))]),
              aml.device('S08', [aml.name('_ADR', aml.int(0x00010000))]),
            ]),
          ]),
          aml.scope('_SB.PCI0.S08', [aml.name('X', aml.buffer(bytes(1, 2, 3)))]),
          aml.name('_SB.PCI0.RES', aml.resourceTemplate([aml.irq([5, 7], { level: true, activeLow: true, shared: true }), aml.ioPort(0x60, 0x60, 1, 1, false)])),
        ),
      ],
    ];
    for (const [base, asl, ours] of cases) {
      const table = compileAsl(dir, base, block(asl));
      assert.equal(hex(table.subarray(36)), hex(ours), `${base}: iasl AML body vs encoder`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('iasl disassembles a template with a computed end-tag checksum as a ResourceTemplate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-aml-'));
  try {
    const ids = { oemId: 'IGVMKT', oemTableId: 'IGVMACPI', oemRevision: 1, creatorId: 'IGVM', creatorRevision: 1 };
    const body = aml.name('RES', aml.resourceTemplate([aml.ioPort(0x2f8, 0x2f8, 0, 8), aml.irq([3])], true));
    writeFileSync(join(dir, 'rt.dat'), encodeDsdt(ids, body));
    const r = spawnSync('iasl', ['-d', 'rt.dat'], { cwd: dir, encoding: 'utf8' });
    iaslMissing(r);
    const out = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, out);
    assert.doesNotMatch(out, /error|warning/i, out);
    const dsl = readFileSync(join(dir, 'rt.dsl'), 'utf8');
    assert.match(dsl, /ResourceTemplate \(\)/);
    assert.match(dsl, /0x02F8/);
    assert.match(dsl, /IRQNoFlags \(\)\s*\{3\}/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
