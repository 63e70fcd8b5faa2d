// Test fixtures for booting a real Linux kernel: a static /init (binutils), a cpio newc initramfs, Debian's kernel.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { concatBytes } from '../../src/bytes.js';

/** /init: prints MARKER on the console, then exits QEMU through isa-debug-exit (port 0xf4, status 99). */
export const MARKER = 'IGVMKIT-INIT-MARKER';

const INIT_S = `
.globl _start
.text
_start:
    mov $1, %rax
    mov $1, %rdi
    lea msg(%rip), %rsi
    mov $len, %rdx
    syscall
    mov $173, %rax
    mov $0xf4, %rdi
    mov $1, %rsi
    mov $1, %rdx
    syscall
    mov $0x31, %al
    mov $0xf4, %dx
    outb %al, %dx
1:  jmp 1b
.data
msg: .ascii "${MARKER}\\n"
len = . - msg
`;

export function buildInit(dir: string): Uint8Array {
  writeFileSync(join(dir, 'init.s'), INIT_S);
  execFileSync('as', ['--64', '-o', join(dir, 'init.o'), join(dir, 'init.s')]);
  execFileSync('ld', ['-static', '-o', join(dir, 'init'), join(dir, 'init.o')]);
  return new Uint8Array(readFileSync(join(dir, 'init')));
}

interface CpioEntry {
  name: string;
  mode: number;
  data?: Uint8Array;
  rdev?: [number, number];
}

/** A cpio "newc" archive (the initramfs format the kernel unpacks). */
export function cpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array): void => {
    parts.push(b);
    size += b.length;
  };
  const pad = (): void => {
    if (size % 4) push(new Uint8Array(4 - (size % 4)));
  };
  const all: CpioEntry[] = [...entries, { name: 'TRAILER!!!', mode: 0 }];
  all.forEach((e, i) => {
    const data = e.data ?? new Uint8Array(0);
    const hex = (v: number): string => v.toString(16).padStart(8, '0');
    const fields = [i + 1, e.mode, 0, 0, 1, 0, data.length, 0, 0, e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0, e.name.length + 1, 0];
    push(new TextEncoder().encode('070701' + fields.map(hex).join('') + e.name + '\0'));
    pad();
    push(data);
    pad();
  });
  return concatBytes(...parts);
}

/** initramfs with /dev/console and the /init above. */
export function makeInitramfs(init: Uint8Array): Uint8Array {
  return cpioNewc([
    { name: 'dev', mode: 0o040755 },
    { name: 'dev/console', mode: 0o020600, rdev: [5, 1] },
    { name: 'init', mode: 0o100755, data: init },
  ]);
}

/**
 * Debian's stock kernel (vmlinuz of the newest linux-image-*-amd64 package apt knows), downloaded once per machine into
 * a cache dir. Test files run in parallel: each download goes to a private directory that is then renamed into place.
 */
export function debianKernel(): { path: string; bytes: Uint8Array } {
  const cache = join(process.env['IGVMKIT_CACHE'] ?? join(tmpdir(), 'igvmkit-cache'), 'debian-kernel');
  mkdirSync(cache, { recursive: true });
  const final = join(cache, 'boot');
  const found = (): string | undefined => {
    if (!existsSync(final)) return undefined;
    const k = readdirSync(final).find((n) => n.startsWith('vmlinuz-'));
    return k === undefined ? undefined : join(final, k);
  };
  let path = found();
  if (path === undefined) {
    const list = execFileSync('apt-cache', ['search', '--names-only', '^linux-image-[0-9.]+-[0-9]+-amd64$'], { encoding: 'utf8' });
    const pkgs = list.split('\n').map((l) => l.split(' ')[0] ?? '').filter((p) => /^linux-image-[0-9.]+-[0-9]+-amd64$/.test(p));
    const pkg = pkgs.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).pop();
    if (pkg === undefined) throw new Error('no linux-image-*-amd64 package found by apt-cache (run apt-get update)');
    const work = mkdtempSync(join(cache, 'dl-'));
    try {
      // One retry: a mirror hiccup should not fail the boot tests.
      try {
        execFileSync('apt-get', ['download', pkg], { cwd: work, stdio: 'ignore', timeout: 120_000 });
      } catch {
        execFileSync('apt-get', ['download', pkg], { cwd: work, stdio: 'ignore', timeout: 120_000 });
      }
      const deb = readdirSync(work).find((n) => n.startsWith(pkg) && n.endsWith('.deb'));
      if (deb === undefined) throw new Error(`apt-get download ${pkg} produced no .deb`);
      execFileSync('dpkg-deb', ['-x', join(work, deb), join(work, 'x')]);
      try {
        renameSync(join(work, 'x', 'boot'), final);
      } catch (e) {
        if (found() === undefined) throw e; // another test process put it there first
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    path = found();
    if (path === undefined) throw new Error(`${pkg} has no boot/vmlinuz-*`);
  }
  return { path, bytes: new Uint8Array(readFileSync(path)) };
}
