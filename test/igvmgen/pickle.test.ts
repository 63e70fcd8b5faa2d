// Tests for the pickle-subset decoder of acpi.zip: the real snapshot, hand-made pickles of every opcode, rejections.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { IgvmError } from '../../src/errors.js';
import { decodePickleDict } from '../../src/igvmgen/pickle.js';
import { VECTORS } from '../helpers.js';

const bin = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'latin1'));
const text = (b: Uint8Array | undefined): string | undefined => (b === undefined ? undefined : Buffer.from(b).toString('latin1'));
const entries = (m: Map<number, Uint8Array>): [number, string | undefined][] => [...m].map(([k, v]) => [k, text(v)]);

test('the acpi.zip pickle decodes to 34 pages of 4096 bytes, in pickle order', () => {
  const b64 = readFileSync(join(VECTORS, 'acpi', 'acpi.zip'), 'latin1');
  const pickled = new Uint8Array(inflateSync(Buffer.from(b64, 'base64')));
  const dict = decodePickleDict(pickled);
  assert.equal(dict.size, 34);
  assert.deepEqual([...dict.keys()].slice(0, 3), [0xe0000, 0x1ff000, 0x101000]);
  for (const page of dict.values()) assert.equal(page.length, 4096);
  assert.equal(text(dict.get(0xe0000)!.subarray(0, 8)), 'RSD PTR ');
  assert.equal(text(dict.get(0x100000)!.subarray(0, 4)), 'XSDT');
});

test('GLOBAL, BINPUT/BINGET, BININT1/2, BININT, LONG1, SHORT_BINBYTES, BINBYTES, BINBYTES8, SETITEM(S)', () => {
  // pickle.loads gives {16: bytearray(b'abc'), 4096: bytearray(b''), 65536: b'xy', 2147483647: b'z'}.
  const p = bin(
    '\x80\x04}q\x00(K\x10cbuiltins\nbytearray\nq\x01C\x03abc\x85RM\x00\x10h\x01C\x00\x85R\x8a\x03\x00\x00\x01B\x02\x00\x00\x00xyuJ\xff\xff\xff\x7f\x8e\x01\x00\x00\x00\x00\x00\x00\x00zs.',
  );
  assert.deepEqual(entries(decodePickleDict(p)), [
    [16, 'abc'],
    [4096, ''],
    [65536, 'xy'],
    [2147483647, 'z'],
  ]);
});

test('FRAME, STACK_GLOBAL of SHORT_BINUNICODE/BINUNICODE, MEMOIZE after LONG_BINPUT, LONG_BINGET, negative LONG1', () => {
  // pickle.loads gives {-1: bytearray(b'hi'), 0: bytearray(b''), -32768: bytearray(b'hi')} (MEMOIZE numbers by len(memo)).
  const p = bin(
    '\x80\x04\x95\x40\x00\x00\x00\x00\x00\x00\x00}\x94(\x8a\x01\xff\x8c\x08builtins\x94X\x09\x00\x00\x00bytearray\x94\x93r\x00\x01\x00\x00C\x02hi\x85R\x94\x8a\x00j\x00\x01\x00\x00C\x00\x85R\x8a\x02\x00\x80h\x04u.',
  );
  assert.deepEqual(entries(decodePickleDict(p)), [
    [-1, 'hi'],
    [0, ''],
    [-32768, 'hi'],
  ]);
});

test('a repeated key keeps its first position and takes the last value', () => {
  const p = bin('\x80\x04}(K\x01C\x01aK\x02C\x01bK\x01C\x01cu.');
  assert.deepEqual(entries(decodePickleDict(p)), [
    [1, 'c'],
    [2, 'b'],
  ]);
});

function rejects(p: Uint8Array, code: string, message: RegExp, offset?: number): void {
  assert.throws(
    () => decodePickleDict(p, 'x.zip'),
    (e: unknown) => {
      assert.ok(e instanceof IgvmError, `IgvmError, got ${String(e)}`);
      assert.equal(e.code, code);
      assert.match(e.message, message);
      if (offset !== undefined) assert.equal(e.offset, offset);
      assert.equal(e.file, 'x.zip');
      return true;
    },
  );
}

test('opcodes outside the subset are rejected naming the opcode and its offset', () => {
  rejects(bin('\x80\x04]\x94.'), 'pickle-opcode', /opcode 0x5d '\]' at offset 2/, 2);
  rejects(bin('\x80\x04}(N'), 'pickle-opcode', /opcode 0x4e 'N' at offset 4/, 4);
  rejects(bin('\x80\x06}.'), 'pickle-protocol', /PROTO at offset 0/, 0);
});

