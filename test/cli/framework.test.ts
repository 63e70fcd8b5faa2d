// Tests for the CLI framework: parsing, generated help, error lines and exit codes.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmError } from '../../src/errors.js';
import {
  IoError,
  UsageError,
  booleanOption,
  commandHelp,
  listOption,
  numberOption,
  parseArgs,
  parseSize,
  programHelp,
  runCli,
  stringOption,
  type CommandContext,
  type CommandSpec,
  type ParsedArgs,
  type ProgramSpec,
} from '../../src/cli/framework.js';

let lastArgs: ParsedArgs | undefined;
/** Read through a function so assert's type narrowing does not stick to the variable. */
const got = (): ParsedArgs | undefined => lastArgs;
let action: (ctx: CommandContext) => number | Promise<number> = () => 0;

const inspect: CommandSpec = {
  name: 'inspect',
  summary: 'Show the structure of an IGVM file.',
  usage: 'FILE [--json]',
  description: 'Reads FILE and prints its headers and directives.',
  positionals: [{ name: 'FILE', description: 'The IGVM file to read' }],
  options: [
    { name: 'json', short: 'j', type: 'boolean', description: 'Print the result as JSON' },
    { name: 'verbose', short: 'v', type: 'boolean', description: 'More detail' },
    { name: 'color', type: 'boolean', default: true, description: 'Colored output' },
    { name: 'output', short: 'o', type: 'string', valueName: 'OUT', description: 'Write to OUT' },
    { name: 'count', type: 'number', description: 'How many' },
    { name: 'memory', short: 'm', type: 'size', default: '2G', description: 'Guest memory' },
    { name: 'format', type: 'choice', choices: ['text', 'json'], default: 'text', description: 'Output format' },
    { name: 'include', short: 'I', type: 'string', repeatable: true, valueName: 'DIR', description: 'Search DIR' },
  ],
  examples: [
    { command: 'igvm inspect guest.igvm --json', description: 'Print guest.igvm as JSON' },
    { command: 'inspect -m 512M guest.igvm', description: 'With 512 MiB' },
  ],
  run(ctx) {
    lastArgs = ctx.args;
    return action(ctx);
  },
};

const exec: CommandSpec = {
  name: 'exec',
  summary: 'Run a tool on files.',
  usage: 'FILE... [-- TOOLARGS...]',
  positionals: [
    { name: 'FILE', description: 'Input files', variadic: true },
  ],
  options: [{ name: 'dry-run', short: 'n', type: 'boolean', description: 'Only print' }],
  examples: [],
  run(ctx) {
    lastArgs = ctx.args;
    return action(ctx);
  },
  mapError: (e) => (e.code === 'mapped' ? 7 : 1),
};

const program: ProgramSpec = { name: 'igvm', version: '1.2.3', summary: 'Toolkit for IGVM files', commands: [inspect, exec] };

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  lastArgs = undefined;
  const code = await runCli(program, argv, {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
  });
  return { code, out, err };
}

test('program help lists commands', async () => {
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await run(...argv);
    assert.equal(r.code, 0);
    assert.equal(r.err, '');
    assert.match(r.out, /^igvm 1\.2\.3: Toolkit for IGVM files\n/);
    assert.match(r.out, /Usage: igvm COMMAND/);
    assert.match(r.out, /\n {2}inspect {2}Show the structure of an IGVM file\.\n {2}exec {5}Run a tool on files\.\n/);
    assert.match(r.out, /Run 'igvm COMMAND --help'/);
  }
  assert.equal((await run('help')).out, programHelp(program));
});

test('--version', async () => {
  assert.deepEqual(await run('--version'), { code: 0, out: 'igvm 1.2.3\n', err: '' });
});

