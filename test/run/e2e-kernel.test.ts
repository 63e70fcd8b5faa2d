// End to end: Debian's stock kernel + a tiny initramfs boots through `igvm build --platform native` + `igvm run` on
// Debian's QEMU (TCG) to the /init marker, within a bounded time (issue 5; LINUX-NATIVE-BOOT.md).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { MARKER, buildInit, debianKernel, makeInitramfs } from './linux-fixtures.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');

test('Debian kernel + initramfs: igvm build --platform native, igvm run → the /init marker', { timeout: 240_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-kernel-'));
  try {
    const kernel = debianKernel();
    writeFileSync(join(dir, 'initrd.cpio'), makeInitramfs(buildInit(dir)));
    const out = join(dir, 'linux.igvm');
    const build = spawnSync(process.execPath, [CLI, 'build', '--kernel', kernel.path, '--initrd', join(dir, 'initrd.cpio'),
      '--cmdline', 'console=ttyS0 panic=-1', '--platform', 'native', '--memory', '512M', '-o', out], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    const t0 = Date.now();
    const run = spawnSync(process.execPath, [CLI, 'run', out, '--memory', '512M', '--',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-no-reboot'], { encoding: 'utf8', timeout: 180_000 });
    const seconds = (Date.now() - t0) / 1000;
    const log = `${run.stdout}\n${run.stderr}`;
    assert.ok(new RegExp(`${MARKER}\\r?\\n`).test(run.stdout), `no marker after ${seconds.toFixed(1)} s; tail of the log:\n${log.split('\n').slice(-15).join('\n')}`);
    assert.match(run.stdout, /Run \/init as init process/);
    assert.equal(run.status, 99, '/init exits QEMU through isa-debug-exit');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
