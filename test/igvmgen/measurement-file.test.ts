// The measurement file (Python json.dump, ensure_ascii) and the dict repr printed on stdout (IGVMGEN.md §11).
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXPECTED, manifest } from '../helpers.js';
import { measurementJson, measurementRepr, pyRepr } from '../../src/igvmgen/measurement-file.js';

test('the JSON and repr equal the original byte for byte on every manifest case', () => {
  for (const c of manifest()) {
    const svn = c.args[c.args.indexOf('-svn') + 1] ?? '0';
    const want = readFileSync(join(EXPECTED, `${c.name}.measurement.json`), 'utf8');
    assert.equal(measurementJson(c.args.includes('-svn') ? svn : '0', c.launch_digest), want, c.name);
    assert.ok(c.stdout.endsWith(measurementRepr(c.args.includes('-svn') ? svn : '0', c.launch_digest)), c.name);
  }
});

test('Python repr rules (values computed with Python 3.11)', () => {
  const cases: [string, string][] = [
    ["it's", `"it's"`], ['a"b', `'a"b'`], [`it's "x"`, `'it\\'s "x"'`], ['é', "'é'"], ['\x7f', "'\\x7f'"], ['\u00a0', "'\\xa0'"],
    ['tab\there', "'tab\\there'"], ['\u2028', "'\\u2028'"], ['😀', "'😀'"], ['\u200b', "'\\u200b'"], ['back\\slash', "'back\\\\slash'"],
  ];
  for (const [s, want] of cases) assert.equal(pyRepr(s), want, JSON.stringify(s));
});

test('ensure_ascii JSON escapes (values computed with Python 3.11)', () => {
  const json = (svn: string): string => (measurementJson(svn, 'x').split('\n')[1] ?? '').replace(/^ {2}"x-ms-sevsnpvm-guestsvn": /, '').replace(/,$/, '');
  assert.equal(json('é'), '"\\u00e9"');
  assert.equal(json('\x7f'), '"\\u007f"');
  assert.equal(json('😀'), '"\\ud83d\\ude00"');
  assert.equal(json('a"b\\c\n'), '"a\\"b\\\\c\\n"');
  assert.ok(!measurementJson('0', 'ab').endsWith('\n'), 'no trailing newline');
});