test('globals other than builtins.bytearray are rejected', () => {
  rejects(bin('\x80\x04}(K\x01cos\nsystem\nC\x02ls\x85Ru.'), 'pickle-global', /GLOBAL at offset 6: global os\.system is not allowed/, 6);
  rejects(bin('\x80\x04\x8c\x08builtins\x8c\x04eval\x93.'), 'pickle-global', /STACK_GLOBAL at offset 18: global builtins\.eval/, 18);
});

test('keys, values and results of other types are rejected', () => {
  rejects(bin('\x80\x04}(\x8c\x01aC\x01bu.'), 'pickle-type', /SETITEMS at offset 10: dict key is a str/, 10);
  rejects(bin('\x80\x04}K\x01K\x02s.'), 'pickle-type', /SETITEM at offset 7: dict value is a int/, 7);
  rejects(bin('\x80\x04}K\x01}s.'), 'pickle-type', /dict value is a dict/);
  rejects(bin('\x80\x04C\x01a.'), 'pickle-type', /STOP at offset 5: result is a bytes, expected a dict/, 5);
  rejects(bin('\x80\x04C\x01aC\x01b\x85R.'), 'pickle-reduce', /REDUCE at offset 9: cannot call a bytes/, 9);
  rejects(bin('\x80\x04cbuiltins\nbytearray\nK\x01\x85R.'), 'pickle-reduce', /bytearray\(\) of a int/);
});

test('truncated and inconsistent pickles are rejected', () => {
  rejects(bin('\x80\x04}'), 'pickle-truncated', /ends at offset 3 without STOP/, 3);
  rejects(bin('\x80\x04}B\xff\x00\x00\x00ab'), 'pickle-truncated', /BINBYTES at offset 3: needs 255 bytes, 2 left/, 3);
  rejects(bin('\x80\x04}\x8e\xff\xff\xff\xff\xff\xff\xff\xff'), 'pickle-truncated', /BINBYTES8/);
  rejects(bin('\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00}.'), 'pickle-truncated', /FRAME/);
  rejects(bin('\x80\x04}h\x05.'), 'pickle-memo', /BINGET at offset 3: memo entry 5/, 3);
  rejects(bin('\x80\x04}j\x05\x00\x00\x00.'), 'pickle-memo', /LONG_BINGET/);
  rejects(bin('\x80\x04s.'), 'pickle-stack', /SETITEM at offset 2: stack is empty/, 2);
  rejects(bin('\x80\x04}K\x01u.'), 'pickle-stack', /no mark/);
  rejects(bin('\x80\x04}(K\x01u.'), 'pickle-stack', /odd number/);
  rejects(bin('\x80\x04}(.'), 'pickle-stack', /unexpected mark/);
  rejects(bin('\x80\x04\x8c\x02\xff\xfe.'), 'pickle-bad-string', /SHORT_BINUNICODE at offset 2: string is not valid UTF-8/, 2);
  rejects(bin('\x80\x04\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x01.'), 'pickle-int', /LONG1 at offset 2: integer 18446744073709551616 is too large/, 2);
  rejects(bin('\x80\x04cbuiltins'), 'pickle-truncated', /GLOBAL line has no newline/);
});

test('fixed-seed corruptions of a small pickle give IgvmError or a dict, never another exception', () => {
  const good = bin('\x80\x04\x95\x40\x00\x00\x00\x00\x00\x00\x00}\x94(\x8a\x01\xff\x8c\x08builtins\x94X\x09\x00\x00\x00bytearray\x94\x93r\x00\x01\x00\x00C\x02hi\x85R\x94\x8a\x00j\x00\x01\x00\x00C\x00\x85R\x8a\x02\x00\x80h\x04u.');
  let seed = 7;
  const next = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 4294967296;
  for (let i = 0; i < 2000; i++) {
    const p = good.slice(0, 1 + Math.floor(next() * good.length));
    const at = Math.floor(next() * p.length);
    p[at] = Math.floor(next() * 256);
    try {
      assert.ok(decodePickleDict(p) instanceof Map);
    } catch (e) {
      assert.ok(e instanceof IgvmError, `iteration ${i}: ${String(e)}`);
    }
  }
});
