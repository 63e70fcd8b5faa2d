// Tests of the igvmgen -d text dump (IGVMGEN.md §12) against the original's reference dumps, and of the igvmgen CLI.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteReader } from '../../src/bytes.js';
import { IgvmError } from '../../src/errors.js';
import {
  dumpIgvmgen,
  formatStruct,
  hexU64,
  pyByteList,
  pyHex,
  pyOffset,
  unknownTypeLine,
  VMCB_SAVE_AREA,
} from '../../src/igvmgen/dump.js';
import { EXPECTED, REPO_ROOT, manifest, storedVectors } from '../helpers.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvmgen.js');

/** "" when equal, else where the first difference is (line number and both lines, shortened). */
function firstDifference(got: string, want: string): string {
  if (got === want) return '';
  const g = got.split('\n');
  const w = want.split('\n');
  let i = 0;
  while (i < g.length && i < w.length && g[i] === w[i]) i++;
  const gl = g[i] ?? '<end of text>';
  const wl = w[i] ?? '<end of text>';
  let c = 0;
  while (c < gl.length && c < wl.length && gl[c] === wl[c]) c++;
  const cut = (s: string) => JSON.stringify(s.slice(Math.max(0, c - 40), c + 80));
  return `first difference at line ${i + 1}, column ${c + 1} (got ${g.length} lines, want ${w.length}):\n  got:  ${cut(gl)}\n  want: ${cut(wl)}`;
}

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(stderr: string, pattern: RegExp): void {
  assert.match(stderr, pattern);
  assert.equal(stderr.split('\n').filter((l) => l !== '').length, 1, `expected one stderr line, got: ${stderr}`);
  assert.doesNotMatch(stderr, /\bat .*\.js:\d+|Error:|node:internal/, 'no stack trace');
}

// ---- reference vectors ----------------------------------------------------------------------

const vectors = storedVectors();

test('there are stored vectors with reference dumps', () => {
  assert.ok(vectors.length >= 10, `only ${vectors.length} stored vectors`);
  // Cases without an .igvm (T_elf_x64_pgt4, > 4 MiB) are skipped by storedVectors().
  const skipped = manifest().filter((c) => !vectors.some((v) => v.name === c.name)).map((c) => c.name);
  for (const name of skipped) assert.ok(!existsSync(join(EXPECTED, `${name}.igvm`)));
});

for (const v of vectors) {
  test(`dump of ${v.name} equals the original's .dump byte for byte`, () => {
    const want = readFileSync(join(EXPECTED, `${v.name}.dump`), 'utf8');
    const got = dumpIgvmgen(v.bytes);
    const diff = firstDifference(got, want);
    assert.ok(diff === '', `${v.name}: ${diff}`);
  });
}

// ---- formatting helpers ---------------------------------------------------------------------

test('pyHex prints like Python hex()', () => {
  assert.equal(pyHex(0), '0x0');
  assert.equal(pyHex(0x3001f), '0x3001f');
  assert.equal(pyHex(0xffffffff), '0xffffffff');
  assert.equal(pyHex(0xdeadbeefcafef00dn), '0xdeadbeefcafef00d');
});

test('hexU64 reads little-endian u64 without losing precision', () => {
  const b = new Uint8Array(24);
  const dv = new DataView(b.buffer);
  dv.setBigUint64(0, 0x0007040600070406n, true);
  dv.setBigUint64(8, 0xffffffffffffffffn, true);
  dv.setBigUint64(16, 0x100000000n, true);
  const r = new ByteReader(b);
  assert.equal(hexU64(r, 0), '0x7040600070406');
  assert.equal(hexU64(r, 8), '0xffffffffffffffff');
  assert.equal(hexU64(r, 16), '0x100000000');
  assert.equal(hexU64(new ByteReader(new Uint8Array(8)), 0), '0x0');
});

