// `igvm measure` reference-value formats (--format json|igvmgen), --trace for TDX/VBS/SEV, and the SEV LAUNCH_MEASURE HMAC (--mnonce/--tik).
import '../helpers.js';
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXPECTED, manifest, storedVectors } from '../helpers.js';
import { IgvmBuilder } from '../../src/builder.js';
import { parseIgvm } from '../../src/format/index.js';
import { referenceValues } from '../../src/measure/reference.js';
import { measureTdx } from '../../src/measure/tdx.js';
import { measureSevIgvmmeasure } from '../../src/measure/sev.js';
import { measureSevQemu } from '../../src/measure/sev-qemu.js';
import { toJson } from '../../src/cli/json.js';
import { runIgvm, runInfo, type Run } from './run-cli.js';

const igvm = (args: string[]): Run => runIgvm(['measure', ...args]);
const info = runInfo;
const dir = mkdtempSync(join(tmpdir(), 'igvm-measure-formats-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

/** TDX + SEV-ES + NATIVE file with a GUEST_POLICY for SEV-ES. */
function multi(): { path: string; bytes: Uint8Array } {
  const b = new IgvmBuilder();
  const tdx = b.platform('TDX');
  const es = b.platform('SEV_ES');
  b.platform('NATIVE');
  b.guestPolicy(0x5n, es);
  b.pages(0x100000n, new Uint8Array(5000).map((_, i) => i & 0xff), tdx | es);
  b.pageData(0x200000n, tdx, undefined, { flags: 2 });
  b.vmsa(0xfffffffff000n, es, 0, { rip: 0xfff0n, xcr0: 1n });
  const bytes = b.toBytes();
  return { path: write('multi.igvm', bytes), bytes };
}

test("--format igvmgen reproduces the original igvmgen's measurement file of every vector, byte for byte", () => {
  let checked = 0;
  for (const c of manifest()) {
    const stored = join(EXPECTED, `${c.name}.igvm`);
    const json = join(EXPECTED, `${c.name}.measurement.json`);
    if (!existsSync(stored) || !existsSync(json)) continue;
    const i = c.args.indexOf('-svn');
    const svn = i >= 0 ? c.args[i + 1] : undefined;
    const r = igvm([stored, '--format', 'igvmgen', ...(svn !== undefined ? ['--svn', svn] : [])]);
    assert.equal(r.status, 0, info(r));
    assert.equal(r.stdout, readFileSync(json, 'utf8'), c.name);
    checked++;
  }
  assert.ok(checked >= 10, `only ${checked} vectors checked`);
});

test('--format json prints exactly the library reference values; stable keys; digest = the manifest launch digest', () => {
  const v = storedVectors()[0]!;
  const r = igvm([v.path, '--format', 'json']);
  assert.equal(r.status, 0, info(r));
  assert.equal(r.stdout, toJson(referenceValues(parseIgvm(v.bytes), v.bytes)));
  const o = JSON.parse(r.stdout) as { schema: string; file_sha256: string; platforms: Record<string, unknown>[] };
  assert.equal(o.schema, 'igvmkit.reference-values.v1');
  assert.equal(o.file_sha256, createHash('sha256').update(v.bytes).digest('hex'));
  const p = o.platforms[0]!;
  assert.deepEqual(Object.keys(p), ['platform', 'mask', 'vmm', 'model', 'vcpus', 'algorithm', 'digest', 'policy', 'svn', 'family_id', 'image_id', 'id_key_digest', 'author_key_digest', 'id_block', 'error']);
  assert.equal(p['digest'], manifest().find((c) => c.name === v.name)?.launch_digest);
  assert.equal(p['policy'], '0x3001f');
  assert.equal(p['svn'], 2);
});

test('--all --format json: every measured platform; --platform selects one; an unmeasurable platform exits 1 with its error', () => {
  const { path, bytes } = multi();
  const file = parseIgvm(bytes);
  const all = igvm([path, '--all', '--format', 'json']);
  assert.equal(all.status, 0, info(all));
  const o = JSON.parse(all.stdout) as { platforms: { platform: string; digest: string; policy: string | null }[] };
  assert.deepEqual(o.platforms.map((p) => p.platform), ['tdx', 'sev-es']);
  assert.equal(o.platforms[0]?.digest, Buffer.from(measureTdx(file).digest).toString('hex'));
  assert.equal(o.platforms[0]?.policy, null);
  assert.equal(o.platforms[1]?.policy, '0x5');
  const one = JSON.parse(igvm([path, '--platform', 'sev-es', '--format', 'json']).stdout) as { platforms: { platform: string }[] };
  assert.deepEqual(one.platforms.map((p) => p.platform), ['sev-es']);
  const snp = new IgvmBuilder();
  snp.pages(0n, Uint8Array.of(1), snp.platform('SEV_SNP')); // no GUEST_POLICY: the crate rule cannot measure it
  const bad = igvm([write('nopolicy.igvm', snp.toBytes()), '--format', 'json']);
  assert.equal(bad.status, 1, info(bad));
  assert.match((JSON.parse(bad.stdout) as { platforms: { error: string }[] }).platforms[0]?.error ?? '', /policy/i);
});

test('--trace for tdx, vbs and sev-es: a header row and one row per step naming its directive; JSON steps', () => {
  const { path, bytes } = multi();
  const file = parseIgvm(bytes);
  const tdx = igvm([path, '--platform', 'tdx', '--trace']);
  assert.equal(tdx.status, 0, info(tdx));
  const steps = measureTdx(file, { trace: true }).steps ?? [];
  const rows = tdx.stdout.split('\n').filter((l) => /^ +\d+  /.test(l));
  assert.equal(rows.length, steps.length);
  assert.match(rows[0] ?? '', /^ +0  PAGE\.ADD\+EXTEND +0x0000000000100000  [0-9a-f]{96}  #\d+ PAGE_DATA/);
  assert.match(rows.at(-1) ?? '', /PAGE\.ADD +0x0000000000200000  -  +#\d+ PAGE_DATA +unmeasured$/);
  const es = igvm([path, '--platform', 'sev-es', '--trace', '--json']);
  assert.equal(es.status, 0, info(es));
  const j = JSON.parse(es.stdout) as { steps: { kind: string; gpa: string; contents: string }[] };
  const lib = measureSevIgvmmeasure(file, 'sev-es', { trace: true }).steps ?? [];
  assert.deepEqual(j.steps.map((s) => [s.kind, s.gpa, s.contents]), lib.map((s) => [s.kind, `0x${(s.gpa ?? 0n).toString(16)}`, Buffer.from(s.contents).toString('hex')]));
  const vb = new IgvmBuilder();
  vb.pages(0x1000n, Uint8Array.of(1), vb.platform('VSM_ISOLATION'));
  const vbs = igvm([write('vbs.igvm', vb.toBytes()), '--platform', 'vbs', '--trace']);
  assert.equal(vbs.status, 0, info(vbs));
  assert.match(vbs.stdout, /\n +0  VP_GPA_PAGE +0x0000000000001000  [0-9a-f]{64}  ([0-9a-f]{64})  #\d+ PAGE_DATA +acceptance 0\n/);
  const last = /\n +0  VP_GPA_PAGE +\S+  \S+  ([0-9a-f]{64})/.exec(vbs.stdout)?.[1];
  assert.equal(last, /digest: +([0-9a-f]{64})/.exec(vbs.stdout)?.[1]);
});

test('--mnonce/--tik: the LAUNCH_MEASURE HMAC equals node:crypto createHmac over the documented message', () => {
  const { path, bytes } = multi();
  const ld = Buffer.from(measureSevIgvmmeasure(parseIgvm(bytes), 'sev-es').digest);
  const mnonce = '00112233445566778899aabbccddeeff';
  const tik = '0f0e0d0c0b0a09080706050403020100';
  const msg = Buffer.concat([Buffer.from([4, 1, 55, 21]), Buffer.from([5, 0, 0, 0]), ld, Buffer.from(mnonce, 'hex')]);
  const want = createHmac('sha256', Buffer.from(tik, 'hex')).update(msg).digest('hex');
  const r = igvm([path, '--platform', 'sev-es', '--mnonce', mnonce, '--tik', tik, '--api-version', '1.55', '--build', '21']);
  assert.equal(r.status, 0, info(r));
  assert.match(r.stdout, new RegExp(`measure:  ${want}  `));
  const j = igvm([path, '--platform', 'sev-es', '--mnonce', mnonce, '--tik', tik, '--api-version', '1.55', '--build', '21', '--policy', '0x7', '--json']);
  const msg7 = Buffer.from(msg);
  msg7[4] = 7;
  assert.equal((JSON.parse(j.stdout) as { launch_measure: { measure: string } }).launch_measure.measure, createHmac('sha256', Buffer.from(tik, 'hex')).update(msg7).digest('hex'));
});

test('usage errors exit 2 with one line and no output', () => {
  const { path } = multi();
  const cases: [string[], RegExp][] = [
    [['--platform', 'sev-es', '--mnonce', '00'.repeat(16)], /'--mnonce' and '--tik' go together/],
    [['--platform', 'sev-es', '--mnonce', '00'.repeat(15), '--tik', '00'.repeat(16), '--api-version', '1.2', '--build', '3'], /'--mnonce' expects 16 bytes as 32 hex digits/],
    [['--platform', 'sev-es', '--mnonce', '00'.repeat(16), '--tik', '00'.repeat(16), '--build', '3'], /'--api-version' expects/],
    [['--platform', 'tdx', '--mnonce', '00'.repeat(16)], /'--mnonce' applies to --platform sev and sev-es only/],
    [['--platform', 'tdx', '--format', 'igvmgen'], /--format igvmgen is igvmgen's SEV-SNP measurement file/],
    [['--svn', '3'], /'--svn' applies to --format igvmgen only/],
    [['--format', 'json', '--json'], /'--json' cannot be combined with --format json/],
    [['--format', 'yaml'], /expects one of text, json, igvmgen/],
  ];
  for (const [args, re] of cases) {
    const r = igvm([path, ...args]);
    assert.equal(r.status, 2, `${args.join(' ')}\n${info(r)}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
  }
});

test('--platform sev-es --vmm qemu: the LD QEMU + KVM produce, the HMAC with the sev-guest policy; other models refused', () => {
  const { path, bytes } = multi();
  const m = measureSevQemu(parseIgvm(bytes), 'sev-es', { vcpus: 2 });
  const mnonce = 'ff'.repeat(16);
  const tik = '11'.repeat(16);
  const r = igvm([path, '--platform', 'sev-es', '--vmm', 'qemu', '--vcpus', '2', '--mnonce', mnonce, '--tik', tik, '--api-version', '1.51', '--build', '3']);
  assert.equal(r.status, 0, info(r));
  assert.match(r.stdout, new RegExp(`digest:   ${Buffer.from(m.digest).toString('hex')}\\n`));
  const msg = Buffer.concat([Buffer.from([4, 1, 51, 3, 5, 0, 0, 0]), Buffer.from(m.digest), Buffer.from(mnonce, 'hex')]);
  assert.match(r.stdout, new RegExp(`measure:  ${createHmac('sha256', Buffer.from(tik, 'hex')).update(msg).digest('hex')}  `));
  const bad = igvm([path, '--platform', 'sev-es', '--vmm', 'clh-kvm']);
  assert.equal(bad.status, 2, info(bad));
  assert.match(bad.stderr, /'--vmm' for --platform sev-es expects igvmmeasure \(the default\) or qemu/);
});
