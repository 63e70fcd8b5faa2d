// igvmgen against the original's outputs: every manifest case, byte for byte apart from record padding and checksum (IGVMGEN.md §15).
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, VECTORS, EXPECTED, manifest, type ManifestCase } from '../helpers.js';
import { walkRecords } from '../raw-igvm.js';
import { dumpIgvmgen } from '../../src/igvmgen/dump.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvmgen.js');

/** The image with the fixed-header checksum and every record's padding zeroed (what the manifest calls normalized). */
export function normalized(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  out.fill(0, 20, 24);
  for (const r of walkRecords(out)) out.fill(0, r.body + r.length, r.body + Math.ceil(r.length / 8) * 8);
  return out;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** The dump text with the Checksum field blanked (it is the one value allowed to differ). */
const dumpSansChecksum = (text: string): string => text.replace(/Checksum:0x[0-9a-f]+/, 'Checksum:-');

/** A scratch copy of the vectors folder layout: inputs and ACPI folders (iasl must not write into ../shared). */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-gen-'));
  cpSync(join(VECTORS, 'inputs'), join(dir, 'inputs'), { recursive: true });
  cpSync(join(VECTORS, 'acpi'), join(dir, 'acpi'), { recursive: true });
  return dir;
}

function runCase(c: ManifestCase, cwd: string): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  const args = c.args_for_igvmkit ?? c.args;
  return spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
}

const cases = manifest();

test('the manifest has the cases IGVMGEN.md lists', () => {
  const names = cases.map((c) => c.name);
  for (const n of ['T_bzImage', 'T_bzImage64', 'T_bzImage2', 'T_bzImageNoOpt', 'T_elf', 'T_elf_x64_pgt2', 'T_elf_x64_pgt4']) assert.ok(names.includes(n), n);
  assert.ok(cases.length >= 11);
});

for (const c of cases) {
  test(`manifest case ${c.name}: same image (padding aside), digest, measurement file and stdout`, () => {
    const dir = workdir();
    try {
      const before = readdirSync(join(dir, 'acpi'), { recursive: true }).sort();
      const r = runCase(c, dir);
      assert.equal(r.status, c.rc, `exit status; stderr: ${r.stderr}`);
      assert.equal(r.stderr, '', 'nothing on stderr (a fixed key with -sign_deterministic is reproducible)');
      assert.equal(r.stdout, c.stdout);
      const out = join(dir, `${c.name}.igvm`);
      const bytes = new Uint8Array(readFileSync(out));
      assert.equal(bytes.length, c.size, 'size');
      assert.equal(sha256(normalized(bytes)), c.normalized_sha256, 'normalized sha256 (only padding and checksum may differ)');
      const stored = join(EXPECTED, `${c.name}.igvm`);
      if (existsSync(stored)) {
        // The stored original: equal after normalization, and every difference is a padding byte '0' vs 0 or the checksum.
        const orig = new Uint8Array(readFileSync(stored));
        assert.equal(sha256(normalized(orig)), c.normalized_sha256);
        const pads = new Set<number>();
        for (const rec of walkRecords(orig)) for (let i = rec.body + rec.length; i < rec.body + Math.ceil(rec.length / 8) * 8; i++) pads.add(i);
        for (let i = 0; i < bytes.length; i++) {
          if (bytes[i] === orig[i] || (i >= 20 && i < 24)) continue;
          assert.ok(pads.has(i) && orig[i] === 0x30 && bytes[i] === 0, `byte 0x${i.toString(16)} differs outside padding`);
        }
      }
      assert.equal(readFileSync(join(dir, `${c.name}.measurement.json`), 'utf8'), readFileSync(join(EXPECTED, `${c.name}.measurement.json`), 'utf8'));
      const m = JSON.parse(readFileSync(join(dir, `${c.name}.measurement.json`), 'utf8')) as Record<string, string>;
      assert.equal(m['x-ms-sevsnpvm-launchmeasurement'], c.launch_digest);
      const dumpFile = join(EXPECTED, `${c.name}.dump`);
      if (existsSync(dumpFile)) {
        assert.equal(dumpSansChecksum(dumpIgvmgen(bytes)), dumpSansChecksum(readFileSync(dumpFile, 'utf8')), 'dump text (checksum aside)');
      }
      assert.deepEqual(readdirSync(join(dir, 'acpi'), { recursive: true }).sort(), before, 'nothing written into the ACPI folders');
      assert.ok(!existsSync(join(dir, 'igvm.log')), 'no igvm.log without -l');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