test('pyByteList prints a Python list of decimal bytes', () => {
  assert.equal(pyByteList(new Uint8Array([1, 0, 0])), '[1, 0, 0]');
  assert.equal(pyByteList(new Uint8Array([255, 16, 7])), '[255, 16, 7]');
  assert.equal(pyByteList(new Uint8Array(0)), '[]');
  assert.equal(pyByteList(new Uint8Array(4)), '[0, 0, 0, 0]');
  assert.equal(pyByteList(new Uint8Array(4)), '[0, 0, 0, 0]', 'cached zero list');
});

test('header offsets print as at least two lower-case hex digits', () => {
  assert.equal(pyOffset(0x18), '18');
  assert.equal(pyOffset(0x8), '08');
  assert.equal(pyOffset(0x10d8), '10d8');
});

test('unknown type line', () => {
  assert.equal(unknownTypeLine(0x306, 8, 0x48), '{ Type:0x306 Length:0x8 }(48)');
  assert.equal(unknownTypeLine(0x80000001, 0, 0x18), '{ Type:0x80000001 Length:0x0 }(18)');
});

/** A v1 file: fixed header + the given TLVs (each padded with '0' like igvmgen) + `tail` bytes. */
function makeFile(tlvs: { type: number; body: Uint8Array; length?: number }[], tail = new Uint8Array(0)): Uint8Array {
  const recs = tlvs.map((t) => {
    const padded = Math.ceil(t.body.length / 8) * 8;
    const rec = new Uint8Array(8 + padded).fill(0x30);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, t.type, true);
    dv.setUint32(4, t.length ?? t.body.length, true);
    rec.set(t.body, 8);
    return rec;
  });
  const vhs = recs.reduce((n, r) => n + r.length, 0);
  const out = new Uint8Array(24 + vhs + tail.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0x4d564749, true);
  dv.setUint32(4, 1, true);
  dv.setUint32(8, 24, true);
  dv.setUint32(12, vhs, true);
  dv.setUint32(16, out.length, true);
  dv.setUint32(20, 0x12345678, true);
  let at = 24;
  for (const r of recs) {
    out.set(r, at);
    at += r.length;
  }
  out.set(tail, at);
  return out;
}

