// End to end: a tiny payload built by the test boots through `igvm run` on Debian's QEMU (no IGVM support: the polyfill)
// and prints what it read from its parameter pages (issue 5; QEMU-LOADER.md §5.3, §5.4).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { IgvmBuilder } from '../../src/builder.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');

/** 32-bit code at 0x100000: prints the VP count (area 0 at 0x200000) and ENVIRONMENT_INFO (area 0 + 4), then exits QEMU. */
const PAYLOAD = [
  'bits 32', 'org 0x100000',
  'start: mov esi, msg', '.p: lodsb', 'test al, al', 'jz .num', 'mov dx, 0x3f8', 'out dx, al', 'jmp .p',
  '.num: mov eax, [0x200000]', 'add al, 0x30', 'mov dx, 0x3f8', 'out dx, al',
  "mov al, ' '", 'out dx, al', 'mov eax, [0x200004]', 'add al, 0x30', 'out dx, al', 'mov al, 10', 'out dx, al',
  'mov al, 0x31', 'mov dx, 0xf4', 'out dx, al', 'hlt',
  'msg: db "igvmkit-e2e vp_count,env_info=", 0', '',
].join('\n');

test('a payload boots through igvm run on the installed QEMU and reads its parameter pages', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-e2e-'));
  try {
    writeFileSync(join(dir, 'payload.asm'), PAYLOAD);
    const nasm = spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'payload.bin'), join(dir, 'payload.asm')], { encoding: 'utf8' });
    assert.equal(nasm.status, 0, `nasm: ${nasm.stderr} (apt-get install nasm)`);
    const b = new IgvmBuilder({ formatVersion: 2 });
    const m = b.platform('NATIVE');
    b.pages(0x100000n, new Uint8Array(readFileSync(join(dir, 'payload.bin'))), m);
    b.parameterArea(0, 0x1000n);
    b.parameter('VP_COUNT_PARAMETER', 0, 0);
    b.parameter('ENVIRONMENT_INFO_PARAMETER', 0, 4);
    b.parameterInsert(0x200000n, m, 0);
    b.nativeContext(m, 0, { rip: 0x100000n, rflags: 2n, cr0: 0x11n, code_selector: 0x10, code_attributes: 0xc09b, code_limit: 0xffffffff, data_selector: 0x18, data_attributes: 0xc093, data_limit: 0xffffffff });
    const file = join(dir, 'payload.igvm');
    writeFileSync(file, b.toBytes());
    const qemu = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
    assert.equal(qemu.error, undefined, 'qemu-system-x86_64 must be installed (apt-get install qemu-system-x86)');
    const r = spawnSync(process.execPath, [CLI, 'run', file, '--vcpus', '3', '--memory', '128M', '--', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'], { encoding: 'utf8', timeout: 90_000 });
    assert.match(r.stdout, /igvmkit-e2e vp_count,env_info=3 1\n/, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.status, 99, 'isa-debug-exit status (0x31 << 1) | 1');
    if (!/version (\d\d+)\.(\d+)/.test(qemu.stdout) || Number(/version (\d+)\.(\d+)/.exec(qemu.stdout)?.[1]) < 10) {
      assert.match(r.stderr, /booting the native platform through the polyfill/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('igvm run: --dry-run prints the command line; a missing QEMU is exit 3 with a clear message', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-run-'));
  try {
    const b = new IgvmBuilder({ formatVersion: 2 });
    const m = b.platform('NATIVE');
    b.pages(0x100000n, Uint8Array.of(0xf4), m);
    b.nativeContext(m, 0, { rip: 0x100000n, rflags: 2n, cr0: 0x11n, code_selector: 0x10, code_attributes: 0xc09b, code_limit: 0xffffffff, data_selector: 0x18, data_attributes: 0xc093, data_limit: 0xffffffff });
    const file = join(dir, 'f.igvm');
    writeFileSync(file, b.toBytes());
    const missing = spawnSync(process.execPath, [CLI, 'run', file, '--qemu', join(dir, 'no-qemu')], { encoding: 'utf8' });
    assert.equal(missing.status, 3);
    assert.match(missing.stderr, /^igvm: error: cannot run '.*no-qemu': not found \(install qemu-system-x86 or pass --qemu PATH\)\n$/);
    const dry = spawnSync(process.execPath, [CLI, 'run', file, '--dry-run', '--', '-no-reboot'], { encoding: 'utf8' });
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /^qemu-system-x86_64 \\\n/);
    assert.match(dry.stdout, /-no-reboot/);
    const kept = /files kept in (\S+)\)/.exec(dry.stderr)?.[1];
    if (kept !== undefined) {
      assert.match(dry.stdout, /-bios /);
      assert.equal(readFileSync(join(kept, 'rom.bin')).length, 0x10000);
      rmSync(kept, { recursive: true, force: true });
    } else assert.match(dry.stdout, /igvm-cfg/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
