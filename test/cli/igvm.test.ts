// The `igvm` command line, run as a child process: inspect and validate on the igvmgen vectors and on
// broken inputs, exit codes (0 ok, 1 problems, 2 usage, 3 I/O), help, and complete JSON through a pipe.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IgvmBuilder } from '../../src/builder.js';
import { REPO_ROOT, storedVectors } from '../helpers.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');
const VECTORS = storedVectors();
const byName = (n: string) => {
  const v = VECTORS.find((x) => x.name === n);
  assert.ok(v, `vector ${n} is not stored`);
  return v;
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function igvm(args: string[], input?: Uint8Array): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, IGVMKIT_DEBUG: '' },
    ...(input ? { input } : {}),
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const runInfo = (r: Run) => `exit ${r.status}\n--- stdout\n${r.stdout.slice(0, 2000)}\n--- stderr\n${r.stderr}`;

const dir = mkdtempSync(join(tmpdir(), 'igvm-cli-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** T_bzImage64 with its checksum field corrupted (offset 0x14). */
function corruptFile(): string {
  const bytes = byName('T_bzImage64').bytes.slice();
  bytes[0x14] = bytes[0x14]! ^ 0x5a;
  const path = join(dir, 'bad-checksum.igvm');
  writeFileSync(path, bytes);
  return path;
}

/** A small file without any problem (no warnings either). */
function cleanFile(): string {
  const b = new IgvmBuilder();
  const m = b.platform('NATIVE');
  b.pageData(0x1000n, m, new Uint8Array([1, 2, 3]));
  const path = join(dir, 'clean.igvm');
  writeFileSync(path, b.toBytes());
  return path;
}

const noStack = (text: string) => assert.doesNotMatch(text, /^\s+at /m, `stack trace in:\n${text}`);

// ------------------------------------------------------------------------------------------ inspect

test('igvm inspect: text summary of a vector', () => {
  const v = byName('T_bzImage64');
  const r = igvm(['inspect', v.path]);
  assert.equal(r.status, 0, runInfo(r));
  assert.equal(r.stderr, '');
  assert.match(r.stdout, new RegExp(`^${v.path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: IGVM format v1, X64, page size 0x1000$`, 'm'));
  assert.match(r.stdout, /^Platforms:$/m);
  assert.match(r.stdout, /^ {2}SEV_SNP\s+mask 0x1\s+highest_vtl 2/m);
  assert.match(r.stdout, /^ {4}policy 0x3001f /m);
  assert.match(r.stdout, /^Page data \(GPA ranges\):$/m);
  assert.match(r.stdout, /^ {2}mask 0x1\s+0xa0000–0x1fffff\s+352 pages\s+NORMAL\s+34 data \+ 318 zero$/m);
  assert.match(r.stdout, /^ {2}SEV_SNP vp 0 \(vmsa at 0x803000\): 64-bit long mode$/m);
});

test('igvm inspect --json: {report, model}, bigints as "0x…", page data as {file_offset, size}', () => {
  const v = byName('T_bzImage64');
  const r = igvm(['inspect', v.path, '--json']);
  assert.equal(r.status, 0, runInfo(r));
  assert.ok(r.stdout.endsWith('\n'));
  const j = JSON.parse(r.stdout) as {
    report: Record<string, any>;
    model: { revision: unknown; platforms: Record<string, unknown>[]; initializations: Record<string, unknown>[]; directives: Record<string, any>[] };
  };
  assert.deepEqual(Object.keys(j), ['report', 'model']);
  assert.deepEqual(Object.keys(j.model), ['revision', 'platforms', 'initializations', 'directives']);
  // bigints
  assert.equal(j.report['platforms'][0].shared_gpa_boundary, '0x0');
  assert.equal(j.report['platforms'][0].policy.policy, '0x3001f');
  assert.equal(j.report['vp_contexts'][0].registers.rip, '0x1a00200');
  assert.equal(j.report['vp_contexts'][0].segments.gdtr.base, '0x3470068');
  assert.equal(j.report['page_ranges'][0].gpa_start, '0xa0000');
  assert.equal(j.model.initializations[0]?.['policy'], '0x3001f');
  // page data references
  const pages = j.model.directives.filter((d) => d['type'] === 'PAGE_DATA');
  assert.equal(pages.length, 371);
  const withData = pages.filter((d) => d['data'] !== undefined);
  assert.ok(withData.length > 0);
  for (const d of pages) {
    assert.match(d['gpa'], /^0x[0-9a-f]+$/);
    if (d['file_offset'] === 0) assert.equal('data' in d, false, 'a zero page has no data reference');
    else assert.deepEqual(d['data'], { file_offset: d['file_offset'], size: 4096 });
  }
  const vp = j.model.directives.find((d) => d['type'] === 'VP_CONTEXT')!;
  assert.equal(vp['gpa'], '0x803000');
  assert.deepEqual(vp['context'], { kind: 'vmsa', data: { file_offset: vp['file_offset'], size: 4096 } });
  assert.equal(typeof vp['record_offset'], 'number');
  // byte arrays as hex
  const id = j.model.directives.find((d) => d['type'] === 'SNP_ID_BLOCK')!;
  assert.match(id['ld'], /^[0-9a-f]{96}$/);
  assert.equal(id['ld'], j.report['snp_id_blocks'][0].ld);
});

test('igvm inspect - reads standard input', () => {
  const v = byName('T_bzImage');
  const r = igvm(['inspect', '-'], v.bytes);
  assert.equal(r.status, 0, runInfo(r));
  assert.match(r.stdout, /^Platforms:$/m);
});

test('igvm inspect --json of the large NoOpt vector through a pipe is complete', { skip: !VECTORS.some((x) => x.name === 'T_bzImageNoOpt') && 'not stored' }, async () => {
  const v = byName('T_bzImageNoOpt');
  const child = spawn(process.execPath, [CLI, 'inspect', v.path, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  // Read slowly at first, so the child has to wait for the pipe to drain.
  child.stdout.pause();
  setTimeout(() => child.stdout.resume(), 200);
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const text = Buffer.concat(out).toString('utf8');
  assert.equal(code, 0, Buffer.concat(err).toString());
  assert.ok(text.length > 1 << 20, `expected a large output, got ${text.length} bytes`);
  const j = JSON.parse(text) as { report: { header_counts: Record<string, number> }; model: { directives: unknown[] } };
  const total = Object.values(j.report.header_counts).reduce((a, b) => a + b, 0);
  assert.ok(total > 0);
  assert.ok(j.model.directives.length > 0);
});

test('igvm inspect on an invalid file: exit 1, one line naming the file and the problem, no stack', () => {
  const path = corruptFile();
  const r = igvm(['inspect', path]);
  assert.equal(r.status, 1, runInfo(r));
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, runInfo(r));
  assert.ok(lines[0]!.includes(path), lines[0]);
  assert.match(lines[0]!, /^igvm: error: /);
  assert.match(lines[0]!, /offset 0x14/);
  assert.match(lines[0]!, /\[bad-checksum\]/);
  noStack(r.stderr);
});

// ------------------------------------------------------------------------------------------ validate

test('igvm validate: every vector is valid (exit 0) with the padding warning', () => {
  const r = igvm(['validate', ...VECTORS.map((v) => v.path)]);
  assert.equal(r.status, 0, runInfo(r));
  assert.equal(r.stderr, '');
  for (const v of VECTORS) assert.ok(r.stdout.includes(`${v.path}: valid with warnings (0 errors, 1 warning)\n`), `${v.name}\n${r.stdout}`);
  const warnings = r.stdout.split('\n').filter((l) => /^ {2}warning\[nonzero-padding\] at 0x[0-9a-f]+ header \d+ directives\[\d+\]: /.test(l));
  assert.equal(warnings.length, VECTORS.length);
  assert.doesNotMatch(r.stdout, /error\[/);
});

test('igvm validate --strict: the padding warning fails (exit 1)', () => {
  const r = igvm(['validate', '--strict', byName('T_bzImage64').path]);
  assert.equal(r.status, 1, runInfo(r));
  assert.match(r.stdout, /warning\[nonzero-padding\]/);
  const clean = igvm(['validate', '--strict', cleanFile()]);
  assert.equal(clean.status, 0, runInfo(clean));
  assert.match(clean.stdout, /: valid \(0 errors, 0 warnings\)$/m);
});

test('igvm validate --json: one result per file', () => {
  const a = byName('T_bzImage64');
  const b = byName('T_elf');
  const r = igvm(['validate', '--json', a.path, b.path]);
  assert.equal(r.status, 0, runInfo(r));
  const j = JSON.parse(r.stdout) as { file: string; valid: boolean; errors: number; warnings: number; problems: { severity: string; code: string; offset: number }[] }[];
  assert.equal(j.length, 2);
  assert.deepEqual(j.map((x) => x.file), [a.path, b.path]);
  for (const x of j) {
    assert.deepEqual(Object.keys(x), ['file', 'valid', 'errors', 'warnings', 'problems']);
    assert.equal(x.valid, true);
    assert.equal(x.errors, 0);
    assert.equal(x.warnings, 1);
    assert.equal(x.problems.length, 1);
    assert.equal(x.problems[0]?.severity, 'warning');
    assert.equal(x.problems[0]?.code, 'nonzero-padding');
    assert.equal(typeof x.problems[0]?.offset, 'number');
  }
  const strict = igvm(['validate', '--json', '--strict', a.path]);
  assert.equal(strict.status, 1);
  assert.equal((JSON.parse(strict.stdout) as unknown[]).length, 1);
});

test('igvm validate on a corrupt checksum: exit 1, problem line with the code and offset', () => {
  const path = corruptFile();
  const r = igvm(['validate', path]);
  assert.equal(r.status, 1, runInfo(r));
  assert.equal(r.stderr, '');
  assert.match(r.stdout, new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: INVALID \\(1 error, 0 warnings\\)$`, 'm'));
  const line = r.stdout.split('\n').find((l) => l.includes('[bad-checksum]'));
  assert.ok(line, r.stdout);
  assert.match(line, /^ {2}error\[bad-checksum\] at 0x14 fixed_header\.checksum: checksum is 0x[0-9a-f]{8}, computed 0x[0-9a-f]{8} \(crate: InvalidChecksum\)$/);
  noStack(r.stdout + r.stderr);

  const j = igvm(['validate', '--json', path]);
  assert.equal(j.status, 1);
  const [res] = JSON.parse(j.stdout) as { valid: boolean; errors: number; problems: { code: string; offset: number; severity: string }[] }[];
  assert.equal(res?.valid, false);
  assert.equal(res.errors, 1);
  assert.deepEqual(res.problems.map((p) => [p.severity, p.code, p.offset]), [['error', 'bad-checksum', 0x14]]);
});

test('igvm validate with several files, one invalid: exit 1 and every file reported', () => {
  const good = byName('T_bzImage');
  const bad = corruptFile();
  const r = igvm(['validate', good.path, bad, cleanFile()]);
  assert.equal(r.status, 1, runInfo(r));
  assert.ok(r.stdout.includes(`${good.path}: valid with warnings`));
  assert.ok(r.stdout.includes(`${bad}: INVALID`));
  assert.match(r.stdout, /clean\.igvm: valid \(0 errors, 0 warnings\)$/m);
});

test('igvm validate -q prints only files with problems', () => {
  const r = igvm(['validate', '-q', cleanFile()]);
  assert.equal(r.status, 0, runInfo(r));
  assert.equal(r.stdout, '');
  const r2 = igvm(['validate', '-q', cleanFile(), byName('T_bzImage').path]);
  assert.equal(r2.status, 0);
  assert.doesNotMatch(r2.stdout, /clean\.igvm/);
  assert.match(r2.stdout, /T_bzImage\.igvm: valid with warnings/);
});

// ------------------------------------------------------------------------------------------ I/O and usage errors

test('a missing file: exit 3, "cannot read"', () => {
  const missing = join(dir, 'does-not-exist.igvm');
  for (const cmd of ['validate', 'inspect']) {
    const r = igvm([cmd, missing]);
    assert.equal(r.status, 3, `${cmd}\n${runInfo(r)}`);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `igvm: error: cannot read '${missing}': no such file\n`);
  }
  // A missing file among valid ones is still an I/O failure.
  const r = igvm(['validate', byName('T_bzImage').path, missing]);
  assert.equal(r.status, 3, runInfo(r));
  assert.equal(r.stderr, `igvm: error: cannot read '${missing}': no such file\n`);
  // ... and the readable files are still validated and reported.
  assert.match(r.stdout, /T_bzImage\.igvm: valid with warnings \(0 errors, 1 warning\)/);
});

test('usage errors: exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['validate', '--bogus', byName('T_bzImage').path], /unknown option '--bogus'/],
    [['inspect', '--jsn', byName('T_bzImage').path], /unknown option '--jsn'; did you mean '--json'\?/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['inspekt', 'x'], /did you mean 'inspect'\?/],
    [[], /no command given/],
    [['inspect'], /missing argument FILE/],
    [['validate'], /missing argument FILE/],
    [['inspect', 'a.igvm', 'b.igvm'], /unexpected argument 'b.igvm'/],
  ];
  for (const [args, re] of cases) {
    const r = igvm(args);
    assert.equal(r.status, 2, `${args.join(' ')}\n${runInfo(r)}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^igvm: error: /);
    assert.match(r.stderr, re);
    assert.match(r.stderr, /run 'igvm( \w+)? --help'/);
    noStack(r.stderr);
  }
});

// ------------------------------------------------------------------------------------------ help

test('igvm --help lists the commands and exit codes', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = igvm(args);
    assert.equal(r.status, 0, runInfo(r));
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^Usage: igvm COMMAND/m);
    assert.match(r.stdout, /^ {2}inspect\s+show the fixed header/m);
    assert.match(r.stdout, /^ {2}validate\s+check files/m);
    assert.match(r.stdout, /Exit codes: 0 ok, 1 problems found, 2 usage error, 3 I\/O/);
  }
  const version = igvm(['--version']);
  assert.equal(version.status, 0);
  assert.match(version.stdout, /^igvm \d+\.\d+\.\d+\n$/);
});

