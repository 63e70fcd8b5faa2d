// The `igvmgen` command line, run as a child process: every input the original Python igvmgen crashes on must give
// exactly one `igvmgen: error: …` line on stderr, exit 2 (3 for output I/O failures), no stack trace, nothing on
// stdout and no file left behind (outputs are written all-or-none at the end; no ./igvm.log unless -l is given).
// Plus the positive side of the documented behaviour: warnings about non-reproducible signing, str2bool, -vtl as a
// byte, option prefixes and `-opt=value`, the no-op -start_addr, -config_file, built-in ACPI without iasl, -l.
//
// Every run happens in a fresh mkdtemp sandbox holding copies of the inputs it needs; TMPDIR points into the sandbox
// so that a temp file or directory left behind by the tool shows up in the before/after listing as well.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { parseIgvm, readIgvm } from '../../src/format/index.js';
import { REPO_ROOT, VECTORS, rng } from '../helpers.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvmgen.js');

/** Inputs that can be copied into a sandbox, by the name they get there. */
const SOURCES: Record<string, string> = {
  test_bzImage: join(VECTORS, 'inputs', 'test_bzImage'),
  test_elf: join(VECTORS, 'inputs', 'test_elf'),
  'sign_key.pem': join(VECTORS, 'inputs', 'sign_key.pem'),
  'shared_payload.bin': join(VECTORS, 'inputs', 'shared_payload.bin'),
  'config.json': join(VECTORS, 'inputs', 'config.json'),
  'acpi.zip': join(VECTORS, 'acpi', 'acpi.zip'),
  'acpi-test': join(VECTORS, 'acpi', 'acpi-test'),
};

const ERROR_PREFIX = 'igvmgen: error: ';
const STACK_TRACE = /\bat .*\.js:\d+|node:internal/;

/** Is an executable `name` on `PATH`? */
function onPath(name: string): boolean {
  for (const d of (process.env['PATH'] ?? '').split(delimiter)) {
    if (d !== '' && existsSync(join(d, name))) return true;
  }
  return false;
}
const HAVE_IASL = onPath('iasl');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Sandbox listing (recursive, relative, directories with a trailing '/') before and after the run. */
  before: string[];
  after: string[];
}

const describeRun = (args: readonly string[], r: Run): string =>
  `igvmgen ${args.map((a) => JSON.stringify(a)).join(' ')}\nexit ${r.status}\n--- stdout\n${r.stdout.slice(0, 2000)}\n--- stderr\n${r.stderr.slice(0, 4000)}\n--- files after\n${r.after.join('\n')}`;

class Sandbox {
  readonly dir: string;
  /** TMPDIR of the child processes: a leftover temp file shows up in the listing. */
  readonly tmp: string;

