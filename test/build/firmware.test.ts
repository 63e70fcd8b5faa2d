// igvm build --firmware: the volume ends at 4 GiB, no VP context, native only; the polyfill boots it as the ROM (QEMU-LOADER.md §1).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { buildFirmwareIgvm, MAX_FIRMWARE_SIZE } from '../../src/build/firmware.js';
import { parseIgvm } from '../../src/format/index.js';
import { validateIgvm } from '../../src/validate/index.js';
import { loadIgvm } from '../../src/load/index.js';
import { buildPolyfill } from '../../src/run/polyfill.js';
import { IgvmError } from '../../src/errors.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');

/** 64 KiB 16-bit firmware: at the reset vector, print a marker on COM1 and exit QEMU (isa-debug-exit, status 99). */
const FIRMWARE_ASM = [
  'bits 16', 'org 0', 'times 0xff00 - ($ - $$) db 0',
  'start: mov dx, 0x3f8', 'mov si, msg', '.p: cs lodsb', 'test al, al', 'jz .done', 'out dx, al', 'jmp .p',
  '.done: mov al, 0x31', 'mov dx, 0xf4', 'out dx, al', 'hlt',
  'msg: db "IGVMKIT-FIRMWARE-MARKER", 10, 0',
  'times 0xfff0 - ($ - $$) db 0', 'jmp start', 'times 0x10000 - ($ - $$) db 0', '',
].join('\n');

function firmware(dir: string): Uint8Array {
  writeFileSync(join(dir, 'fw.asm'), FIRMWARE_ASM);
  const r = spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'fw.bin'), join(dir, 'fw.asm')], { encoding: 'utf8' });
  assert.equal(r.status, 0, `nasm: ${r.stderr} (apt-get install nasm)`);
  return new Uint8Array(readFileSync(join(dir, 'fw.bin')));
}

test('the firmware volume ends at 4 GiB, with no VP context; it validates and loads; the polyfill makes it the ROM', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-fw-'));
  try {
    const fw = firmware(dir);
    const r = buildFirmwareIgvm({ name: 'fw.bin', bytes: fw }, ['native']);
    assert.equal(r.gpa, 0xffff0000);
    const file = parseIgvm(r.bytes);
    assert.ok(!file.directives.some((d) => d.type === 'VP_CONTEXT'));
    const top = file.directives.filter((d) => d.type === 'PAGE_DATA').map((d) => (d.type === 'PAGE_DATA' ? Number(d.gpa) : 0));
    assert.equal(Math.min(...top), 0xffff0000);
    assert.equal(Math.max(...top), 0xfffff000);
    assert.equal(validateIgvm(r.bytes).errors, 0);
    const plan = loadIgvm(r.bytes, { platform: 'native' });
    assert.ok(plan.ok, plan.ok ? '' : plan.failure.message);
    const pf = buildPolyfill(plan.plan);
    assert.deepEqual(pf.rom, fw, 'the ROM is the firmware volume');
    assert.equal(pf.regions.length, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('firmware errors: size, platform, --kernel together; no output file', () => {
  const bad = (bytes: Uint8Array, platforms: ('native' | 'sev-snp')[], re: RegExp): void => {
    assert.throws(() => buildFirmwareIgvm({ name: 'fw.bin', bytes }, platforms), (e: unknown) => e instanceof IgvmError && re.test(e.message));
  };
  bad(new Uint8Array(100), ['native'], /multiple of 4096/);
  bad(new Uint8Array(0), ['native'], /non-empty/);
  bad(new Uint8Array(MAX_FIRMWARE_SIZE + 4096), ['native'], /at most/);
  bad(new Uint8Array(4096), ['sev-snp'], /native platform only/);
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-fw-'));
  try {
    writeFileSync(join(dir, 'fw.bin'), new Uint8Array(4096));
    const out = join(dir, 'o.igvm');
    const both = spawnSync(process.execPath, [CLI, 'build', '--firmware', join(dir, 'fw.bin'), '--kernel', join(dir, 'fw.bin'), '--platform', 'native', '-o', out], { encoding: 'utf8' });
    assert.equal(both.status, 2);
    assert.match(both.stderr, /'--firmware' and '--kernel' cannot be combined/);
    const snp = spawnSync(process.execPath, [CLI, 'build', '--firmware', join(dir, 'fw.bin'), '--platform', 'sev-snp', '-o', out], { encoding: 'utf8' });
    assert.equal(snp.status, 2);
    assert.match(snp.stderr, /native platform only/);
    assert.equal(snp.stderr.trim().split('\n').length, 1);
    assert.ok(!existsSync(out));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('e2e: a firmware image built with --firmware boots through igvm run on the installed QEMU', { timeout: 60_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-fw-'));
  try {
    firmware(dir);
    const out = join(dir, 'fw.igvm');
    const b = spawnSync(process.execPath, [CLI, 'build', '--firmware', join(dir, 'fw.bin'), '--platform', 'native', '-o', out], { encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
    const r = spawnSync(process.execPath, [CLI, 'run', out, '--', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'], { encoding: 'utf8', timeout: 45_000 });
    assert.match(r.stdout, /IGVMKIT-FIRMWARE-MARKER\r?\n/, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.status, 99);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
