// `igvm load` and `igvm qemu-args`, run as child processes: summary, --json, QEMU's error and exit 1, --dump-memory, the command line.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IgvmBuilder } from '../../src/builder.js';
import { REPO_ROOT, storedVectors } from '../helpers.js';
import { runIgvm, runInfo, type Run } from './run-cli.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');
const dir = mkdtempSync(join(tmpdir(), 'igvm-load-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));


const igvm = (args: string[]): Run => runIgvm([...args]);
const info = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout.slice(0, 3000)}\n--- stderr\n${r.stderr}`;

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** §11's parameter experiment: code at 0x100000, memory map at 0x200000, VP count + environment info at 0x201000. */
function nativeFile(): string {
  const b = new IgvmBuilder({ formatVersion: 2 });
  const m = b.platform('NATIVE');
  b.pages(0x100000n, new Uint8Array(64).fill(0xf4), m);
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(0x200000n, m, 0);
  b.parameterArea(1, 0x1000n).parameter('VP_COUNT_PARAMETER', 1, 0).parameter('ENVIRONMENT_INFO_PARAMETER', 1, 4).parameterInsert(0x201000n, m, 1);
  b.nativeContext(m, 0, { rip: 0x100000n, rflags: 2n, cr0: 0x11n, code_selector: 0x10, code_attributes: 0xc09b, code_limit: 0xffffffff, data_selector: 0x18, data_attributes: 0xc093, data_limit: 0xffffffff });
  return write('native.igvm', b.toBytes());
}

function snpFile(): string {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.guestPolicy(0x3001fn, m);
  b.pageData(0x100000n, m, new Uint8Array([1, 2, 3]));
  b.parameterArea(0, 0x1000n).parameterInsert(0x200000n, m, 0);
  return write('snp.igvm', b.toBytes());
}

test('igvm load: the summary shows platform, E820, regions, parameter areas as the guest reads them, vCPUs', () => {
  const r = igvm(['load', nativeFile(), '--memory', '128M', '--vcpus', '4']);
  assert.equal(r.status, 0, info(r));
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /: loads\n/);
  assert.match(r.stdout, /^ {2}QEMU 10\.2: -machine q35, -accel tcg, -m 128 MiB, -smp 4, -cpu qemu64, no confidential-guest object$/m);
  assert.match(r.stdout, /^ {2}platform NATIVE, mask 0x1$/m);
  assert.match(r.stdout, /0x0–0x7ffffff\s+ram\s+page 0x0, 0x8000 pages/);
  assert.match(r.stdout, /0x200000–0x200fff\s+parameter area 0, directive 3, pc\.ram\+0x200000/);
  assert.match(r.stdout, /0x100000–0x100fff\s+data 1 page NORMAL, directive 0, pc\.ram\+0x100000/);
  assert.match(r.stdout, /MEMORY_MAP at 0x0: 2 entries — page 0x0 ×0x8000 MEMORY; page 0xfd00000 ×0x300000 PLATFORM_RESERVED/);
  assert.match(r.stdout, /VP_COUNT at 0x0: 4$/m);
  assert.match(r.stdout, /ENVIRONMENT_INFO at 0x4: 0x1 \(memory_is_shared=1\)$/m);
  assert.match(r.stdout, /vp 0 \(BSP\): native context \(directive 8\), 32-bit protected mode, no paging/);
  assert.match(r.stdout, /cs 0x10 base 0x0 limit 0xffffffff attr 0xc09b/);
});

test('igvm load --json: the whole plan (bigints as hex strings, page contents as SHA-384)', () => {
  const r = igvm(['load', snpFile(), '--accel', 'kvm', '--json']);
  assert.equal(r.status, 0, info(r));
  const j = JSON.parse(r.stdout) as { ok: boolean; config: Record<string, unknown>; plan: Record<string, any> };
  assert.equal(j.ok, true);
  assert.equal(j.config['objectType'], 'sev-snp-guest');
  assert.deepEqual(j.plan['platform'], { type: 'SEV_SNP', mask: 1 });
  const updates = j.plan['snp'].launch_updates as Record<string, unknown>[];
  assert.deepEqual(updates.map((u) => [u['gpa'], u['type']]), [['0x200000', 'UNMEASURED'], ['0x100000', 'NORMAL'], ['0xfffffffff000', 'VMSA']]);
  const page = new Uint8Array(4096);
  page.set([1, 2, 3]);
  assert.equal(updates[1]?.['contents_sha384'], createHash('sha384').update(page).digest('hex'));
  assert.equal(j.plan['snp'].launch_policy, '0x3001f');
  assert.match(j.plan['parameter_areas'][0].bytes, /^(00){4096}$/);
});

test('igvm load: QEMU\'s error as `qemu-system-x86_64: …` on stderr, exit 1', () => {
  const b = new IgvmBuilder();
  const m = b.platform('NATIVE');
  b.pageData(0xfec00000n, m, new Uint8Array([1]));
  const r = igvm(['load', write('ioapic.igvm', b.toBytes())]);
  assert.equal(r.status, 1, info(r));
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, 'qemu-system-x86_64: Processing of IGVM file failed: Could not prepare memory at address 0xFEC00000 due to existing non-RAM region\n'
    + 'igvm: note: the range 0xfec00000–0xfec00fff meets ioapic (0xfec00000–0xfec00fff), which is MMIO\n');
});

test('igvm load: a non-IGVM file gives QEMU\'s parse error with the path', () => {
  const path = write('not.igvm', new TextEncoder().encode('hello'));
  const r = igvm(['load', path]);
  assert.equal(r.status, 1, info(r));
  assert.ok(r.stderr.startsWith(`qemu-system-x86_64: Unable to parse IGVM file ${path}: -16\nigvm: note: igvm 0.4.0: InvalidFixedHeader: `), r.stderr);
});

test('igvm load: an SEV-SNP file under the default --accel tcg fails as QEMU does, with a hint', () => {
  const r = igvm(['load', snpFile()]);
  assert.equal(r.status, 1, info(r));
  assert.match(r.stderr, /^qemu-system-x86_64: cannot set up private guest memory for sev-snp-guest: KVM required\nigvm: note: .*--accel kvm/);
});

test('igvm load --json on a failure: {ok: false, failure} and exit 1', () => {
  const r = igvm(['load', snpFile(), '--json']);
  assert.equal(r.status, 1, info(r));
  const j = JSON.parse(r.stdout) as { ok: boolean; failure: { message: string; stage: string } };
  assert.deepEqual([j.ok, j.failure.stage], [false, 'machine-memory']);
});

test('igvm load --dump-memory: one file per populated region, named by GPA, plus index.json', () => {
  const out = join(dir, 'dump');
  const r = igvm(['load', nativeFile(), '--dump-memory', out]);
  assert.equal(r.status, 0, info(r));
  const names = readdirSync(out).sort();
  assert.deepEqual(names, ['000-gpa-000000200000-parameter-area.bin', '001-gpa-000000201000-parameter-area.bin', '002-gpa-000000100000-page-data.bin', 'index.json']);
  const code = readFileSync(join(out, '002-gpa-000000100000-page-data.bin'));
  assert.equal(code.length, 4096);
  assert.equal(code[0], 0xf4);
  assert.equal(code[64], 0);
  const counts = readFileSync(join(out, '001-gpa-000000201000-parameter-area.bin'));
  assert.equal(counts.readUInt32LE(0), 1);
  const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { regions: Record<string, unknown>[] };
  assert.deepEqual(index.regions.map((x) => [x['file'], x['gpa'], x['source']]), [
    ['000-gpa-000000200000-parameter-area.bin', '0x200000', 'parameter-area'],
    ['001-gpa-000000201000-parameter-area.bin', '0x201000', 'parameter-area'],
    ['002-gpa-000000100000-page-data.bin', '0x100000', 'page-data'],
  ]);
  assert.equal(index.regions[2]?.['sha256'], createHash('sha256').update(code).digest('hex'));
  assert.ok(!readdirSync(out).some((n) => n.endsWith('.tmp')));
});

test('igvm load: a missing file is an I/O error (exit 3)', () => {
  const r = igvm(['load', join(dir, 'nope.igvm')]);
  assert.equal(r.status, 3, info(r));
  assert.match(r.stderr, /^igvm: error: cannot read '.*nope\.igvm': no such file\n$/);
});

test('igvm load: the igvmgen vector fails on KVM at vp 0\'s SEV_FEATURES', () => {
  const v = storedVectors().find((x) => x.name === 'T_bzImage');
  assert.ok(v);
  const r = igvm(['load', v.path, '--accel', 'kvm']);
  assert.equal(r.status, 1, info(r));
  assert.equal(r.stderr, 'qemu-system-x86_64: check_sev_features: VMSA contains unsupported sev_features: 9, supported features: 21\n');
});

test('igvm qemu-args: the TCG command line of QEMU-LOADER.md §1 for a native file, one option per line', () => {
  const path = nativeFile();
  const r = igvm(['qemu-args', path, '--memory', '128M']);
  assert.equal(r.status, 0, info(r));
  assert.equal(r.stderr, '');
  assert.equal(r.stdout, [
    'qemu-system-x86_64',
    '  -machine q35,igvm-cfg=igvm0',
    `  -object igvm-cfg,id=igvm0,file=${path}`,
    '  -accel tcg',
    '  -m 128M',
    '  -smp 1',
    '  -nodefaults',
    '  -display none',
    '  -serial stdio',
  ].join(' \\\n') + '\n');
});

test('igvm qemu-args: SEV-SNP gets sev-snp-guest with the file\'s GUEST_POLICY, KVM and EPYC-v4 by default', () => {
  const r = igvm(['qemu-args', snpFile(), '--json', '--vcpus', '2', '--memory', '2G']);
  assert.equal(r.status, 0, info(r));
  const argv = JSON.parse(r.stdout) as string[];
  assert.deepEqual(argv.slice(0, 3), ['qemu-system-x86_64', '-machine', 'q35,igvm-cfg=igvm0,confidential-guest-support=sev0']);
  assert.ok(argv.includes('sev-snp-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=0x3001f'));
  assert.deepEqual(argv.slice(argv.indexOf('-accel'), argv.indexOf('-accel') + 8), ['-accel', 'kvm', '-cpu', 'EPYC-v4', '-m', '2G', '-smp', '2']);
});

test('igvm qemu-args: commas in the path are doubled and the path shell-quoted; QEMU\'s failure is a note on stderr', () => {
  const b = new IgvmBuilder();
  const m = b.platform('NATIVE');
  b.pageData(0xfec00000n, m);
  const path = write("a,b c.igvm", b.toBytes());
  const r = igvm(['qemu-args', path]);
  assert.equal(r.status, 0, info(r));
  assert.ok(r.stdout.includes(`  -object 'igvm-cfg,id=igvm0,file=${path.replace(',', ',,')}'`), r.stdout);
  assert.match(r.stderr, /would fail to load .*\nqemu-system-x86_64: Processing of IGVM file failed: Could not prepare memory at address 0xFEC00000 due to existing non-RAM region\n/);
});

test('igvm qemu-args --platform sev-es: sev-guest with the ES policy', () => {
  const r = igvm(['qemu-args', nativeFile(), '--platform', 'sev-es', '--json']);
  const argv = JSON.parse(r.stdout) as string[];
  assert.ok(argv.includes('sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=0x5'), argv.join(' '));
  assert.ok(existsSync(CLI));
});