  constructor(inputs: readonly string[]) {
    this.dir = mkdtempSync(join(tmpdir(), 'igvmgen-cli-test-'));
    this.tmp = join(this.dir, 'tmp');
    mkdirSync(this.tmp);
    for (const name of inputs) {
      const src = SOURCES[name];
      if (src === undefined) throw new Error(`unknown input ${name}`);
      cpSync(src, join(this.dir, name), { recursive: true });
    }
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  write(name: string, data: Uint8Array | string): string {
    writeFileSync(this.path(name), data);
    return name;
  }

  read(name: string): Uint8Array {
    return new Uint8Array(readFileSync(this.path(name)));
  }

  list(): string[] {
    const out: string[] = [];
    const walk = (rel: string): void => {
      for (const name of readdirSync(join(this.dir, rel)).sort()) {
        const r = rel === '' ? name : `${rel}/${name}`;
        if (statSync(join(this.dir, r)).isDirectory()) {
          out.push(`${r}/`);
          walk(r);
        } else {
          out.push(r);
        }
      }
    };
    walk('');
    return out;
  }

  run(args: readonly string[], env: Record<string, string> = {}): Run {
    const before = this.list();
    const childEnv: Record<string, string | undefined> = { ...process.env, TMPDIR: this.tmp, ...env };
    delete childEnv['IGVMKIT_DEBUG'];
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd: this.dir,
      encoding: 'utf8',
      env: childEnv,
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, before, after: this.list() };
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Runs `body` with a fresh sandbox holding copies of `inputs`, removed afterwards. */
function withSandbox<T>(inputs: readonly string[], body: (box: Sandbox) => T): T {
  const box = new Sandbox(inputs);
  try {
    return body(box);
  } finally {
    box.remove();
  }
}

/** Files present after the run that were not there before. */
const created = (r: Run): string[] => r.after.filter((f) => !r.before.includes(f));

/** The run failed cleanly: status, one error line matching `message`, no trace, no stdout, no file added or removed. */
function assertCleanFailure(args: readonly string[], r: Run, status: number, message: RegExp): string {
  const info = describeRun(args, r);
  assert.equal(r.status, status, `exit status\n${info}`);
  assert.doesNotMatch(r.stderr, STACK_TRACE, `stack trace on stderr\n${info}`);
  assert.equal(r.stdout, '', `stdout must be empty\n${info}`);
  assert.ok(r.stderr.endsWith('\n'), `stderr must end with a newline\n${info}`);
  const lines = r.stderr.slice(0, -1).split('\n');
  assert.equal(lines.length, 1, `stderr must be exactly one line\n${info}`);
  const line = lines[0] ?? '';
  assert.ok(line.startsWith(ERROR_PREFIX) && line.length > ERROR_PREFIX.length, `stderr must be one 'igvmgen: error: …' line\n${info}`);
  assert.match(line.slice(ERROR_PREFIX.length), message, `error message\n${info}`);
  assert.deepEqual(r.after, r.before, `the sandbox must be unchanged (no outputs, temp files or igvm.log)\n${info}`);
  return line;
}

/** The run succeeded; returns the files it created. */
function assertSuccess(args: readonly string[], r: Run, stderr: RegExp | '' = ''): string[] {
  const info = describeRun(args, r);
  assert.equal(r.status, 0, `exit status\n${info}`);
  assert.doesNotMatch(r.stderr, STACK_TRACE, `stack trace on stderr\n${info}`);
  if (stderr === '') assert.equal(r.stderr, '', `stderr must be empty\n${info}`);
  else assert.match(r.stderr, stderr, `stderr\n${info}`);
  return created(r);
}

/**
 * A message is clear when it does not repeat itself: no ': '-separated part of it is repeated (or is the start of
 * a later part), and it does not end in a dangling "is not".
 */
function assertNotRepetitive(line: string): void {
  const parts = line.slice(ERROR_PREFIX.length).replace(/ \[[a-z0-9-]+\]$/, '').split(': ');
  for (let i = 0; i < parts.length; i++) {
    for (let j = i + 1; j < parts.length; j++) {
      const a = parts[i] ?? '';
      const b = parts[j] ?? '';
      assert.ok(a === '' || !b.startsWith(a), `message repeats ${JSON.stringify(a)}: ${line}`);
    }
  }
  assert.doesNotMatch(line, /\bis not( \[[a-z0-9-]+\])?$/, `message ends in a dangling "is not": ${line}`);
}

// ---- command lines ----

interface GenOptions {
  kernel?: string | null;
  append?: string | null;
  signKey?: string | null;
  deterministic?: string | null;
  measurement?: string | null;
  out?: string | null;
}

/** `-o out.igvm -measurement_file m.json -kernel test_bzImage -append "console=ttyS0" -sign_key sign_key.pem -sign_deterministic 1`, adjustable. */
function gen(o: GenOptions, ...extra: string[]): string[] {
  const args: string[] = [];
  const add = (flag: string, value: string | null | undefined, dflt: string): void => {
    const v = value === undefined ? dflt : value;
    if (v !== null) args.push(flag, v);
  };
  add('-o', o.out, 'out.igvm');
  add('-measurement_file', o.measurement, 'm.json');
  add('-kernel', o.kernel, 'test_bzImage');
  add('-append', o.append, 'console=ttyS0');
  add('-sign_key', o.signKey, 'sign_key.pem');
  add('-sign_deterministic', o.deterministic, '1');
  return [...args, ...extra];
}

const BZ_INPUTS = ['test_bzImage', 'sign_key.pem'];

interface ErrorCase {
  inputs?: readonly string[];
  /** Creates further inputs in the sandbox before the run. */
  setup?: (box: Sandbox) => void;
  args: readonly string[];
  status?: number;
  message: RegExp;
  env?: Record<string, string>;
  /** Extra checks on the message (not repetitive, names the option): registered as a separate test. */
  quality?: { check: (line: string) => void };
}

function errorCase(name: string, c: ErrorCase): void {
  const runIt = (): string =>
    withSandbox(c.inputs ?? BZ_INPUTS, (box) => {
      c.setup?.(box);
      return assertCleanFailure(c.args, box.run(c.args, c.env), c.status ?? 2, c.message);
    });
  test(name, () => {
    runIt();
  });
  const q = c.quality;
  if (q !== undefined) {
    test(`${name} (message quality)`, () => {
      q.check(runIt());
    });
  }
}

// ---- bzImage and ELF fixtures ----

const BZIMAGE = new Uint8Array(readFileSync(SOURCES['test_bzImage']!));
const ELF = new Uint8Array(readFileSync(SOURCES['test_elf']!));

/** A copy of test_bzImage with its setup header changed by `patch`. */
function patchedBzImage(patch: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const bytes = BZIMAGE.slice();
  patch(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), bytes);
  return bytes;
}

/** Offsets in the setup header (IGVMGEN.md §3.1). */
const HDR_SIGNATURE = 0x202;
const HDR_XLOADFLAGS = 0x236;
const HDR_PREF_ADDRESS = 0x258;
const HDR_INIT_SIZE = 0x260;

test('fixtures: test_bzImage has the header values the patches below assume', () => {
  const v = new DataView(BZIMAGE.buffer, BZIMAGE.byteOffset, BZIMAGE.byteLength);
  assert.equal(BZIMAGE.length, 979);
  assert.equal(new TextDecoder().decode(BZIMAGE.subarray(HDR_SIGNATURE, HDR_SIGNATURE + 4)), 'HdrS');
  assert.equal(v.getUint16(HDR_XLOADFLAGS, true), 0x21);
  assert.equal(v.getBigUint64(HDR_PREF_ADDRESS, true), 0x1a00000n);
  assert.equal(v.getUint32(HDR_INIT_SIZE, true), 0x1a6e000);
});

// ---- missing and malformed options ----

errorCase('missing -kernel', {
  args: gen({ kernel: null }),
  message: /^-kernel FILE is required/,
});

errorCase('missing -append', {
  args: gen({ append: null }),
  message: /^-append STR is required/,
});

errorCase('non-ASCII -append ("café")', {
  args: gen({ append: 'café' }),
  message: /-append\b.*must be ASCII.*"é" \(U\+00E9\) at position 3/,
  quality: { check: assertNotRepetitive },
});

errorCase('non-ASCII -append with -inform elf', {
  inputs: ['test_elf', 'sign_key.pem'],
  args: gen({ kernel: 'test_elf', append: 'naïve' }, '-inform', 'elf'),
  message: /-append\b.*must be ASCII.*U\+00EF/,
});

errorCase('-inform bogus', {
  args: gen({}, '-inform', 'bogus'),
  message: /^argument -inform: invalid INFORM value: 'bogus'$/,
});

errorCase('-inform bzImage2 without -shared_payload', {
  args: gen({}, '-inform', 'bzImage2'),
  message: /^-inform bzImage2 needs -shared_payload FILE$/,
});

errorCase('-inform elf -boot_mode x64 without -pgtable_level', {
  inputs: ['test_elf', 'sign_key.pem'],
  args: gen({ kernel: 'test_elf' }, '-inform', 'elf', '-boot_mode', 'x64'),
  message: /-pgtable_level\b.*\b2 or 4/,
});

errorCase('-pgtable_level 3 (elf x64)', {
  inputs: ['test_elf', 'sign_key.pem'],
  args: gen({ kernel: 'test_elf' }, '-inform', 'elf', '-boot_mode', 'x64', '-pgtable_level', '3'),
  message: /^-pgtable_level 3: expected 2 or 4$/,
});

errorCase('-pgtable_level abc', {
  inputs: ['test_elf', 'sign_key.pem'],
  args: gen({ kernel: 'test_elf' }, '-inform', 'elf', '-boot_mode', 'x64', '-pgtable_level', 'abc'),
  message: /^argument -pgtable_level: invalid int value: 'abc'$/,
});

errorCase('-boot_mode X64 (case-sensitive)', {
  args: gen({}, '-boot_mode', 'X64'),
  message: /^argument -boot_mode: invalid ARCH value: 'X64'$/,
});

errorCase('-arch amd (case-sensitive)', {
  args: gen({}, '-arch', 'amd'),
  message: /^argument -arch: invalid \w+ value: 'amd'$/,
});

errorCase('-vtl 0x10 (decimal only)', {
  args: gen({}, '-vtl', '0x10'),
  message: /^argument -vtl: invalid int value: '0x10'$/,
});

errorCase('-start_addr 0x100 (decimal only)', {
  args: gen({}, '-start_addr', '0x100'),
  message: /^argument -start_addr: invalid int value: '0x100'$/,
});

errorCase('unknown option', {
  args: gen({}, '-bogus_option', '1'),
  message: /^unrecognized arguments: -bogus_option 1$/,
});

errorCase('ambiguous prefix -s', {
  args: gen({}, '-s', '1'),
  message: /^ambiguous option: -s could match .*-sign_key.*-svn/,
});

errorCase('-opt=value with an abbreviated name is not an option (Python 3.11 argparse)', {
  args: gen({ deterministic: null }, '-sign_det=1'),
  message: /^unrecognized arguments: -sign_det=1$/,
});

errorCase('option without its value', {
  args: [...gen({}), '-append'],
  message: /^argument -append: expected one argument$/,
});

for (const [flag, extra] of [
  ['-kernel', []],
  ['-rdinit', []],
  ['-sign_key', []],
  ['-shared_payload', ['-inform', 'bzImage2']],
] as const) {
  errorCase(`nonexistent ${flag} file`, {
    args: [...gen({}), ...extra, flag, 'missing.bin'],
    message: new RegExp(`^argument ${flag}: can't open 'missing\\.bin': \\[Errno 2\\] No such file or directory: 'missing\\.bin'$`),
  });
}

errorCase('-kernel is a directory', {
  setup: (box) => mkdirSync(box.path('kdir')),
  args: gen({ kernel: 'kdir' }),
  message: /^argument -kernel: can't open 'kdir': \[Errno 21\] Is a directory: 'kdir'$/,
});

errorCase('-rdinit is a directory', {
  setup: (box) => mkdirSync(box.path('rddir')),
  args: gen({}, '-rdinit', 'rddir'),
  message: /^argument -rdinit: can't open 'rddir': \[Errno 21\] Is a directory: 'rddir'$/,
});

// ---- bzImage setup header ----

errorCase('bzImage: bad "HdrS" signature', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((_, b) => b.set([0x58, 0x58, 0x58, 0x58], HDR_SIGNATURE))),
  args: gen({ kernel: 'bad_bzImage' }),
  message: /^-kernel bad_bzImage: offset 0x202 setup_header\.header: not a Linux bzImage: expected the boot protocol signature "HdrS" .*found 58 58 58 58/,
});

