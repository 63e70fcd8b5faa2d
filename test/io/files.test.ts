// Tests for Node file I/O: readInput error messages, atomic writes that never leave partial files.
import test from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoError } from '../../src/cli/framework.js';
import { ensureDir, readInput, writeAtomic, writeAtomicMany } from '../../src/io/files.js';

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-files-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function ioError(message: string, file: string): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof IoError, `expected IoError, got ${String(e)}`);
    assert.equal(e.message, message);
    assert.equal(e.file, file);
    return true;
  };
}

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

test('readInput returns the bytes as a plain Uint8Array', (t) => {
  const dir = scratch(t);
  const p = join(dir, 'a.igvm');
  writeFileSync(p, new Uint8Array([1, 2, 3, 255]));
  const bytes = readInput(p);
  assert.equal(Object.getPrototypeOf(bytes), Uint8Array.prototype);
  assert.deepEqual(bytes, new Uint8Array([1, 2, 3, 255]));
  writeFileSync(p, '');
  assert.equal(readInput(p).length, 0);
});

test('readInput error messages', (t) => {
  const dir = scratch(t);
  const missing = join(dir, 'x.igvm');
  assert.throws(() => readInput(missing), ioError(`cannot read '${missing}': no such file`, missing));
  assert.throws(() => readInput(dir), ioError(`cannot read '${dir}': is a directory`, dir));
  const file = join(dir, 'f');
  writeFileSync(file, 'x');
  const under = join(file, 'y');
  assert.throws(() => readInput(under), ioError(`cannot read '${under}': not a directory`, under));
  if (!isRoot) {
    const locked = join(dir, 'locked');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    assert.throws(() => readInput(locked), ioError(`cannot read '${locked}': permission denied`, locked));
  }
});

test('writeAtomic writes the file and leaves no temp file', (t) => {
  const dir = scratch(t);
  const p = join(dir, 'out.igvm');
  writeAtomic(p, new Uint8Array([9, 8, 7]));
  assert.deepEqual(new Uint8Array(readFileSync(p)), new Uint8Array([9, 8, 7]));
  writeAtomic(p, 'text ✓\n');
  assert.equal(readFileSync(p, 'utf8'), 'text ✓\n');
  writeAtomic(p, new Uint8Array(0));
  assert.equal(readFileSync(p).length, 0);
  const big = new Uint8Array(3 * 1024 * 1024 + 5).map((_, i) => i & 0xff);
  writeAtomic(p, big);
  assert.deepEqual(new Uint8Array(readFileSync(p)), big);
  assert.deepEqual(readdirSync(dir), ['out.igvm']);
});

test('writeAtomic failures leave nothing behind and throw IoError', (t) => {
  const dir = scratch(t);
  const noDir = join(dir, 'missing', 'out.igvm');
  assert.throws(() => writeAtomic(noDir, 'x'), ioError(`cannot write '${noDir}': no such directory`, noDir));
  assert.deepEqual(readdirSync(dir), []);

  const sub = join(dir, 'sub');
  mkdirSync(sub);
  writeFileSync(join(sub, 'keep'), 'k');
  assert.throws(() => writeAtomic(sub, 'x'), ioError(`cannot write '${sub}': is a directory`, sub));
  assert.deepEqual(readdirSync(dir), ['sub']);
  assert.deepEqual(readdirSync(sub), ['keep']);

  const file = join(dir, 'file');
  writeFileSync(file, 'old');
  const under = join(file, 'x');
  assert.throws(() => writeAtomic(under, 'x'), ioError(`cannot write '${under}': not a directory`, under));
  assert.equal(readFileSync(file, 'utf8'), 'old');

  if (!isRoot) {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const target = join(ro, 'out');
    try {
      assert.throws(() => writeAtomic(target, 'x'), ioError(`cannot write '${target}': permission denied`, target));
      assert.deepEqual(readdirSync(ro), []);
    } finally {
      chmodSync(ro, 0o700);
    }
  }
  assert.deepEqual(readdirSync(dir).sort(), isRoot ? ['file', 'sub'] : ['file', 'ro', 'sub']);
});

test('writeAtomicMany writes all or none', (t) => {
  const dir = scratch(t);
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.json');
  writeAtomicMany([
    { path: a, data: new Uint8Array([1]) },
    { path: b, data: '{}\n' },
  ]);
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', 'b.json']);
  assert.equal(readFileSync(b, 'utf8'), '{}\n');

  // The second target cannot be written: nothing changes, including the first.
  const bad = join(dir, 'nope', 'c');
  assert.throws(
    () => writeAtomicMany([
      { path: a, data: new Uint8Array([2]) },
      { path: bad, data: 'x' },
    ]),
    ioError(`cannot write '${bad}': no such directory`, bad),
  );
  assert.deepEqual(new Uint8Array(readFileSync(a)), new Uint8Array([1]));
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', 'b.json']);

  // A target that is a directory is refused before anything is written.
  const sub = join(dir, 'sub');
  mkdirSync(sub);
  const c = join(dir, 'c');
  assert.throws(() => writeAtomicMany([{ path: c, data: 'c' }, { path: sub, data: 'x' }]), ioError(`cannot write '${sub}': is a directory`, sub));
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', 'b.json', 'sub']);

  assert.throws(() => writeAtomicMany([{ path: c, data: '1' }, { path: c, data: '2' }]), ioError(`cannot write '${c}': given more than once`, c));
  assert.deepEqual(readdirSync(dir).sort(), ['a.bin', 'b.json', 'sub']);
});

test('ensureDir', (t) => {
  const dir = scratch(t);
  const deep = join(dir, 'a', 'b', 'c');
  ensureDir(deep);
  ensureDir(deep);
  writeAtomic(join(deep, 'f'), 'x');
  const file = join(dir, 'file');
  writeFileSync(file, 'x');
  assert.throws(() => ensureDir(file), ioError(`cannot create directory '${file}': not a directory`, file));
  const below = join(file, 'd');
  assert.throws(() => ensureDir(below), ioError(`cannot create directory '${below}': not a directory`, below));
});