test('command help is generated from the spec', async () => {
  const r = await run('inspect', '--help');
  assert.equal(r.code, 0);
  assert.equal(r.out, commandHelp(program, inspect));
  assert.equal(got(), undefined, 'help does not run the command');
  const h = r.out;
  assert.match(h, /^Usage: igvm inspect FILE \[--json\]\n\nShow the structure of an IGVM file\.\n\nReads FILE/);
  assert.match(h, /Arguments:\n {2}FILE {2}The IGVM file to read\n/);
  assert.match(h, /\n {2}-j, --json +Print the result as JSON\n/);
  assert.match(h, /\n {6}--\[no-\]color +Colored output \(default: on\)\n/);
  assert.match(h, /\n {2}-o, --output OUT +Write to OUT\n/);
  assert.match(h, /\n {6}--count N +How many \(number\)\n/);
  assert.match(h, /\n {2}-m, --memory SIZE +Guest memory \(size: bytes, 0x hex or K\/M\/G\/T suffix;\s+default: 2G\)\n/);
  assert.match(h, /\n {6}--format text\|json +Output format \(one of: text, json; default: text\)\n/);
  assert.match(h, /\n {2}-I, --include DIR +Search DIR \(repeatable\)\n/);
  assert.match(h, /\n {2}-h, --help +Show this help\n/);
  assert.match(h, /Examples:\n {2}igvm inspect guest\.igvm --json\n {6}Print guest\.igvm as JSON\n {2}igvm inspect -m 512M guest\.igvm\n {6}With 512 MiB\n$/);
  for (const line of h.split('\n')) assert.ok(line.length <= 80, `line too long: ${line}`);
  // Every way of asking gives the same text.
  for (const argv of [['inspect', '-h'], ['help', 'inspect'], ['inspect', 'x', '--bogus', '--help'], ['inspect', '--output', 'x', '-h']]) {
    assert.deepEqual(await run(...argv), { code: 0, out: h, err: '' }, argv.join(' '));
  }
  // After -- it is an argument.
  const r2 = await run('exec', 'a', '--', '--help');
  assert.equal(r2.code, 0);
  assert.deepEqual(got()?.positionals, ['a', '--help']);
});

test('parses options: long, =value, short, clusters, --no-, defaults, repeatable', async () => {
  const r = await run('inspect', 'f.igvm', '--json', '--output=o.txt', '--count', '0x10', '-I', 'a', '--include=b', '-Ic', '--no-color', '-m512M', '--format', 'json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(got(), {
    positionals: ['f.igvm'],
    options: { json: true, output: 'o.txt', count: 16, include: ['a', 'b', 'c'], color: false, memory: 536870912, format: 'json', verbose: false },
    rest: [],
  });
  await run('inspect', '-jv', 'f', '-o', '-', '--count', '-2.5');
  assert.deepEqual(got()?.options, { json: true, verbose: true, output: '-', count: -2.5, color: true, memory: 2 * 2 ** 30, format: 'text', include: [] });
  const args = got() as ParsedArgs;
  assert.equal(booleanOption(args, 'json'), true);
  assert.equal(stringOption(args, 'output'), '-');
  assert.equal(numberOption(args, 'count'), -2.5);
  assert.deepEqual(listOption(args, 'include'), []);
});

test('-- ends options; the rest is positional and exposed as rest', async () => {
  const r = await run('exec', 'a', '-n', 'b', '--', 'c', '--dry-run', '-x', '--');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(got(), { positionals: ['a', 'b', 'c', '--dry-run', '-x', '--'], options: { 'dry-run': true }, rest: ['c', '--dry-run', '-x', '--'] });
  await run('exec', 'a');
  assert.deepEqual(got()?.rest, []);
});

test('size parsing', () => {
  assert.equal(parseSize('512M'), 536870912);
  assert.equal(parseSize('2G'), 2147483648);
  assert.equal(parseSize('4096'), 4096);
  assert.equal(parseSize('0x1000'), 4096);
  assert.equal(parseSize('0X1f'), 31);
  assert.equal(parseSize('4k'), 4096);
  assert.equal(parseSize('4KiB'), 4096);
  assert.equal(parseSize('1T'), 2 ** 40);
  assert.equal(parseSize('100B'), 100);
  for (const bad of ['12Q', '', 'M', '1.5G', '-1', '0x', '0x1000M', '1 G', '99999999999T', '0x' + 'f'.repeat(20)]) {
    assert.equal(parseSize(bad), undefined, bad);
  }
});

