// `igvm diff` run as a child process: exit codes (0 equal, 1 different, 2 usage, 3 unreadable or invalid file), text and --json.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { storedVectors } from '../helpers.js';
import { parseIgvm } from '../../src/format/index.js';
import { serializeIgvm } from '../../src/format/serialize.js';
import { toJson } from '../../src/cli/json.js';
import { diffIgvm } from '../../src/diff/index.js';
import { patchU32 } from '../raw-igvm.js';
import { runIgvm, runInfo, type Run } from './run-cli.js';



const igvm = (args: string[]): Run => runIgvm([...args]);
const info = runInfo;

const dir = mkdtempSync(join(tmpdir(), 'igvm-diff-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, bytes: Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

const vectors = storedVectors();
const V = (name: string): { path: string; bytes: Uint8Array } => vectors.find((v) => v.name === name)!;

test('identical files: exit 0, "files are identical"', () => {
  const v = V('T_bzImage');
  const r = igvm(['diff', v.path, write('copy.igvm', v.bytes)]);
  assert.equal(r.status, 0, info(r));
  assert.match(r.stdout, /^files are identical$/m);
  assert.match(r.stdout, /SEV-SNP \(launch digest, microsoft\/igvm crate rule\): equal [0-9a-f]{96}/);
  assert.equal(r.stderr, '');
});

test('a compact re-serialization: exit 0, structurally equal with the byte layout difference named', () => {
  const v = V('T_elf');
  const compact = write('compact.igvm', serializeIgvm(parseIgvm(v.bytes), { mode: 'compact' }));
  const r = igvm(['diff', v.path, compact]);
  assert.equal(r.status, 0, info(r));
  assert.match(r.stdout, /^files are structurally equal \(byte layout differs: /m);
});

test('different files: exit 1, summary first; --json prints exactly the library result', () => {
  const a = V('T_bzImage');
  const b = V('T_bzImageNoOpt');
  const r = igvm(['diff', a.path, b.path]);
  assert.equal(r.status, 1, info(r));
  const lines = r.stdout.split('\n');
  assert.match(lines[2]!, /^A and B differ: .*directives added .*SEV-SNP digest differs from step 0/);
  assert.match(r.stdout, /^Directives:$/m);
  assert.match(r.stdout, /added +PAGE_DATA #315–#7053 in B 0x1a14000–0x3466fff \(6739 pages\)/);
  const j = igvm(['diff', a.path, b.path, '--json']);
  assert.equal(j.status, 1, info(j));
  const expected = JSON.parse(toJson(diffIgvm(parseIgvm(a.bytes), parseIgvm(b.bytes)))) as unknown;
  assert.deepEqual(JSON.parse(j.stdout), expected);
  const nm = JSON.parse(igvm(['diff', a.path, b.path, '--json', '--no-measure']).stdout) as { measurements: unknown[]; equal: boolean };
  assert.deepEqual(nm.measurements, []);
  assert.equal(nm.equal, false);
});

test('--limit bounds the pages listed per range', () => {
  const r = igvm(['diff', V('T_bzImage').path, V('T_bzImage64').path, '--limit', '2']);
  assert.equal(r.status, 1, info(r));
  assert.match(r.stdout, /… and 30 more pages/);
});

test('usage errors: exit 2', () => {
  for (const args of [['diff', V('T_elf').path], ['diff'], ['diff', 'a', 'b', '--bogus'], ['diff', '-', '-'], ['diff', 'a', 'b', '--limit', '-1'], ['diff', V('T_elf').path, V('T_elf').path, '--vcpus', '0'], ['diff', 'a', 'b', '--vmm', 'xen']]) {
    const r = igvm(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${info(r)}`);
    assert.match(r.stderr, /^igvm: error: /);
  }
});

test('an unreadable file: exit 3; an invalid file: one line naming the file, exit 3 (1 is reserved for "different")', () => {
  const missing = igvm(['diff', V('T_elf').path, join(dir, 'nope.igvm')]);
  assert.equal(missing.status, 3, info(missing));
  assert.match(missing.stderr, /nope\.igvm/);
  const bad = write('bad.igvm', patchU32(V('T_elf').bytes.slice(), 0x14, 0x12345678));
  const r = igvm(['diff', bad, V('T_elf').path]);
  assert.equal(r.status, 3, info(r));
  assert.equal(r.stderr.split('\n').filter((l) => l).length, 1, r.stderr);
  assert.match(r.stderr, /^igvm: error: .*bad\.igvm.*checksum/i);
  assert.equal(r.stdout, '');
  // The same message `igvm inspect` prints for that file.
  const inspect = igvm(['inspect', bad]);
  assert.equal(inspect.stderr, r.stderr);
});