errorCase('bzImage: bad signature also with -pvalidate_opt 0', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((_, b) => b.set([0, 0, 0, 0], HDR_SIGNATURE))),
  args: gen({ kernel: 'bad_bzImage' }, '-pvalidate_opt', '0'),
  message: /^-kernel bad_bzImage: offset 0x202 setup_header\.header: not a Linux bzImage.*"HdrS"/,
});

errorCase('bzImage: file shorter than the setup header (0x26B bytes)', {
  setup: (box) => box.write('short_bzImage', BZIMAGE.subarray(0, 0x26b)),
  args: gen({ kernel: 'short_bzImage' }),
  message: /^-kernel short_bzImage: offset 0x26b setup_header: .*setup header at 0x1f1\.\.0x26c; the file is only 619 bytes/,
});

errorCase('bzImage: empty -kernel file', {
  setup: (box) => box.write('empty_bzImage', new Uint8Array(0)),
  args: gen({ kernel: 'empty_bzImage' }),
  message: /^-kernel empty_bzImage: .*setup header.*only 0 bytes/,
});

errorCase('bzImage: xloadflags bit 0 clear', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((v) => v.setUint16(HDR_XLOADFLAGS, v.getUint16(HDR_XLOADFLAGS, true) & ~1, true))),
  args: gen({ kernel: 'bad_bzImage' }),
  message: /^-kernel bad_bzImage: offset 0x236 setup_header\.xloadflags: xloadflags 0x20 lacks XLF_KERNEL_64 \(bit 0\)/,
});

errorCase('bzImage: pref_address 0x300000 (not above 3 MiB)', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((v) => v.setBigUint64(HDR_PREF_ADDRESS, 0x300000n, true))),
  args: gen({ kernel: 'bad_bzImage' }),
  message: /^-kernel bad_bzImage: offset 0x258 setup_header\.pref_address: pref_address 0x300000 must be above 3 MiB/,
});

errorCase('bzImage: pref_address 0x400000 (above 3 MiB, below the fixed pages ending at 0x804000)', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((v) => v.setBigUint64(HDR_PREF_ADDRESS, 0x400000n, true))),
  args: gen({ kernel: 'bad_bzImage' }),
  message: /^-kernel bad_bzImage: offset 0x258 setup_header\.pref_address: pref_address 0x400000 is below 0x804000/,
});

errorCase('bzImage: unaligned pref_address', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((v) => v.setBigUint64(HDR_PREF_ADDRESS, 0x1000800n, true))),
  args: gen({ kernel: 'bad_bzImage' }),
  message: /^-kernel bad_bzImage: offset 0x258 setup_header\.pref_address: pref_address 0x1000800 is not a multiple of 4096/,
});

