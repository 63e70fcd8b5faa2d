// igvmgen's argparse emulation: option scanning, Python int() and str2bool (IGVMGEN.md §1.1).
import test from 'node:test';
import assert from 'node:assert/strict';
import { scanArgs, pythonInt, str2bool, checkValue, OPTIONS, UsageError } from '../../src/cli/igvmgen-args.js';

const pairs = (argv: string[]): [string, string | undefined][] => scanArgs(argv).map((o) => [o.option.dest, o.value]);

test('values that look like options are refused, negative numbers are values', () => {
  assert.throws(() => scanArgs(['-append', '-x']), (e: unknown) => e instanceof UsageError && /argument -append: expected one argument/.test(e.message));
  assert.deepEqual(pairs(['-vtl', '-1']), [['vtl', '-1']]);
  assert.deepEqual(pairs(['-append', 'panic=-1 console=ttyS0']), [['append', 'panic=-1 console=ttyS0']]);
  assert.deepEqual(pairs(['-append=-x']), [['append', '-x']]);
});

test('scan order and forms', () => {
  assert.deepEqual(pairs(['-kernel', 'k', '-append=a b', '-kern', 'k2', '-oout.igvm']), [['kernel', 'k'], ['append', 'a b'], ['kernel', 'k2'], ['o', 'out.igvm']]);
  assert.throws(() => scanArgs(['-s', 'x']), /ambiguous option: -s could match/);
  assert.throws(() => scanArgs(['stray']), /unrecognized arguments: stray/);
  assert.deepEqual(pairs(['-h', '-bogus']), [['help', undefined]], '-h acts at once');
});

test('Python int(): decimal with sign, spaces and single underscores only', () => {
  assert.equal(pythonInt('42'), 42n);
  assert.equal(pythonInt(' -7 '), -7n);
  assert.equal(pythonInt('+1_000'), 1000n);
  assert.equal(pythonInt('0x10'), undefined);
  assert.equal(pythonInt('1__0'), undefined);
  assert.equal(pythonInt('1.0'), undefined);
  assert.equal(pythonInt(''), undefined);
});

test('str2bool: only true, 1, True', () => {
  for (const t of ['true', '1', 'True']) assert.equal(str2bool(t), true);
  for (const f of ['TRUE', 'yes', 'on', '0', 'false', '', ' 1']) assert.equal(str2bool(f), false);
});

test('enum and int values give argparse messages', () => {
  const o = (d: string) => OPTIONS.find((x) => x.dest === d)!;
  assert.equal(checkValue(o('boot_mode'), 'X64'), "argument -boot_mode: invalid ARCH value: 'X64'");
  assert.equal(checkValue(o('inform'), 'ELF'), "argument -inform: invalid INFORM value: 'ELF'");
  assert.equal(checkValue(o('arch'), 'amd'), "argument -arch: invalid Arch value: 'amd'");
  assert.equal(checkValue(o('vtl'), '0x10'), "argument -vtl: invalid int value: '0x10'");
  assert.equal(checkValue(o('vtl'), '258'), undefined);
});
