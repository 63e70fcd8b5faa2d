// The reset-vector stub: the checked-in bytes equal a fresh nasm assembly, and the polyfill fills its block and GDT (stub/reset-vector.asm).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { stubRom, descriptorOf, buildPolyfill } from '../../src/run/polyfill.js';
import { parseQemuVersion, supportsIgvm } from '../../src/run/qemu-version.js';
import { loadIgvm } from '../../src/load/index.js';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';

test('src/run/stub-bytes.ts equals a fresh nasm assembly of stub/reset-vector.asm', () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'assemble-stub.mjs'), '--check'], { encoding: 'utf8' });
  assert.equal(r.error, undefined, 'node ran');
  assert.equal(r.status, 0, `${r.stdout}${r.stderr} (nasm is needed: apt-get install nasm)`);
  assert.match(r.stdout, /up to date/);
});

test('the ROM: reset vector jumps to the 16-bit entry; block magic; stub descriptors', () => {
  const rom = stubRom();
  assert.equal(rom.length, 0x10000);
  assert.deepEqual([...rom.subarray(0xfff0, 0xfff3)], [0xe9, 0x0d, 0xff], 'jmp near 0xff00');
  assert.equal(new TextDecoder().decode(rom.subarray(0xf000, 0xf008)), 'IGVMRUN1');
  const dv = new DataView(rom.buffer);
  assert.equal(dv.getBigUint64(0xf100 + 0xf0, true), 0x00cf9b000000ffffn);
  assert.equal(dv.getBigUint64(0xf100 + 0xf8, true), 0x00cf93000000ffffn);
});

test('descriptorOf: flat 32-bit code and data, byte-granular limits', () => {
  // QEMU SegmentCache flags = descriptor attributes << 8 (limit nibble included by QEMU; ignored here).
  assert.equal(descriptorOf({ selector: 0x10, base: 0n, limit: 0xffffffff, flags: 0xcf9b00 }), 0x00cf9b000000ffffn);
  assert.equal(descriptorOf({ selector: 0x18, base: 0n, limit: 0xffffffff, flags: 0xc09300 }), 0x00cf93000000ffffn);
  assert.equal(descriptorOf({ selector: 0x18, base: 0x12345678n, limit: 0xffff, flags: 0x009300 }), 0x120093345678ffffn);
});

function nativeFile(ctx: Record<string, bigint | number>): Uint8Array {
  const b = new IgvmBuilder({ formatVersion: 2 });
  const m = b.platform('NATIVE');
  b.pages(0x100000n, Uint8Array.of(0xf4), m);
  b.nativeContext(m, 0, { rflags: 2n, cr0: 0x11n, code_selector: 0x10, code_attributes: 0xc09b, code_limit: 0xffffffff, data_selector: 0x18, data_attributes: 0xc093, data_limit: 0xffffffff, rip: 0x100000n, ...ctx });
  return b.toBytes();
}

function plan(bytes: Uint8Array) {
  const r = loadIgvm(bytes, { platform: 'native' });
  assert.ok(r.ok, r.ok ? '' : r.failure.message);
  return r.plan;
}

test('buildPolyfill fills the block (registers, far pointer) and puts the context descriptors at their selectors', () => {
  const pf = buildPolyfill(plan(nativeFile({ rsi: 0x7000n, rsp: 0x8000n, rax: 0x11223344n })));
  const dv = new DataView(pf.rom.buffer);
  assert.equal(dv.getUint32(0xf008, true), 0x11, 'cr0');
  assert.equal(dv.getUint32(0xf01c, true), 0x11223344, 'eax');
  assert.equal(dv.getUint32(0xf02c, true), 0x7000, 'esi');
  assert.equal(dv.getUint32(0xf038, true), 0x8000, 'esp');
  assert.equal(dv.getUint16(0xf040, true), 0x18, 'data selector');
  assert.equal(dv.getUint32(0xf044, true), 0x100000, 'eip');
  assert.equal(dv.getUint16(0xf048, true), 0x10, 'code selector');
  assert.equal(dv.getBigUint64(0xf100 + 0x10, true), 0x00cf9b000000ffffn);
  assert.equal(dv.getBigUint64(0xf100 + 0x18, true), 0x00cf93000000ffffn);
  assert.equal(pf.regions.length, 1);
  assert.equal(pf.regions[0]?.gpa, 0x100000n);
  assert.equal(pf.regions[0]?.bytes[0], 0xf4);
});

test('buildPolyfill rejects what the stub cannot do, with clear errors', () => {
  const unsupported = (bytes: Uint8Array, re: RegExp): void => {
    assert.throws(() => buildPolyfill(plan(bytes)), (e: unknown) => e instanceof IgvmError && e.code === 'run-unsupported' && re.test(e.message));
  };
  // Long mode whose page tables (none at 0x300000: all zero) do not map the ROM.
  unsupported(nativeFile({ cr0: 0x80000011n, cr3: 0x300000n, cr4: 0x20n, efer: 0xd00n, code_attributes: 0xa09b }), /do not identity-map 0xffff0000/);
  unsupported(nativeFile({ cr0: 0x80000011n, cr3: 0x300000n, cr4: 0x0n, efer: 0x500n, code_attributes: 0xa09b }), /CR4.PAE|EFER.LME is set without CR0.PG/);
  unsupported(nativeFile({ cr0: 0x80000011n, cr3: 0x300000n }), /32-bit paging/);
  unsupported(nativeFile({ cr0: 0x10n }), /real mode/);
  unsupported(nativeFile({ code_selector: 0xf0 }), /code selector 0xf0 must be/);
  unsupported(nativeFile({ data_selector: 0x10 }), /same/);
  const b = new IgvmBuilder({ formatVersion: 2 });
  const m = b.platform('NATIVE');
  b.pages(0x100000n, Uint8Array.of(0xf4), m);
  unsupported(b.toBytes(), /no native VP context/);
});

test('QEMU version detection', () => {
  assert.deepEqual(parseQemuVersion('QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b3)\n'), { major: 7, minor: 2, micro: 22 });
  assert.deepEqual(parseQemuVersion('QEMU emulator version 10.2.0\n'), { major: 10, minor: 2, micro: 0 });
  assert.equal(parseQemuVersion('something else'), undefined);
  assert.equal(supportsIgvm({ major: 7, minor: 2, micro: 22 }), false);
  assert.equal(supportsIgvm({ major: 10, minor: 1, micro: 5 }), false);
  assert.equal(supportsIgvm({ major: 10, minor: 2, micro: 0 }), true);
  assert.equal(supportsIgvm({ major: 11, minor: 0, micro: 0 }), true);
});