errorCase('bzImage: unaligned init_size', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((v) => v.setUint32(HDR_INIT_SIZE, 0x1a6e010, true))),
  args: gen({ kernel: 'bad_bzImage' }),
  message: /^-kernel bad_bzImage: offset 0x260 setup_header\.init_size: init_size 0x1a6e010 is not a multiple of 4096/,
});

errorCase('bzImage: init_size 0x6000 < 0x7000 (page-table region would start below pref_address)', {
  setup: (box) => box.write('bad_bzImage', patchedBzImage((v) => v.setUint32(HDR_INIT_SIZE, 0x6000, true))),
  args: gen({ kernel: 'bad_bzImage' }),
  message: /^-kernel bad_bzImage: offset 0x260 setup_header\.init_size: init_size 0x6000 is too small for this kernel: the default pre-validated region .* ends beyond init_size 0x6000/,
  quality: {
    check: (line) => {
      assert.match(line, /bad_bzImage/, 'names the file');
      assert.match(line, /init_size/, 'names the field');
      assert.doesNotMatch(line, /0x-/, 'no negative hex');
      assertNotRepetitive(line);
    },
  },
});

test('bzImage: pref_address exactly 0x804000 (the end of the fixed pages) is accepted', () => {
  withSandbox(BZ_INPUTS, (box) => {
    box.write('low_bzImage', patchedBzImage((v) => v.setBigUint64(HDR_PREF_ADDRESS, 0x804000n, true)));
    const args = gen({ kernel: 'low_bzImage' });
    assert.deepEqual(assertSuccess(args, box.run(args)), ['m.json', 'out.igvm']);
  });
});

errorCase('-vmpl2_kernel that is not a bzImage (-inform elf)', {
  inputs: ['test_elf', 'sign_key.pem'],
  args: gen({ kernel: 'test_elf' }, '-inform', 'elf', '-vmpl2_kernel', 'test_elf'),
  message: /^-vmpl2_kernel test_elf: offset 0x202 setup_header\.header: not a Linux bzImage.*"HdrS"/,
});

// ---- ELF ----

errorCase('-inform elf with a non-ELF kernel (test_bzImage)', {
  args: gen({}, '-inform', 'elf'),
  message: /^-kernel test_bzImage: offset 0x0 e_ident: not an ELF file: expected magic 7f 45 4c 46/,
  quality: { check: assertNotRepetitive },
});

errorCase('-inform elf with a truncated ELF (3000 of 14016 bytes)', {
  setup: (box) => box.write('truncated_elf', ELF.subarray(0, 3000)),
  inputs: ['sign_key.pem'],
  args: gen({ kernel: 'truncated_elf' }, '-inform', 'elf'),
  message: /^-kernel truncated_elf: .*section header table.*runs past the end of the file \(3000 bytes\)/,
});

errorCase('-inform elf with an ELF shorter than its header (40 bytes)', {
  setup: (box) => box.write('tiny_elf', ELF.subarray(0, 40)),
  inputs: ['sign_key.pem'],
  args: gen({ kernel: 'tiny_elf' }, '-inform', 'elf'),
  message: /^-kernel tiny_elf: .*ELF header truncated: ELF64 header is 64 bytes, file has 40/,
});

errorCase('-symbol_elf that is not an ELF', {
  args: gen({}, '-symbol_elf', 'test_bzImage'),
  message: /^-symbol_elf test_bzImage: offset 0x0 e_ident: not an ELF file/,
  quality: { check: (line) => { assert.match(line, /-symbol_elf/); assertNotRepetitive(line); } },
});

errorCase('-symbol_elf without the boot_stack/_end/pgtable symbols', {
  inputs: ['test_bzImage', 'test_elf', 'sign_key.pem'],
  args: gen({}, '-symbol_elf', 'test_elf'),
  message: /^-symbol_elf test_elf: boot_stack: the symbol table must define boot_stack exactly once; found 0/,
});

// ---- signing key ----

errorCase('-sign_key that is not PEM', {
  setup: (box) => box.write('notakey.pem', 'hello, world\n'),
  args: gen({ signKey: 'notakey.pem' }),
  message: /^-sign_key notakey\.pem: expected a PEM key .*EC PRIVATE KEY/,
});

errorCase('-sign_key PEM with broken base64', {
  setup: (box) => box.write('broken.pem', '-----BEGIN EC PRIVATE KEY-----\nAAAA!!\n-----END EC PRIVATE KEY-----\n'),
  args: gen({ signKey: 'broken.pem' }),
  message: /^-sign_key broken\.pem: .*base64.*malformed/,
});

errorCase('-sign_key empty file', {
  setup: (box) => box.write('empty.pem', ''),
  args: gen({ signKey: 'empty.pem' }),
  message: /^-sign_key empty\.pem: expected a PEM key/,
});

errorCase('-sign_key P-256 (SEC1) names the curve', {
  setup: (box) => box.write('p256.pem', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'sec1', format: 'pem' })),
  args: gen({ signKey: 'p256.pem' }),
  message: /^-sign_key p256\.pem: the key is on curve P-256 .*needs P-384/,
});

errorCase('-sign_key P-256 (PKCS#8) names the curve', {
  setup: (box) => box.write('p256.pem', generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey.export({ type: 'pkcs8', format: 'pem' })),
  args: gen({ signKey: 'p256.pem' }),
  message: /^-sign_key p256\.pem: the key is on curve P-256 .*needs P-384/,
});

errorCase('-sign_key RSA (PKCS#8)', {
  setup: (box) => box.write('rsa.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' })),
  args: gen({ signKey: 'rsa.pem' }),
  message: /^-sign_key rsa\.pem: .*the key is an RSA key .*expected an EC key/,
});

errorCase('-sign_key RSA (PKCS#1 "RSA PRIVATE KEY")', {
  setup: (box) => box.write('rsa.pem', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' })),
  args: gen({ signKey: 'rsa.pem' }),
  message: /^-sign_key rsa\.pem: found a "RSA PRIVATE KEY" block; expected an EC key/,
});

errorCase('-sign_key public key', {
  setup: (box) => box.write('pub.pem', generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).publicKey.export({ type: 'spki', format: 'pem' })),
  args: gen({ signKey: 'pub.pem' }),
  message: /^-sign_key pub\.pem: expected a .*PRIVATE KEY.* block, found "PUBLIC KEY"/,
});