test('usage errors: exact one-line message and exit 2', async () => {
  const H = "(run 'igvm inspect --help')";
  const cases: [string[], string][] = [
    [[], "igvm: error: no command given (run 'igvm --help')"],
    [['bogus'], "igvm: error: unknown command 'bogus' (run 'igvm --help')"],
    [['inspct', 'f'], "igvm: error: unknown command 'inspct'; did you mean 'inspect'? (run 'igvm --help')"],
    [['help', 'nope'], "igvm: error: unknown command 'nope' (run 'igvm --help')"],
    [['--json'], "igvm: error: expected a command before option '--json' (run 'igvm --help')"],
    [['inspect', 'f', '--bogus'], `igvm: error: unknown option '--bogus' ${H}`],
    [['inspect', 'f', '--jsn'], `igvm: error: unknown option '--jsn'; did you mean '--json'? ${H}`],
    [['inspect', 'f', '-x'], `igvm: error: unknown option '-x' ${H}`],
    [['inspect', 'f', '-jx'], `igvm: error: unknown option '-x' ${H}`],
    [['inspect', 'f', '--no-output'], `igvm: error: unknown option '--no-output' ${H}`],
    [['inspect', 'f', '--json=yes'], `igvm: error: option '--json' does not take a value ${H}`],
    [['inspect', 'f', '--output'], `igvm: error: option '--output' requires a value ${H}`],
    [['inspect', 'f', '-o'], `igvm: error: option '-o' requires a value ${H}`],
    [['inspect', 'f', '--output', '--json'], `igvm: error: option '--output' requires a value ${H}`],
    [['inspect', 'f', '--count', 'ten'], `igvm: error: option '--count' expects a number, got 'ten' ${H}`],
    [['inspect', 'f', '--count='], `igvm: error: option '--count' expects a number, got '' ${H}`],
    [['inspect', 'f', '--memory', '12Q'], `igvm: error: option '--memory' expects a size like 4096, 0x1000, 512M or 2G, got '12Q' ${H}`],
    [['inspect', 'f', '-m12Q'], `igvm: error: option '-m' expects a size like 4096, 0x1000, 512M or 2G, got '12Q' ${H}`],
    [['inspect', 'f', '--format=xml'], `igvm: error: option '--format' expects one of text, json; got 'xml' ${H}`],
    [['inspect'], `igvm: error: missing argument FILE ${H}`],
    [['inspect', 'a', 'b'], `igvm: error: unexpected argument 'b' ${H}`],
    [['inspect', 'a', '--', 'b'], `igvm: error: unexpected argument 'b' ${H}`],
    [['exec'], "igvm: error: missing argument FILE (run 'igvm exec --help')"],
    [['exec', '--', ], "igvm: error: missing argument FILE (run 'igvm exec --help')"],
  ];
  for (const [argv, message] of cases) {
    const r = await run(...argv);
    assert.deepEqual(r, { code: 2, out: '', err: message + '\n' }, argv.join(' '));
    assert.equal(got(), undefined);
  }
});

test('parseArgs throws UsageError', () => {
  assert.throws(() => parseArgs(inspect, ['--count', 'x', 'f']), (e: unknown) => e instanceof UsageError && /expects a number/.test(e.message));
  assert.deepEqual(parseArgs(exec, ['x', 'y']), { positionals: ['x', 'y'], options: { 'dry-run': false }, rest: [] });
});

test('output is buffered into one write and flushed', async () => {
  let writes = 0;
  let out = '';
  action = (ctx) => {
    for (let i = 0; i < 1000; i++) ctx.out(`line ${i}\n`);
    ctx.err('note\n');
    return 1;
  };
  let err = '';
  const code = await runCli(program, ['inspect', 'f'], {
    stdout: { write: (s: string) => { writes++; out += s; } },
    stderr: { write: (s: string) => (err += s) },
  });
  assert.equal(code, 1);
  assert.equal(writes, 1);
  assert.equal(out.split('\n').length, 1001);
  assert.equal(err, 'note\n');
  action = () => 0;
});