test('hand-made file: header line, known types, unknown types, nested structures', () => {
  const platform = new Uint8Array(16);
  new DataView(platform.buffer).setUint32(0, 1, true);
  platform[4] = 2;
  platform[5] = 2;
  platform[6] = 1;
  const page = new Uint8Array(24);
  const pdv = new DataView(page.buffer);
  pdv.setBigUint64(0, 0xfffff000n, true);
  pdv.setUint32(8, 1, true);
  pdv.setUint16(20, 3, true);
  const idBlock = new Uint8Array(696);
  idBlock[0] = 1;
  idBlock[5] = 7; // Reserved[0]
  idBlock[0x68] = 9; // IdKeySignature.R[0]
  idBlock[0xf8] = 2; // IdPublicKey.Curve
  const mmio = new Uint8Array(32);
  new DataView(mmio.buffer).setBigUint64(0, 0x10n, true);
  new DataView(mmio.buffer).setBigUint64(24, 0x2n, true);
  const file = makeFile([
    { type: 0x001, body: platform },
    { type: 0x302, body: page },
    { type: 0x306, body: new Uint8Array(8) },
    { type: 0x30b, body: idBlock },
    { type: 0x30a, body: mmio },
    { type: 0x30e, body: new Uint8Array([1, 0, 0, 0, 0x20, 0, 0, 0]) },
  ]);
  const lines = dumpIgvmgen(file).split('\n');
  assert.equal(lines.length, 8, 'six headers, the fixed header line and the final newline');
  assert.equal(lines[7], '');
  assert.equal(
    lines[0],
    `{ Magic:0x4d564749 FormatVersion:0x1 VariableHeaderOffset:0x18 VariableHeaderSize:0x${(file.length - 24).toString(16)} TotalFileSize:0x${file.length.toString(16)} Checksum:0x12345678 }`,
  );
  assert.equal(lines[1], 'IGVM_VHT_SUPPORTED_PLATFORM(18){ CompatibilityMask:0x1 HighestVtl:0x2 PlatformType:0x2 PlatformVersion:0x1 SharedGPABoundary:0x0 }');
  assert.equal(lines[2], 'IGVM_VHT_PAGE_DATA(30){ GPA:0xfffff000 CompatibilityMask:0x1 FileOffset:0x0 Flags:0x0 DataType:0x3 Reserved:0x0 }');
  assert.equal(lines[3], '{ Type:0x306 Length:0x8 }(50)');
  assert.match(lines[4] ?? '', /^IGVM_VHT_SNP_ID_BLOCK\(60\)\{ CompatibilityMask:0x1 AuthorKeyEnabled:0x0 Reserved:\[7, 0, 0\] Ld:\[0, /);
  assert.match(lines[4] ?? '', / IdKeySignature: \{ R:\[9, 0, .* IdPublicKey: \{ Curve:0x2 Reserved:0x0 Qx:\[0, /);
  assert.ok(lines[4]?.endsWith('0, 0] } }'));
  const mmioOff = (0x60 + 8 + 696).toString(16);
  assert.equal(
    lines[5],
    `IGVM_VHT_MMIO_RANGES(${mmioOff}){ MmioRanges:[{ StartingGpaPageNumber:0x10 NumberOfPages:0x0 }, { StartingGpaPageNumber:0x0 NumberOfPages:0x2 }] }`,
  );
  assert.equal(lines[6], `IGVM_VHT_COMMAND_LINE(${(0x60 + 8 + 696 + 40).toString(16)}){ ParameterAreaIndex:0x1 ByteOffset:0x20 }`);
});

test('VP_CONTEXT prints two lines, the second with the VMSA and its sev_features bit fields', () => {
  const vmsa = new Uint8Array(4096);
  const dv = new DataView(vmsa.buffer);
  dv.setUint16(0x10, 0x8, true); // cs.selector
  dv.setUint16(0x12, 0xc9b, true); // cs.attrib
  dv.setUint32(0x14, 0xffffffff, true); // cs.limit
  dv.setBigUint64(0x268, 0x0007040600070406n, true); // g_pat
  dv.setUint32(0x2e8, 0x55, true); // pkru
  dv.setBigUint64(0x3b0, 0x8000000000000189n, true); // sev_features
  dv.setBigUint64(0x400, 0x1234n, true); // x87_state_gpa (last field)
  vmsa[0x3f0] = 3; // valid_bitmap[0]
  const ctx = new Uint8Array(20);
  const cdv = new DataView(ctx.buffer);
  cdv.setBigUint64(0, 0x803000n, true);
  cdv.setUint32(8, 1, true);
  cdv.setUint32(12, 24 + 32, true); // data right after the one TLV (8 + 24)
  const file = makeFile([{ type: 0x304, body: ctx }], vmsa);
  const lines = dumpIgvmgen(file).split('\n');
  assert.equal(lines.length, 4);
  const first = 'IGVM_VHT_VP_CONTEXT(18){ GPA:0x803000 CompatibilityMask:0x1 FileOffset:0x38 VpIndex:0x0 Reserved:0x0 }';
  assert.equal(lines[1], first);
  const second = lines[2] ?? '';
  assert.ok(second.startsWith(first + '{ es: { selector:0x0 attrib:0x0 limit:0x0 base:0x0 } cs: { selector:0x8 attrib:0xc9b limit:0xffffffff base:0x0 } '));
  assert.ok(second.includes(' g_pat:0x7040600070406 dbgctl:0x0 '));
  assert.ok(second.includes(' spec_ctrl:0x0 reserved_7b:[0, 0, 0, 0] pkru:0x55 '));
  assert.ok(
    second.includes(
      ' _0: { sev_features:0x8000000000000189 _0: { sev_feature_snp:0x1 sev_feature_vtom:0x0 sev_feature_reflectvc:0x0' +
        ' sev_feature_restrict_injection:0x1 sev_feature_alternate_injection:0x0 sev_feature_full_debug:0x0' +
        ' sev_feature_reserved1:0x0 sev_feature_snpbtb_isolation:0x1 sev_feature_resrved2:0x80000000000001 } } vintr_ctrl:0x0 ',
    ),
    second.slice(second.indexOf('_0:'), second.indexOf('_0:') + 400),
  );
  assert.ok(second.endsWith(' xcr0:0x0 valid_bitmap:[3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] x87_state_gpa:0x1234 }'));
  // The VMSA table covers exactly the 1032-byte vmcb_save_area.
  assert.equal(VMCB_SAVE_AREA.size, 1032);
  assert.equal(formatStruct(new ByteReader(vmsa), VMCB_SAVE_AREA, 0), second.slice(first.length));
});

test('walk: odd lengths are rounded up to 8, huge lengths end the walk', () => {
  const file = makeFile([
    { type: 0x999, body: new Uint8Array(3) },
    { type: 0x998, body: new Uint8Array(0) },
  ]);
  assert.equal(dumpIgvmgen(file).split('\n').slice(1).join('\n'), '{ Type:0x999 Length:0x3 }(18)\n{ Type:0x998 Length:0x0 }(28)\n');
  const huge = makeFile([{ type: 0x999, body: new Uint8Array(8), length: 0xffffffff }, { type: 0x998, body: new Uint8Array(8) }]);
  // The header says the section is 32 bytes, the first length jumps far past it: one line only.
  assert.equal(dumpIgvmgen(huge).split('\n').length, 3);
});

test('a PAGE_DATA whose Length is smaller than its structure is still read as 24 bytes', () => {
  const page = new Uint8Array(24);
  page[0x14] = 1; // DataType
  const file = makeFile([{ type: 0x302, body: page, length: 8 }]);
  // Length 8 → the walk moves 16 bytes on, into the body of the same record (like the original):
  // at 0x28 it reads CompatibilityMask/FileOffset as type/length, at 0x30 Flags/DataType+Reserved.
  const lines = dumpIgvmgen(file).split('\n');
  assert.equal(lines[1], 'IGVM_VHT_PAGE_DATA(18){ GPA:0x0 CompatibilityMask:0x0 FileOffset:0x0 Flags:0x0 DataType:0x1 Reserved:0x0 }');
  assert.equal(lines[2], '{ Type:0x0 Length:0x0 }(28)');
  assert.equal(lines[3], '{ Type:0x0 Length:0x1 }(30)');
  assert.equal(lines.length, 5);
});

// ---- malformed input ------------------------------------------------------------------------

function dumpError(bytes: Uint8Array): IgvmError {
  try {
    dumpIgvmgen(bytes);
  } catch (err) {
    assert.ok(err instanceof IgvmError, `threw ${String(err)}`);
    return err;
  }
  assert.fail('no error');
}

test('short and truncated files throw IgvmError dump-truncated naming the structure and offset', () => {
  for (const n of [0, 1, 23]) {
    const e = dumpError(new Uint8Array(n));
    assert.equal(e.code, 'dump-truncated');
    assert.equal(e.message, `file is truncated: IGVM_FIXED_HEADER at offset 0x0 needs 24 bytes, ${n} left`);
  }
  const first = vectors[0];
  assert.ok(first);
  // The first PAGE_DATA record of every igvmgen file is at 0x48, its body at 0x50.
  const e = dumpError(first.bytes.subarray(0, 0x50 + 10));
  assert.equal(e.code, 'dump-truncated');
  assert.equal(e.message, 'file is truncated: IGVM_VHS_PAGE_DATA at offset 0x50 needs 24 bytes, 10 left (header at 0x48)');
  assert.equal(e.offset, 0x50);
  // Cut inside a type/length prefix.
  const e2 = dumpError(first.bytes.subarray(0, 0x4c));
  assert.match(e2.message, /^file is truncated: IGVM_VHS_VARIABLE_HEADER at offset 0x48 needs 8 bytes, 4 left/);
  // Headers complete, file data (and so the VMSA) cut off.
  const vhsEnd = 24 + new DataView(first.bytes.buffer, first.bytes.byteOffset).getUint32(12, true);
  const e3 = dumpError(first.bytes.subarray(0, vhsEnd));
  assert.match(e3.message, /^file is truncated: vmcb_save_area at offset 0x[0-9a-f]+ needs 1032 bytes, 0 left \(VMSA of the IGVM_VHT_VP_CONTEXT at 0x[0-9a-f]+\)$/);
});

test('every prefix and random corruption of a vector gives a dump or an IgvmError, nothing else', () => {
  const v = vectors.find((x) => x.name === 'T_bzImage_svme0_vtl0') ?? vectors[0];
  assert.ok(v);
  const src = v.bytes;
  const step = Math.max(1, Math.floor(src.length / 3000));
  for (let n = 0; n <= src.length; n += n < 0x1100 ? 1 : step) {
    try {
      dumpIgvmgen(src.subarray(0, n));
    } catch (err) {
      assert.ok(err instanceof IgvmError && err.code === 'dump-truncated', `prefix ${n}: ${String(err)}`);
    }
  }
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296);
  const vhsEnd = 24 + new DataView(src.buffer, src.byteOffset).getUint32(12, true);
  for (let round = 0; round < 300; round++) {
    const b = new Uint8Array(src);
    for (let k = 0; k < 8; k++) b[Math.floor(rand() * (round % 10 === 0 ? 24 : vhsEnd))] = Math.floor(rand() * 256);
    try {
      dumpIgvmgen(b);
    } catch (err) {
      assert.ok(err instanceof IgvmError, `round ${round}: ${String(err)}`);
    }
  }
  // Header fields pointing past the end of the file.
  const bad = new Uint8Array(24);
  new DataView(bad.buffer).setUint32(8, 0xfffffff0, true);
  new DataView(bad.buffer).setUint32(12, 0xffffffff, true);
  assert.equal(dumpError(bad).code, 'dump-truncated');
});

test('a dump of 100k headers is fast', () => {
  const n = 100_000;
  const tlvs = Array.from({ length: 1 }, () => ({ type: 0x302, body: new Uint8Array(24) }));
  const one = makeFile(tlvs);
  const rec = one.subarray(24);
  const file = new Uint8Array(24 + rec.length * n);
  file.set(one.subarray(0, 24));
  new DataView(file.buffer).setUint32(12, rec.length * n, true);
  for (let i = 0; i < n; i++) {
    file.set(rec, 24 + i * rec.length);
    new DataView(file.buffer).setUint32(24 + i * rec.length + 8, i * 0x1000, true);
  }
  const t0 = performance.now();
  const text = dumpIgvmgen(file);
  const ms = performance.now() - t0;
  assert.equal(text.split('\n').length, n + 2);
  assert.ok(ms < 5000, `took ${ms.toFixed(0)} ms`);
});

// ---- CLI ------------------------------------------------------------------------------------

test('CLI: igvmgen -d FILE, -d=FILE and -dFILE print the dump', () => {
  const v = vectors.find((x) => x.name === 'T_bzImage') ?? vectors[0];
  assert.ok(v);
  const want = readFileSync(join(EXPECTED, `${v.name}.dump`), 'utf8');
  for (const args of [['-d', v.path], [`-d=${v.path}`], [`-d${v.path}`], ['-d', v.path, '-o', join(tmpdir(), 'igvmkit-never-written.igvm')]]) {
    const r = run(args);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, '');
    const diff = firstDifference(r.stdout, want);
    assert.ok(diff === '', `${args.join(' ')}: ${diff}`);
  }
  assert.ok(!existsSync(join(tmpdir(), 'igvmkit-never-written.igvm')), '-o is not touched in dump mode');
});

test('CLI: a large dump is written completely through a pipe', () => {
  const v = vectors.find((x) => x.name === 'T_bzImageNoOpt');
  if (!v) return;
  const r = run(['-d', v.path]);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, readFileSync(join(EXPECTED, `${v.name}.dump`), 'utf8'));
});

test('CLI: truncated file → exit 2, one line, no stack trace', () => {
  const v = vectors[0];
  assert.ok(v);
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-dump-'));
  try {
    const file = join(dir, 'short.igvm');
    writeFileSync(file, v.bytes.subarray(0, 0x5a));
    const r = run(['-d', file]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assertOneLineError(r.stderr, /^igvmgen: error: .*short\.igvm: file is truncated: IGVM_VHS_PAGE_DATA at offset 0x50 needs 24 bytes, 10 left/);
    const tiny = join(dir, 'tiny.igvm');
    writeFileSync(tiny, 'IGVM');
    const r2 = run(['-d', tiny]);
    assert.equal(r2.status, 2);
    assertOneLineError(r2.stderr, /IGVM_FIXED_HEADER at offset 0x0 needs 24 bytes, 4 left/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: -d on a missing file or a directory → exit 2 with argparse\'s "can\'t open" message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-dump-'));
  try {
    const absent = join(dir, 'absent.igvm');
    const r = run(['-d', absent]);
    assert.equal(r.status, 2);
    assert.equal(r.stdout, '');
    assertOneLineError(r.stderr, new RegExp(`^igvmgen: error: argument -d: can't open '${absent.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}': \\[Errno 2\\] No such file or directory: `, 'm'));
    const r2 = run(['-d', dir]);
    assert.equal(r2.status, 2);
    assertOneLineError(r2.stderr, /^igvmgen: error: argument -d: can't open .*: \[Errno 21\] Is a directory: /m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: usage errors → exit 2', () => {
  const unknown = run(['--bogus', '-d', 'x']);
  assert.equal(unknown.status, 2);
  assertOneLineError(unknown.stderr, /^igvmgen: error: unrecognized arguments: --bogus$/m);
  const stray = run(['extra']);
  assert.equal(stray.status, 2);
  assertOneLineError(stray.stderr, /^igvmgen: error: unrecognized arguments: extra$/m);
  const missingValue = run(['-d']);
  assert.equal(missingValue.status, 2);
  assertOneLineError(missingValue.stderr, /^igvmgen: error: argument -d: expected one argument$/m);
  const ambiguous = run(['-s', 'x']);
  assert.equal(ambiguous.status, 2);
  assertOneLineError(ambiguous.stderr, /^igvmgen: error: ambiguous option: -s could match -symbol_elf, -sign_key/m);
});

test('CLI: --version and --help exit 0', () => {
  const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
  const v = run(['--version']);
  assert.equal(v.status, 0);
  assert.equal(v.stdout, `igvmgen (igvmkit) ${pkg.version}\n`);
  assert.equal(v.stderr, '');
  for (const flag of ['-h', '--help', '--he']) {
    const h = run([flag]);
    assert.equal(h.status, 0, flag);
    assert.equal(h.stderr, '');
    assert.match(h.stdout, /^usage: igvmgen /);
    for (const opt of ['-d igvmfile.bin', '-inform', '-arch', '-o igvmfile.bin', '-kernel', '-vmpl2_kernel', '-pgtable_level', '-symbol_elf', '-append',
      '-rdinit', '-vtl', '-config_file', '-sign_key', '-sign_deterministic', '-acpi_dir', '-pvalidate_opt', '-boot_mode',
      '-start_addr', '-shared_payload', '-measurement_file', '-encrypted_page', '-svme', '-svn', '--log-level']) {
      assert.ok(h.stdout.includes(opt), `help lists ${opt}`);
    }
  }
  // No arguments at all: the help, like the original.
  const none = run([]);
  assert.equal(none.status, 0);
  assert.match(none.stdout, /^usage: igvmgen /);
});