test('-sign_key P-384 in PKCS#8 gives the same bytes as the SEC1 file', () => {
  withSandbox(BZ_INPUTS, (box) => {
    box.write('p8.pem', createPrivateKey(readFileSync(box.path('sign_key.pem'))).export({ type: 'pkcs8', format: 'pem' }));
    const a = gen({ measurement: null, out: 'a.igvm' });
    const b = gen({ measurement: null, out: 'b.igvm', signKey: 'p8.pem' });
    assertSuccess(a, box.run(a));
    assertSuccess(b, box.run(b));
    assert.deepEqual(box.read('a.igvm'), box.read('b.igvm'));
  });
});

// ---- -config_file ----

errorCase('-config_file nonexistent', {
  args: gen({}, '-config_file', 'missing.json'),
  message: /-config_file\b.*missing\.json/,
});

errorCase('-config_file is a directory', {
  setup: (box) => mkdirSync(box.path('cfgdir')),
  args: gen({}, '-config_file', 'cfgdir'),
  message: /-config_file\b.*cfgdir/,
});

errorCase('-config_file with invalid JSON', {
  setup: (box) => box.write('bad.json', '{bad'),
  args: gen({}, '-config_file', 'bad.json'),
  message: /^-config_file bad\.json: expected a JSON document/,
});

function configWith(change: (data: Record<string, unknown>) => void): string {
  const c = JSON.parse(readFileSync(SOURCES['config.json']!, 'utf8')) as { tei_config_data: Record<string, unknown> };
  change(c.tei_config_data);
  return JSON.stringify(c);
}

errorCase('-config_file with guest_svn "7" (a string)', {
  setup: (box) => box.write('badsvn.json', configWith((d) => { d['guest_svn'] = '7'; })),
  args: gen({}, '-config_file', 'badsvn.json'),
  message: /^-config_file badsvn\.json: tei_config_data\.guest_svn: expected an integer 0\.\.4294967295, got "7"/,
});

errorCase('-config_file with family_id that is not hex', {
  setup: (box) => box.write('badfam.json', configWith((d) => { d['family_id'] = 'XYZ'; })),
  args: gen({}, '-config_file', 'badfam.json'),
  message: /^-config_file badfam\.json: tei_config_data\.family_id: expected a hex string/,
});

errorCase('-config_file with policy.abi_major 300', {
  setup: (box) => box.write('badabi.json', configWith((d) => { (d['policy'] as Record<string, unknown>)['abi_major'] = 300; })),
  args: gen({}, '-config_file', 'badabi.json'),
  message: /^-config_file badabi\.json: tei_config_data\.policy\.abi_major: expected an integer 0\.\.255, got 300/,
});

errorCase('-config_file without tei_config_data', {
  setup: (box) => box.write('nodata.json', '{}'),
  args: gen({}, '-config_file', 'nodata.json'),
  message: /^-config_file nodata\.json: tei_config_data: missing; expected an object/,
});

// ---- -acpi_dir ----

errorCase('-acpi_dir nonexistent path', {
  args: gen({}, '-acpi_dir', 'no_such_acpi'),
  message: /^-acpi_dir no_such_acpi: no such file or directory \(expected a folder of \.dsl files or an acpi\.zip snapshot\)$/,
});

const SSDT_DSL = `DefinitionBlock ("", "SSDT", 2, "TEST", "SSDTTEST", 0x00000001)
{
    Name (TVAL, 0x01)
}
`;

errorCase('-acpi_dir with an SSDT table (signature not allowed)', {
  inputs: [...BZ_INPUTS, 'acpi-test'],
  setup: (box) => box.write('acpi-test/ssdt.dsl', SSDT_DSL),
  args: gen({}, '-acpi_dir', 'acpi-test'),
  message: /^-acpi_dir .*ssdt\.dsl: ACPI table signature "SSDT" is not one igvmgen accepts \(XSDT, RSD_, DSDT, FACS, FACP, OEM0, APIC, TPM2, TCPA, MCFG\)/,
  quality: { check: assertNotRepetitive },
});

test('-acpi_dir acpi-test (the folder the SSDT case starts from) compiles and leaves nothing behind', () => {
  assert.ok(HAVE_IASL, 'iasl is needed for this test: apt-get install acpica-tools');
  withSandbox([...BZ_INPUTS, 'acpi-test'], (box) => {
    const args = gen({}, '-acpi_dir', 'acpi-test');
    assert.deepEqual(assertSuccess(args, box.run(args)), ['m.json', 'out.igvm'], 'no .aml in the folder, no temp dirs');
  });
});

errorCase('-acpi_dir folder without .dsl files', {
  setup: (box) => {
    mkdirSync(box.path('empty_acpi'));
    box.write('empty_acpi/README.txt', 'no tables here\n');
  },
  args: gen({}, '-acpi_dir', 'empty_acpi'),
  message: /^-acpi_dir empty_acpi: no \.dsl files in the ACPI folder/,
  quality: { check: assertNotRepetitive },
});

errorCase('-acpi_dir DIR with no iasl on PATH mentions acpica-tools', {
  inputs: [...BZ_INPUTS, 'acpi-test'],
  args: gen({}, '-acpi_dir', 'acpi-test'),
  env: { PATH: '/nonexistent' },
  message: /iasl.*acpica-tools/,
});

test('without -acpi_dir no iasl is needed (PATH without iasl succeeds)', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const args = gen({});
    const r = box.run(args, { PATH: '/nonexistent' });
    assert.deepEqual(assertSuccess(args, r), ['m.json', 'out.igvm']);
    assert.match(r.stdout, /^\{'x-ms-sevsnpvm-guestsvn': '0', 'x-ms-sevsnpvm-launchmeasurement': '[0-9a-f]{96}'\}\n$/);
  });
});