test('thrown errors map to exit codes', async () => {
  const cases: [() => never | Promise<never>, string[], number, string][] = [
    [() => { throw new IgvmError('bad_magic', 'not an IGVM file', { file: 'x.igvm', offset: 0 }); }, ['inspect', 'x.igvm'], 1,
      'igvm: error: x.igvm: offset 0x0: not an IGVM file [bad_magic]\n'],
    [() => { throw new IgvmError('mapped', 'special'); }, ['exec', 'x'], 7, 'igvm: error: special [mapped]\n'],
    [() => { throw new IgvmError('other', 'plain'); }, ['exec', 'x'], 1, 'igvm: error: plain [other]\n'],
    [() => { throw new UsageError('--a and --b conflict'); }, ['inspect', 'x'], 2, "igvm: error: --a and --b conflict (run 'igvm inspect --help')\n"],
    [() => { throw new IoError("cannot read 'x': no such file", 'x'); }, ['inspect', 'x'], 3, "igvm: error: cannot read 'x': no such file\n"],
    [async () => { await Promise.resolve(); throw new IoError("cannot write 'y': permission denied", 'y'); }, ['inspect', 'x'], 3, "igvm: error: cannot write 'y': permission denied\n"],
    [() => { throw new TypeError('boom'); }, ['inspect', 'x'], 3, 'igvm: internal error: boom\n'],
    [() => { throw 'a string'; }, ['inspect', 'x'], 3, 'igvm: internal error: a string\n'],
  ];
  const saved = process.env['IGVMKIT_DEBUG'];
  delete process.env['IGVMKIT_DEBUG'];
  try {
    for (const [thrower, argv, code, err] of cases) {
      action = thrower;
      assert.deepEqual(await run(...argv), { code, out: '', err }, err);
    }
    action = (ctx) => {
      ctx.out('partial\n');
      throw new IgvmError('late', 'late failure');
    };
    assert.deepEqual(await run('inspect', 'x'), { code: 1, out: 'partial\n', err: 'igvm: error: late failure [late]\n' });

    process.env['IGVMKIT_DEBUG'] = '1';
    action = () => {
      throw new Error('with stack');
    };
    const r = await run('inspect', 'x');
    assert.equal(r.code, 3);
    assert.match(r.err, /^igvm: internal error: with stack\nError: with stack\n\s+at /);
  } finally {
    if (saved === undefined) delete process.env['IGVMKIT_DEBUG'];
    else process.env['IGVMKIT_DEBUG'] = saved;
    action = () => 0;
  }
});

test('async run and returned codes', async () => {
  action = async (ctx) => {
    await new Promise((r) => setTimeout(r, 1));
    ctx.out('done\n');
    return 0;
  };
  assert.deepEqual(await run('inspect', 'x'), { code: 0, out: 'done\n', err: '' });
  action = () => 0;
});

test('in a real process: large piped output arrives whole, exit code via process.exitCode', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const framework = new URL('../../src/cli/framework.js', import.meta.url).href;
  const script = join(dir, 'bin.mjs');
  writeFileSync(
    script,
    `import { runCli } from ${JSON.stringify(framework)};
const big = { name: 'big', summary: 's', usage: '', positionals: [], options: [], examples: [],
  run(ctx) { ctx.out('x'.repeat(1023) + '\\n'.repeat(1)); for (let i = 1; i < 8192; i++) ctx.out('y'.repeat(1023) + '\\n'); return 1; } };
const boom = { name: 'boom', summary: 's', usage: '', positionals: [], options: [], examples: [], run() { throw new Error('kaput'); } };
process.exitCode = await runCli({ name: 'toy', version: '0', summary: 's', commands: [big, boom] }, process.argv.slice(2));
`,
  );
  const env = { ...process.env };
  delete env['IGVMKIT_DEBUG'];
  const r = spawnSync(process.execPath, [script, 'big'], { encoding: 'utf8', maxBuffer: 64 << 20, env });
  assert.equal(r.status, 1);
  assert.equal(r.stdout.length, 8192 * 1024);
  assert.equal(r.stderr, '');
  const b = spawnSync(process.execPath, [script, 'boom'], { encoding: 'utf8', env });
  assert.equal(b.status, 3);
  assert.equal(b.stderr, 'toy: internal error: kaput\n');
  const u = spawnSync(process.execPath, [script, 'big', 'extra'], { encoding: 'utf8', env });
  assert.equal(u.status, 2);
  assert.equal(u.stderr, "toy: error: unexpected argument 'extra' (run 'toy big --help')\n");
  // A reader that goes away early (`| head`) is not an error.
  const p = spawnSync('sh', ['-c', `"${process.execPath}" "${script}" big | head -c 10 >/dev/null; echo "rc=$?"`], { encoding: 'utf8', env });
  assert.equal(p.stderr, '');
  assert.equal(p.stdout, 'rc=0\n');
});
