// `npm start`'s examples: both files are valid, and the igvmgen example's digest is stable and independently reproduced.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers.js';
import { buildExample, buildIgvmgenExample } from '../../src/examples/start.js';
import { validateIgvm } from '../../src/validate/index.js';
import { referenceSnpDigest } from '../measure/snp-reference.js';

test('the builder example and the igvmgen example validate without errors', () => {
  assert.equal(validateIgvm(buildExample()).errors, 0);
  const g = buildIgvmgenExample();
  assert.equal(validateIgvm(g.bytes).errors, 0);
  assert.equal(referenceSnpDigest(g.bytes), g.launchDigest);
  assert.equal(buildIgvmgenExample().launchDigest, g.launchDigest, 'the digest does not depend on the random key');
});

test('npm start writes the example files and prints the digest', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'igvmkit-start-'));
  try {
    const r = spawnSync(process.execPath, [join(REPO_ROOT, 'dist', 'src', 'examples', 'start.js')], { cwd, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const m = /SEV-SNP launch digest: ([0-9a-f]{96})/.exec(r.stdout);
    assert.ok(m, r.stdout);
    const json = JSON.parse(readFileSync(join(cwd, 'out', 'igvmgen-example.measurement.json'), 'utf8')) as Record<string, string>;
    assert.equal(json['x-ms-sevsnpvm-launchmeasurement'], m[1]);
    assert.equal(referenceSnpDigest(new Uint8Array(readFileSync(join(cwd, 'out', 'igvmgen-example.igvm')))), m[1]);
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});