test('-acpi_dir acpi.zip (the original snapshot) needs no iasl either', () => {
  withSandbox([...BZ_INPUTS, 'acpi.zip'], (box) => {
    const args = gen({}, '-acpi_dir', 'acpi.zip');
    assert.deepEqual(assertSuccess(args, box.run(args, { PATH: '/nonexistent' })), ['m.json', 'out.igvm']);
  });
});

function randomBytes(seed: number, n: number): Uint8Array {
  const next = rng(seed);
  return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
}

const NAMES_ACPI_ZIP = {
  check: (line: string): void => assert.match(line.slice(ERROR_PREFIX.length).replace(/^[^:]*: /, ''), /acpi/),
};

// Like the original (Python base64 without validate=True), characters outside the base64 alphabet are skipped, so
// random bytes usually reach the zlib stage.
errorCase('-acpi_dir corrupt acpi.zip (random bytes)', {
  setup: (box) => box.write('garbage.zip', randomBytes(1, 3000)),
  args: gen({}, '-acpi_dir', 'garbage.zip'),
  message: /^-acpi_dir garbage\.zip: not a folder and not a valid acpi\.zip snapshot .*zlib/,
  quality: NAMES_ACPI_ZIP,
});

errorCase('-acpi_dir corrupt acpi.zip (base64 with one dangling character)', {
  setup: (box) => box.write('dangling.zip', 'eJzLS'),
  args: gen({}, '-acpi_dir', 'dangling.zip'),
  message: /^-acpi_dir dangling\.zip: not a folder and not a valid acpi\.zip snapshot .*base64.*padding/,
});

// Python's base64.b64decode('eJzLSM3JyVcozy/KSQEAGgQEXQ') (26 characters, no '=') raises "Incorrect padding".
errorCase('-acpi_dir corrupt acpi.zip (base64 without its padding)', {
  setup: (box) => box.write('badpad.zip', 'eJzLSM3JyVcozy/KSQEAGgQEXQ'),
  args: gen({}, '-acpi_dir', 'badpad.zip'),
  message: /^-acpi_dir badpad\.zip: not a folder and not a valid acpi\.zip snapshot .*base64.*padding/,
});

errorCase('-acpi_dir corrupt acpi.zip (valid base64 of garbage)', {
  setup: (box) => box.write('garbage64.zip', Buffer.from(randomBytes(2, 3000)).toString('base64')),
  args: gen({}, '-acpi_dir', 'garbage64.zip'),
  message: /^-acpi_dir garbage64\.zip: not a folder and not a valid acpi\.zip snapshot .*zlib/,
  quality: NAMES_ACPI_ZIP,
});

errorCase('-acpi_dir empty acpi.zip', {
  setup: (box) => box.write('empty.zip', ''),
  args: gen({}, '-acpi_dir', 'empty.zip'),
  message: /^-acpi_dir empty\.zip: not a folder and not a valid acpi\.zip snapshot/,
});

// ---- outputs ----

test('-o into a nonexistent directory: exit 3, and neither the measurement file nor igvm.log is written', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const args = gen({ out: 'nodir/out.igvm' }, '-l', 'DEBUG');
    assertCleanFailure(args, box.run(args), 3, /^cannot write 'nodir\/out\.igvm': no such directory$/);
    assert.ok(!existsSync(box.path('m.json')));
    assert.ok(!existsSync(box.path('igvm.log')));
  });
});

test('-measurement_file into a nonexistent directory: exit 3, and no out.igvm', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const args = gen({ measurement: 'nodir/m.json' });
    assertCleanFailure(args, box.run(args), 3, /^cannot write 'nodir\/m\.json': no such directory$/);
    assert.ok(!existsSync(box.path('out.igvm')));
  });
});

test('-o pointing at an existing directory: exit 3, the directory stays empty', () => {
  withSandbox(BZ_INPUTS, (box) => {
    mkdirSync(box.path('outdir'));
    const args = gen({ out: 'outdir' });
    assertCleanFailure(args, box.run(args), 3, /^cannot write 'outdir': is a directory$/);
    assert.deepEqual(readdirSync(box.path('outdir')), []);
  });
});

test('-measurement_file the same path as -o: exit 3', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const args = gen({ measurement: 'out.igvm' });
    assertCleanFailure(args, box.run(args), 3, /^cannot write 'out\.igvm': given more than once$/);
  });
});

test('a failed run leaves existing -o and -measurement_file files untouched', () => {
  withSandbox(BZ_INPUTS, (box) => {
    box.write('out.igvm', 'old image');
    box.write('m.json', 'old measurement');
    const args = gen({ append: 'café' });
    assertCleanFailure(args, box.run(args), 2, /ASCII/);
    assert.equal(readFileSync(box.path('out.igvm'), 'utf8'), 'old image');
    assert.equal(readFileSync(box.path('m.json'), 'utf8'), 'old measurement');
  });
});

test('a successful run replaces existing outputs', () => {
  withSandbox(BZ_INPUTS, (box) => {
    box.write('out.igvm', 'old image');
    const args = gen({});
    assert.deepEqual(assertSuccess(args, box.run(args)), ['m.json']);
    assert.ok(box.read('out.igvm').length > 4096);
    const m = JSON.parse(readFileSync(box.path('m.json'), 'utf8')) as Record<string, string>;
    assert.deepEqual(Object.keys(m), ['x-ms-sevsnpvm-guestsvn', 'x-ms-sevsnpvm-launchmeasurement']);
  });
});

// ---- -l / igvm.log ----

errorCase('-l bogus', {
  args: gen({}, '-l', 'bogus'),
  message: /^argument -l\/--log-level: unknown level: 'bogus'/,
});

errorCase('-l info (level names are upper case)', {
  args: gen({}, '-l', 'info'),
  message: /^argument -l\/--log-level: unknown level: 'info' \(expected one of .*DEBUG/,
});

test('-l DEBUG writes ./igvm.log with DEBUG:igvmgen: lines', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const args = gen({}, '-l', 'DEBUG');
    assert.deepEqual(assertSuccess(args, box.run(args)), ['igvm.log', 'm.json', 'out.igvm']);
    const log = readFileSync(box.path('igvm.log'), 'utf8');
    assert.ok(log.length > 0, 'igvm.log is empty');
    assert.ok(log.endsWith('\n'));
    const lines = log.slice(0, -1).split('\n');
    for (const l of lines) assert.match(l, /^(DEBUG|INFO|WARNING|ERROR|CRITICAL):igvmgen:./);
    assert.ok(lines.some((l) => l.startsWith('DEBUG:igvmgen:')), log);
  });
});

