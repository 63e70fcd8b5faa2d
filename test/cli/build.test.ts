// `igvm build`, run as a child process: the written file, the printed launch digest, and bad inputs (one line, exit 2, no file).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { installNodeHash } from '../../src/io/node-hash.js';
import { installNodeEc } from '../../src/io/node-ec.js';
import { parseIgvm } from '../../src/format/index.js';
import { validateIgvm } from '../../src/validate/index.js';
import { loadIgvm } from '../../src/load/index.js';
import { measureSnp } from '../../src/measure/snp/index.js';
import { pseudoRandom } from '../../src/examples/synthetic-bzimage.js';
import { bzImage, elf32 } from '../build/helpers.js';

installNodeHash();
installNodeEc();

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');
const dir = mkdtempSync(join(tmpdir(), 'igvm-build-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Run { status: number | null; stdout: string; stderr: string }
function igvm(args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, IGVMKIT_DEBUG: '' } });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
const info = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

function write(name: string, bytes: Uint8Array | string): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const kernel = write('bzImage', bzImage());
const initrd = write('initrd.img', pseudoRandom(10000, 5));
const p384 = write('p384.pem', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string);
const p256 = write('p256.pem', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' }) as string);

test('igvm build: native + SEV-SNP file with initrd, prints the QEMU/KVM launch digest for --vcpus', () => {
  const out = join(dir, 'linux.igvm');
  const r = igvm(['build', '--kernel', kernel, '--initrd', initrd, '--cmdline', 'console=ttyS0 panic=-1', '--platform', 'native,sev-snp', '--vcpus', '3', '--memory', '1G', '-o', out]);
  assert.equal(r.status, 0, info(r));
  assert.equal(r.stderr, '');
  const bytes = new Uint8Array(readFileSync(out));
  assert.equal(validateIgvm(bytes).errors, 0);
  for (const [platform, accel] of [['native', 'tcg'], ['sev-snp', 'kvm']] as const) {
    const l = loadIgvm(bytes, { platform, accel, vcpus: 3, memory: 1n << 30n });
    assert.ok(l.ok, l.ok ? '' : l.failure.message);
  }
  const digest = hex(measureSnp(parseIgvm(bytes), 'qemu', { vcpus: 3 }).digest);
  assert.match(r.stdout, new RegExp(`^sev-snp launch digest \\(QEMU/KVM, 3 vCPUs\\): ${digest}$`, 'm'));
  assert.match(r.stdout, /^wrote .*linux\.igvm: \d+ bytes, bzimage kernel at 0x1000000, entry 0x1000000; platforms sev-snp \(mask 1\), native \(mask 2\)$/m);
});

test('igvm build: SEV-ES + SEV-SNP with a signed ID block; ELF kernel; native-only prints no digest', () => {
  const signed = join(dir, 'signed.igvm');
  const r = igvm(['build', '--kernel', kernel, '--platform', 'sev-es,sev-snp', '--policy', '0x30000', '--sign-key', p384, '-o', signed]);
  assert.equal(r.status, 0, info(r));
  const file = parseIgvm(new Uint8Array(readFileSync(signed)));
  const id = file.directives.find((d) => d.type === 'SNP_ID_BLOCK');
  assert.ok(id && id.type === 'SNP_ID_BLOCK');
  assert.match(r.stdout, new RegExp(`launch digest \\(QEMU/KVM, 1 vCPU\\): ${hex(id.ld)}$`, 'm'));
  assert.equal(hex(id.ld), hex(measureSnp(file, 'qemu', { vcpus: 1 }).digest));

  const elfOut = join(dir, 'elf.igvm');
  const e = igvm(['build', '--kernel', write('k.elf', elf32()), '--platform', 'native', '-o', elfOut]);
  assert.equal(e.status, 0, info(e));
  assert.doesNotMatch(e.stdout, /launch digest/);
  assert.match(e.stdout, /elf kernel at 0x200000, entry 0x200000/);
  assert.ok(loadIgvm(new Uint8Array(readFileSync(elfOut)), { platform: 'native' }).ok);
});

const bad: [string, string[], RegExp][] = [
  ['not a bzImage/ELF', ['--kernel', write('junk.bin', new Uint8Array(8192).fill(7)), '--platform', 'native'], /not a Linux bzImage .* or an ELF file .*\[kernel-unknown-format\]$/],
  ['kernel too old', ['--kernel', write('old.bz', bzImage({ version: 0x0208 })), '--platform', 'native'], /kernel too old for the boot protocol: it speaks 2\.08/],
  ['initrd too large', ['--kernel', kernel, '--initrd', write('big.img', new Uint8Array(20 << 20)), '--memory', '64M', '--platform', 'native'], /initrd too large for --memory/],
  ['unknown platform', ['--kernel', kernel, '--platform', 'native,tdx'], /unknown platform 'tdx'/],
  ['key on the wrong curve', ['--kernel', kernel, '--platform', 'sev-snp', '--sign-key', p256], /P-256.*needs P-384/],
  ['cmdline not ASCII', ['--kernel', kernel, '--platform', 'native', '--cmdline', 'root=/dev/sda1 ünicode'], /printable ASCII/],
  ['--firmware with --kernel', ['--kernel', kernel, '--platform', 'native', '--firmware', kernel], /'--firmware' and '--kernel' cannot be combined/],
  ['missing --platform', ['--kernel', kernel], /'--platform' is required/],
  ['bad --policy', ['--kernel', kernel, '--platform', 'sev-snp', '--policy', 'xyz'], /'--policy' expects a hexadecimal/],
];
for (const [name, args, message] of bad) {
  test(`igvm build: ${name} → one error line, exit 2, no output file`, () => {
    const out = join(dir, `bad-${name.replace(/\W+/g, '-')}.igvm`);
    const before = readdirSync(dir).length;
    const r = igvm(['build', ...args, '-o', out]);
    assert.equal(r.status, 2, info(r));
    assert.equal(r.stdout, '');
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, info(r));
    assert.match(lines[0]!, /^igvm: error: /);
    assert.match(lines[0]!, message);
    assert.ok(!existsSync(out));
    assert.equal(readdirSync(dir).length, before, 'no temp file left');
  });
}
