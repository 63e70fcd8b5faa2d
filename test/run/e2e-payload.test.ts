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

/** 4-level identity map of 0–4 GiB with 2 MiB pages at 0x300000 (PML4, PDPT, 4 PDs). */
export function identityMap4G(): Uint8Array {
  const t = new Uint8Array(6 * 4096);
  const dv = new DataView(t.buffer);
  dv.setBigUint64(0, 0x301000n | 3n, true); // PML4[0] → PDPT
  for (let i = 0; i < 4; i++) dv.setBigUint64(4096 + i * 8, BigInt(0x302000 + i * 4096) | 3n, true);
  for (let i = 0; i < 4 * 512; i++) dv.setBigUint64(2 * 4096 + i * 8, (BigInt(i) << 21n) | 0x83n, true);
  return t;
}

const PAYLOAD64 = [
  'bits 64', 'org 0x100000',
  'start: lea rsi, [rel msg]', '.p: lodsb', 'test al, al', 'jz .regs', 'mov dx, 0x3f8', 'out dx, al', 'jmp .p',
  '.regs: mov rbx, r15', 'mov ecx, 8', '.c: mov al, bl', 'out dx, al', 'shr rbx, 8', 'loop .c', 'mov al, 10', 'out dx, al',
  'mov al, 0x31', 'mov dx, 0xf4', 'out dx, al', 'hlt',
  'msg: db "igvmkit-e2e-64 r15=", 0', '',
].join('\n');

test('a long-mode payload (native context with paging) boots through the polyfill; 64-bit registers arrive', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-e2e64-'));
  try {
    writeFileSync(join(dir, 'p64.asm'), PAYLOAD64);
    const nasm = spawnSync('nasm', ['-f', 'bin', '-o', join(dir, 'p64.bin'), join(dir, 'p64.asm')], { encoding: 'utf8' });
    assert.equal(nasm.status, 0, nasm.stderr);
    const b = new IgvmBuilder({ formatVersion: 2 });
    const m = b.platform('NATIVE');
    b.pages(0x100000n, new Uint8Array(readFileSync(join(dir, 'p64.bin'))), m);
    b.pages(0x300000n, identityMap4G(), m);
    b.nativeContext(m, 0, {
      rip: 0x100000n, rflags: 2n, cr0: 0x80000011n, cr3: 0x300000n, cr4: 0x20n, efer: 0x500n, r15: 0x4b4f2d3436544553n /* "SET64-OK" */,
      code_selector: 0x10, code_attributes: 0xa09b, code_limit: 0xffffffff, data_selector: 0x18, data_attributes: 0xc093, data_limit: 0xffffffff,
    });
    const file = join(dir, 'p64.igvm');
    writeFileSync(file, b.toBytes());
    const r = spawnSync(process.execPath, [CLI, 'run', file, '--memory', '128M', '--polyfill', '--', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'], { encoding: 'utf8', timeout: 90_000 });
    assert.match(r.stdout, /igvmkit-e2e-64 r15=SET64-OK\n/, `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.status, 99);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