test('--log-level ERROR writes an igvm.log too (without DEBUG lines)', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const args = gen({}, '--log-level', 'ERROR');
    assert.deepEqual(assertSuccess(args, box.run(args)), ['igvm.log', 'm.json', 'out.igvm']);
    assert.doesNotMatch(readFileSync(box.path('igvm.log'), 'utf8'), /^(DEBUG|INFO):/m);
  });
});

// ---- -d ----

errorCase('-d on a short file', {
  setup: (box) => box.write('short.igvm', new Uint8Array(10)),
  args: ['-d', 'short.igvm'],
  message: /^short\.igvm: .*truncated/,
});

errorCase('-d on a non-IGVM file (test_bzImage)', {
  args: ['-d', 'test_bzImage'],
  message: /^test_bzImage: /,
});

errorCase('-d nonexistent', {
  args: ['-d', 'missing.igvm'],
  message: /^argument -d: can't open 'missing\.igvm': \[Errno 2\] No such file or directory: 'missing\.igvm'$/,
});

test('-d on a generated file prints the dump and wins over -o', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const g = gen({ measurement: null });
    assertSuccess(g, box.run(g));
    const d = ['-d', 'out.igvm', '-o', 'other.igvm'];
    const r = box.run(d);
    assert.deepEqual(assertSuccess(d, r), []);
    assert.ok(r.stdout.length > 100, describeRun(d, r));
  });
});

// ---- signing: warnings and reproducibility ----

test('without -sign_key: exit 0, one warning that the output is not reproducible, and two runs differ', () => {
  withSandbox(['test_bzImage'], (box) => {
    const outs: Uint8Array[] = [];
    for (const out of ['a.igvm', 'b.igvm']) {
      const args = gen({ out, measurement: null, signKey: null, deterministic: null });
      const r = box.run(args);
      assert.deepEqual(assertSuccess(args, r, /^igvmgen: warning: [^\n]*not reproducible[^\n]*\n$/), [out]);
      assert.equal(r.stdout, '');
      outs.push(box.read(out));
    }
    assert.notDeepEqual(outs[0], outs[1]);
    assert.equal(outs[0]!.length, outs[1]!.length);
  });
});

test('-sign_deterministic 1 without -sign_key still warns (the key is random)', () => {
  withSandbox(['test_bzImage'], (box) => {
    const args = gen({ measurement: null, signKey: null });
    assertSuccess(args, box.run(args), /^igvmgen: warning: [^\n]*not reproducible[^\n]*\n$/);
  });
});

test('-sign_key without -sign_deterministic: one warning about the random nonce, and two runs differ', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const outs: Uint8Array[] = [];
    for (const [out, det] of [['a.igvm', null], ['b.igvm', 'yes']] as const) {
      const args = gen({ out, measurement: null, deterministic: det });
      assertSuccess(args, box.run(args), /^igvmgen: warning: [^\n]*random nonce[^\n]*\n$/);
      outs.push(box.read(out));
    }
    assert.notDeepEqual(outs[0], outs[1]);
  });
});

test('-sign_key + -sign_deterministic 1: stderr empty, only out.igvm and m.json created, two runs identical', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const outs: Uint8Array[] = [];
    const stdouts: string[] = [];
    for (const [out, m] of [['a.igvm', 'a.json'], ['b.igvm', 'b.json']] as const) {
      const args = gen({ out, measurement: m });
      const r = box.run(args);
      assert.deepEqual(assertSuccess(args, r).sort(), [m, out].sort());
      outs.push(box.read(out));
      stdouts.push(r.stdout);
    }
    assert.deepEqual(outs[0], outs[1]);
    assert.equal(stdouts[0], stdouts[1]);
    assert.equal(readFileSync(box.path('a.json'), 'utf8'), readFileSync(box.path('b.json'), 'utf8'));
  });
});

// ---- option semantics that must not change the output ----

/** Runs each command line (its -o must be given by `out`) and returns the output bytes. */
function outputsOf(box: Sandbox, lines: readonly (readonly string[])[], stderr: (args: readonly string[]) => RegExp | '' = () => ''): Uint8Array[] {
  return lines.map((args) => {
    const r = box.run(args);
    assertSuccess(args, r, stderr(args));
    const i = args.findIndex((a) => a === '-o' || a.startsWith('-o'));
    const a = args[i] ?? '';
    const out = a === '-o' ? args[i + 1] ?? '' : a.slice(2).replace(/^=/, '');
    return box.read(out);
  });
}

test('booleans: -pvalidate_opt yes is false (same bytes as 0), True is true (same as the default)', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const [yes, zero, trueCap, dflt] = outputsOf(box, [
      gen({ out: 'yes.igvm', measurement: null }, '-pvalidate_opt', 'yes'),
      gen({ out: 'zero.igvm', measurement: null }, '-pvalidate_opt', '0'),
      gen({ out: 'true.igvm', measurement: null }, '-pvalidate_opt', 'True'),
      gen({ out: 'default.igvm', measurement: null }),
    ]);
    assert.deepEqual(yes, zero);
    assert.deepEqual(trueCap, dflt);
    assert.notDeepEqual(zero, dflt, '-pvalidate_opt must make a difference');
  });
});