test('igvm validate --help / igvm inspect --help list options and examples', () => {
  const v = igvm(['validate', '--help']);
  assert.equal(v.status, 0, runInfo(v));
  assert.match(v.stdout, /^Usage: igvm validate FILE\.\.\. \[--json\] \[--strict\]$/m);
  assert.match(v.stdout, /^Options:$/m);
  assert.match(v.stdout, /^\s+--json\s+print one result object per file/m);
  assert.match(v.stdout, /^\s+--strict\s+count warnings as failures/m);
  assert.match(v.stdout, /^\s+-q, --quiet\s+/m);
  assert.match(v.stdout, /^Examples:$/m);
  assert.match(v.stdout, /^ {2}igvm validate guest\.igvm$/m);
  assert.deepEqual(igvm(['help', 'validate']).stdout, v.stdout);

  const i = igvm(['inspect', '--help']);
  assert.equal(i.status, 0, runInfo(i));
  assert.match(i.stdout, /^Usage: igvm inspect FILE \[--json\]$/m);
  assert.match(i.stdout, /^\s+--json\s+print the report and the full model as JSON/m);
  assert.match(i.stdout, /^Examples:$/m);
  assert.match(i.stdout, /^ {2}igvm inspect guest\.igvm$/m);
  // --help wins over other arguments, even a missing file.
  const h = igvm(['inspect', join(dir, 'nope.igvm'), '--help']);
  assert.equal(h.status, 0);
  assert.equal(h.stdout, i.stdout);
});

test('the CLI entry point is built', () => {
  assert.ok(existsSync(CLI), `${CLI} missing: run tsc first`);
});
