// `igvm measure` run as a child process: digests of the igvmgen vectors, --json shape, --trace columns,
// --compare-vmms, ID-block reporting, errors and exit codes (0 ok, 1 problems, 2 usage, 3 I/O).
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IgvmBuilder } from '../../src/builder.js';
import { REPO_ROOT, manifest, storedVectors } from '../helpers.js';
import { parseIgvm } from '../../src/format/index.js';
import { measureTdx } from '../../src/measure/tdx.js';
import { measureVbs } from '../../src/measure/vbs.js';
import { measureSevIgvmmeasure } from '../../src/measure/sev.js';
import { runIgvm, runInfo, type Run } from './run-cli.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');
const HEX96 = /^[0-9a-f]{96}$/;


const igvm = (args: string[]): Run => runIgvm(['measure', ...args]);
const info = runInfo;

const dir = mkdtempSync(join(tmpdir(), 'igvm-measure-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const page = (fill: number): Uint8Array => new Uint8Array(4096).fill(fill);

/** A small SNP file where the models differ: a zero page, a shared page, a 2-page parameter insert. */
function mixedFile(): string {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, m);
  b.parameterArea(0, 0x2000n).parameter('VP_COUNT_PARAMETER', 0);
  b.pageData(0x1000n, m, page(1)).pageData(0x2000n, m).pageData(0x3000n, m, page(3), { flags: 4 }).parameterInsert(0x10000n, m, 0);
  b.snpIdBlock({ compatibility_mask: m, ld: new Uint8Array(48).fill(0xee) });
  return write('mixed.igvm', b.toBytes());
}

const VECTORS = storedVectors();
const digestLine = (out: string): string | undefined => /^digest: +([0-9a-f]{96})$/m.exec(out)?.[1];

test('every stored igvmgen vector: --vmm igvm prints the manifest launch digest, text and JSON', () => {
  assert.ok(VECTORS.length >= 10);
  for (const v of VECTORS) {
    const expected = manifest().find((c) => c.name === v.name)!.launch_digest;
    const text = igvm([v.path, '--vmm', 'igvm']);
    assert.equal(text.status, 0, info(text));
    assert.equal(digestLine(text.stdout), expected, v.name);
    assert.match(text.stdout, /^platform: SEV-SNP, mask 0x1$/m);
    assert.match(text.stdout, /^model: +igvm: microsoft\/igvm crate rule/m);
    const json = igvm([v.path, '--json']);
    assert.equal(json.status, 0, info(json));
    assert.equal((JSON.parse(json.stdout) as { digest: string }).digest, expected, v.name);
  }
});

test('--json shape; the ID block of an igvmgen file matches the crate digest', () => {
  const v = VECTORS.find((x) => x.name === 'T_elf')!;
  const r = igvm([v.path, '--json', '--vmm', 'clh-kvm', '--vcpus', '2']);
  assert.equal(r.status, 0, info(r));
  const j = JSON.parse(r.stdout) as Record<string, unknown> & { id_blocks: { directive: number; ld: string; matches: Record<string, boolean | null> }[] };
  assert.deepEqual(Object.keys(j), ['file', 'platform', 'vmm', 'description', 'mask', 'vcpus', 'digest', 'notes', 'id_blocks']);
  assert.equal(j['platform'], 'sev-snp');
  assert.equal(j['vmm'], 'clh-kvm');
  assert.equal(j['mask'], 1);
  assert.equal(j['vcpus'], 2);
  assert.match(j['digest'] as string, HEX96);
  assert.ok((j['notes'] as string[]).some((n) => /KVM measures 2 VMSAs at 0xfffffffff000/.test(n)));
  assert.equal(j.id_blocks.length, 1);
  const block = j.id_blocks[0]!;
  assert.equal(block.ld, manifest().find((c) => c.name === 'T_elf')!.launch_digest);
  assert.deepEqual(Object.keys(block.matches), ['igvm', 'qemu', 'clh-kvm', 'clh-mshv', 'igvmmeasure']);
  assert.equal(block.matches['igvm'], true);
  assert.equal(block.matches['clh-kvm'], false);
  const text = igvm([v.path]);
  assert.match(text.stdout, /^id block: SNP_ID_BLOCK #\d+ ld [0-9a-f]{96}$/m);
  assert.match(text.stdout, /^ {10}igvm {8}matches$/m);
});

test('--trace: aligned columns, one row per step, the last running digest is the digest; the JSON steps agree', () => {
  const path = mixedFile();
  for (const vmm of ['igvm', 'clh-kvm', 'clh-mshv', 'igvmmeasure']) {
    const r = igvm([path, '--trace', '--vmm', vmm]);
    assert.equal(r.status, 0, info(r));
    const lines = r.stdout.split('\n');
    const head = lines.findIndex((l) => /^ +step {2}gpa/.test(l));
    assert.ok(head > 0, info(r));
    const header = lines[head]!;
    assert.match(header, /^ {3}step {2}gpa {17}type {8}contents {90}digest {92}source$/);
    const rows = lines.slice(head + 1).filter((l) => l !== '');
    assert.ok(rows.length > 0);
    const cols = ['gpa', 'type', 'contents', 'digest', 'source'].map((c) => header.indexOf(c));
    for (const row of rows) {
      assert.match(row, /^ +\d+ {2}0x[0-9a-f]{16} {2}[A-Z]+ +[0-9a-f]{96} {2}[0-9a-f]{96} {2}(#\d+ [A-Z_]+|KVM VMSA \(VMM-made\))$/, row);
      for (const at of cols) assert.equal(row[at - 1], ' ', `column boundary at ${at} in ${row}`);
    }
    const last = rows.at(-1)!;
    assert.equal(last.slice(cols[3], cols[3]! + 96), digestLine(r.stdout), `${vmm}: last running digest`);
    const j = JSON.parse(igvm([path, '--trace', '--json', '--vmm', vmm]).stdout) as { digest: string; steps: { step: number; gpa: string; type_name: string; digest: string; source: number | null }[] };
    assert.equal(j.steps.length, rows.length);
    assert.equal(j.steps.at(-1)!.digest, j.digest);
    assert.deepEqual(Object.keys(j.steps[0]!), ['step', 'gpa', 'type', 'type_name', 'contents', 'digest', 'source', 'source_type']);
  }
  const kvm = JSON.parse(igvm([path, '--trace', '--json', '--vmm', 'clh-kvm']).stdout) as { steps: { gpa: string; type_name: string; source: number | null }[] };
  assert.deepEqual(kvm.steps.map((s) => [s.gpa, s.type_name, s.source]), [
    ['0x1000', 'NORMAL', 2], ['0x2000', 'ZERO', 3], ['0x3000', 'NORMAL', 4], ['0x10000', 'UNMEASURED', 5], ['0x11000', 'UNMEASURED', 5], ['0xfffffffff000', 'VMSA', null],
  ]);
});

test('--compare-vmms: every model side by side with the directive that makes it differ; the ID block is reported per model', () => {
  const path = mixedFile();
  const r = igvm([path, '--compare-vmms']);
  assert.equal(r.status, 0, info(r));
  assert.match(r.stdout, /^SEV-SNP launch digest by model \(1 vCPU for the KVM-based models\):$/m);
  assert.match(r.stdout, /^ {2}igvm {9}[0-9a-f]{96} {2}\(reference\)$/m);
  assert.match(r.stdout, /^ {2}qemu {9}(\S.*)$/m);
  assert.match(r.stdout, /^ {2}clh-kvm {6}[0-9a-f]{96} {2}differs from igvm\n {15}first difference at step 1: PAGE_DATA #3 at 0x2000 has no data: ZERO under clh-kvm, NORMAL of zeros under igvm$/m);
  assert.match(r.stdout, /^ {2}clh-mshv {5}[0-9a-f]{96} {2}differs from igvm\n {15}first difference at step 2: PAGE_DATA #4 at 0x3000 is shared/m);
  assert.match(r.stdout, /^ {2}igvmmeasure {2}[0-9a-f]{96} {2}differs from igvm\n {15}first difference at step 2: PAGE_DATA #4 at 0x3000 is shared/m);
  for (const v of ['igvm', 'clh-kvm', 'clh-mshv', 'igvmmeasure']) assert.match(r.stdout, new RegExp(`^ {10}${v} +differs$`, 'm'), `ID block ld 0xee… matches no model (${v})`);

  const j = JSON.parse(igvm([path, '--compare-vmms', '--json', '--native-zero']).stdout) as {
    compare: { vmm: string; digest: string | null; error: string | null; same_as_igvm: boolean; divergence: { step: number; directive: { index: number; type: string; gpa: string } | null; reason: string } | null }[];
  };
  assert.deepEqual(j.compare.map((c) => c.vmm), ['igvm', 'qemu', 'clh-kvm', 'clh-mshv', 'igvmmeasure']);
  const im = j.compare.find((c) => c.vmm === 'igvmmeasure')!;
  assert.deepEqual(im.divergence?.directive, { index: 3, type: 'PAGE_DATA', gpa: '0x2000' }, 'with --native-zero the zero page comes first');
  assert.match(im.divergence?.reason ?? '', /ZERO under igvmmeasure/);
  assert.equal(j.compare[0]!.same_as_igvm, true);
  assert.equal(j.compare[0]!.divergence, null);
  for (const c of j.compare) assert.ok((c.digest !== null && HEX96.test(c.digest)) || c.error !== null, c.vmm);
});

test('usage errors exit 2: unknown --platform, --compare-vmms with tdx, --vcpus 0, --native-zero without igvmmeasure, unknown --vmm', () => {
  const path = mixedFile();
  const bogus = igvm([path, '--platform', 'bogus']);
  assert.equal(bogus.status, 2, info(bogus));
  assert.match(bogus.stderr, /option '--platform' expects sev-snp, sev-es, sev, tdx or vbs, got 'bogus'/);
  assert.equal(bogus.stdout, '');
  const tdxCompare = igvm([path, '--platform', 'tdx', '--compare-vmms']);
  assert.equal(tdxCompare.status, 2, info(tdxCompare));
  assert.match(tdxCompare.stderr, /'--compare-vmms' is available for --platform sev-snp only/);
  const noTdx = igvm([path, '--platform', 'tdx']);
  assert.equal(noTdx.status, 1, info(noTdx));
  assert.match(noTdx.stderr, /measure-no-tdx-platform/);
  const zero = igvm([path, '--vcpus', '0']);
  assert.equal(zero.status, 2, info(zero));
  assert.match(zero.stderr, /--vcpus' expects a whole number from 1 to 65536, got 0/);
  const nz = igvm([path, '--native-zero']);
  assert.equal(nz.status, 2, info(nz));
  assert.match(nz.stderr, /--native-zero' applies to --vmm igvmmeasure/);
  assert.equal(igvm([path, '--native-zero', '--vmm', 'igvmmeasure']).status, 0);
  const bad = igvm([path, '--vmm', 'xen']);
  assert.equal(bad.status, 2, info(bad));
  assert.match(bad.stderr, /expects one of igvm, qemu, clh-kvm, clh-mshv, igvmmeasure/);
  assert.equal(igvm([]).status, 2);
});

test('problems exit 1 (no SEV-SNP platform, MissingGuestPolicy, invalid file); an unreadable file exits 3', () => {
  const n = new IgvmBuilder();
  n.pageData(0x1000n, n.platform('NATIVE'));
  const native = igvm([write('native.igvm', n.toBytes())]);
  assert.equal(native.status, 1, info(native));
  assert.match(native.stderr, /native\.igvm: the file declares no SEV_SNP platform \(it declares NATIVE \(mask 0x1\)\).*\[measure-no-snp\]/);
  const p = new IgvmBuilder();
  p.pageData(0x1000n, p.platform('SEV_SNP'));
  const nopolicy = write('nopolicy.igvm', p.toBytes());
  const missing = igvm([nopolicy]);
  assert.equal(missing.status, 1, info(missing));
  assert.match(missing.stderr, /MissingGuestPolicy.*\[measure-missing-guest-policy\]/);
  const ok = igvm([nopolicy, '--vmm', 'igvmmeasure']);
  assert.equal(ok.status, 0, 'igvmmeasure needs no policy');
  const garbage = igvm([write('garbage.igvm', new Uint8Array(64).fill(7))]);
  assert.equal(garbage.status, 1, info(garbage));
  assert.match(garbage.stderr, /garbage\.igvm/);
  const absent = igvm([join(dir, 'absent.igvm')]);
  assert.equal(absent.status, 3, info(absent));
  assert.match(absent.stderr, /cannot read '.*absent\.igvm': no such file/);
});

test('--help documents the models and options', () => {
  const r = spawnSync(process.execPath, [CLI, 'measure', '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const s of ['--vmm', '--vcpus', '--native-zero', '--trace', '--compare-vmms', '--platform', 'clh-mshv']) assert.ok(r.stdout.includes(s), s);
});

test('--platform tdx, vbs and sev-es print the library digest (text and JSON)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-measure-other-'));
  try {
    for (const [platform, type] of [['tdx', 'TDX'], ['vbs', 'VSM_ISOLATION'], ['sev-es', 'SEV_ES']] as const) {
      const b = new IgvmBuilder();
      const m = b.platform(type);
      b.pages(0x100000n, Uint8Array.of(1, 2, 3), m);
      b.pageData(0x101000n, m, undefined);
      const bytes = b.toBytes();
      const path = join(dir, `${platform}.igvm`);
      writeFileSync(path, bytes);
      const file = parseIgvm(bytes);
      const want = platform === 'tdx' ? measureTdx(file).digest : platform === 'vbs' ? measureVbs(file).digest : measureSevIgvmmeasure(file, 'sev-es').digest;
      const r = igvm([path, '--platform', platform]);
      assert.equal(r.status, 0, info(r));
      assert.match(r.stdout, new RegExp(`digest:   ${Buffer.from(want).toString('hex')}\\n`));
      const j = igvm([path, '--platform', platform, '--json']);
      assert.equal(j.status, 0, info(j));
      const o = JSON.parse(j.stdout) as { platform: string; digest: string };
      assert.equal(o.platform, platform);
      assert.equal(o.digest, Buffer.from(want).toString('hex'));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--all measures every platform the file declares', () => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-measure-all-'));
  try {
    const b = new IgvmBuilder();
    const snp = b.platform('SEV_SNP');
    const tdx = b.platform('TDX');
    b.platform('NATIVE');
    b.guestPolicy(0x30000n, snp);
    b.pages(0x100000n, Uint8Array.of(9), snp | tdx);
    const bytes = b.toBytes();
    const path = join(dir, 'all.igvm');
    writeFileSync(path, bytes);
    const file = parseIgvm(bytes);
    const r = igvm([path, '--all', '--json']);
    assert.equal(r.status, 0, info(r));
    const o = JSON.parse(r.stdout) as { platforms: { platform: string; digest: string }[] };
    assert.deepEqual(o.platforms.map((p) => p.platform), ['sev-snp', 'tdx']);
    assert.equal(o.platforms[1]?.digest, Buffer.from(measureTdx(file).digest).toString('hex'));
    const text = igvm([path, '--all']);
    assert.equal(text.status, 0, info(text));
    assert.match(text.stdout, /sev-snp +mask 0x1 +[0-9a-f]{96}\n/);
    assert.match(text.stdout, /tdx +mask 0x2 +[0-9a-f]{96}\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