test('-vtl is stored as a byte: 258 = 2, -1 = 255, 3 differs', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const [v258, v2, vm1, v255, v3] = outputsOf(box, [
      gen({ out: '258.igvm', measurement: null }, '-vtl', '258'),
      gen({ out: '2.igvm', measurement: null }, '-vtl', '2'),
      gen({ out: 'm1.igvm', measurement: null }, '-vtl', '-1'),
      gen({ out: '255.igvm', measurement: null }, '-vtl', '255'),
      gen({ out: '3.igvm', measurement: null }, '-vtl', '3'),
    ], (args) => {
      const vtl = args[args.indexOf('-vtl') + 1];
      // HighestVtl other than 0 or 2: written as the original does, with one warning line.
      return vtl === '-1' || vtl === '255' || vtl === '3'
        ? new RegExp(`^igvmgen: warning: -vtl ${vtl} gives HighestVtl ${vtl === '-1' ? 255 : vtl}; SEV-SNP allows only 0 or 2.*\n$`)
        : '';
    });
    assert.deepEqual(v258, v2);
    assert.deepEqual(vm1, v255);
    assert.notDeepEqual(v3, v2);
    // (A HighestVtl other than 0 or 2 is what the original writes too, but the strict parser rejects it.)
    assert.equal(parseIgvm(v258!).platforms[0]?.highest_vtl, 2);
    const lenient = readIgvm(v255!, false);
    assert.equal(lenient.file?.platforms[0]?.highest_vtl, 255);
    assert.ok(lenient.problems.some((p) => p.code === 'invalid-vtl'));
  });
});

test('option prefixes, -opt=value and glued -oFILE give the same bytes as the full spelling', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const [full, prefix, equals, glued] = outputsOf(box, [
      ['-o', 'full.igvm', '-kernel', 'test_bzImage', '-append', 'console=ttyS0', '-sign_key', 'sign_key.pem', '-sign_deterministic', '1', '-boot_mode', 'x64'],
      ['-o', 'prefix.igvm', '-kern', 'test_bzImage', '-app', 'console=ttyS0', '-sign_k', 'sign_key.pem', '-sign_d', '1', '-boot', 'x64'],
      ['-o=equals.igvm', '-kernel=test_bzImage', '-append=console=ttyS0', '-sign_key=sign_key.pem', '-sign_deterministic=1', '-boot_mode=x64'],
      ['-oglued.igvm', '-kernel', 'test_bzImage', '-append', 'console=ttyS0', '-sign_key', 'sign_key.pem', '-sign_deterministic', '1', '-boot_mode', 'x64'],
    ]);
    assert.deepEqual(prefix, full);
    assert.deepEqual(equals, full);
    assert.deepEqual(glued, full);
  });
});

test('a repeated option keeps the last value', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const [twice, once] = outputsOf(box, [
      gen({ out: 'twice.igvm', measurement: null }, '-append', 'other', '-append', 'console=ttyS0'),
      gen({ out: 'once.igvm', measurement: null }),
    ]);
    assert.deepEqual(twice, once);
  });
});

test('-start_addr 123 changes nothing (bzImage and elf)', () => {
  withSandbox([...BZ_INPUTS, 'test_elf'], (box) => {
    const [bzWith, bzWithout, elfWith, elfWithout] = outputsOf(box, [
      gen({ out: 'bz1.igvm', measurement: null }, '-start_addr', '123'),
      gen({ out: 'bz2.igvm', measurement: null }),
      gen({ out: 'elf1.igvm', measurement: null, kernel: 'test_elf' }, '-inform', 'elf', '-start_addr', '123'),
      gen({ out: 'elf2.igvm', measurement: null, kernel: 'test_elf' }, '-inform', 'elf'),
    ]);
    assert.deepEqual(bzWith, bzWithout);
    assert.deepEqual(elfWith, elfWithout);
  });
});

test('-config_file inputs/config.json sets GUEST_POLICY 0xB001F and the ID block version/guest_svn/family/image ids', () => {
  withSandbox([...BZ_INPUTS, 'config.json'], (box) => {
    const [withCfg, without] = outputsOf(box, [
      gen({ out: 'cfg.igvm', measurement: null }, '-config_file', 'config.json'),
      gen({ out: 'plain.igvm', measurement: null }),
    ]);
    const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
    const look = (bytes: Uint8Array) => {
      const f = parseIgvm(bytes);
      const policy = f.initializations.find((h) => h.type === 'GUEST_POLICY');
      const id = f.directives.find((h) => h.type === 'SNP_ID_BLOCK');
      assert.ok(policy && policy.type === 'GUEST_POLICY', 'GUEST_POLICY header');
      assert.ok(id && id.type === 'SNP_ID_BLOCK', 'SNP_ID_BLOCK header');
      return { policy: policy.policy, version: id.version, svn: id.guest_svn, family: hex(id.family_id), image: hex(id.image_id) };
    };
    assert.deepEqual(look(withCfg!), {
      policy: 0xb001fn,
      version: 3,
      svn: 7,
      family: '12161a1b12161a1b12161a1b12161a1b',
      image: '1a1b12161a1b12161a1b12161a1b1216',
    });
    assert.deepEqual(look(without!), {
      policy: 0x3001fn,
      version: 1,
      svn: 2,
      family: '01' + '00'.repeat(15),
      image: '02' + '00'.repeat(15),
    });
  });
});

test('-inform elf leaves no <kernel>.binary next to the input', () => {
  withSandbox(['test_elf', 'sign_key.pem'], (box) => {
    const args = gen({ kernel: 'test_elf' }, '-inform', 'elf');
    assert.deepEqual(assertSuccess(args, box.run(args)), ['m.json', 'out.igvm']);
  });
});

// ---- help ----

test('no arguments at all prints the help (exit 0, stderr empty, nothing written)', () => {
  withSandbox([], (box) => {
    const r = box.run([]);
    assert.deepEqual(assertSuccess([], r), []);
    assert.match(r.stdout, /^usage: igvmgen /);
    assert.match(r.stdout, /-kernel KERNEL/);
  });
});

test('options but no -o print the help (exit 0) and generate nothing', () => {
  withSandbox(BZ_INPUTS, (box) => {
    const args = gen({ out: null });
    const r = box.run(args);
    assert.deepEqual(assertSuccess(args, r, /no -o FILE given/), []);
    assert.match(r.stdout, /^usage: igvmgen /);
  });
});

test('-h prints the help even with a bad -l after it', () => {
  withSandbox([], (box) => {
    const r = box.run(['-h', '-l', 'bogus']);
    assert.deepEqual(assertSuccess(['-h'], r), []);
    assert.match(r.stdout, /^usage: igvmgen /);
  });
});
