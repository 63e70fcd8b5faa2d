// Shared test helpers: locating the repository, ../shared vectors and a seeded PRNG.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseIgvm } from '../src/format/index.js';
import { installNobleEcDefault } from '../src/crypto/noble-ec.js';
import { installNobleHashDefault } from '../src/crypto/noble-hash.js';

// Library code run in-process by the tests uses the pure-JS EC backend and hashes unless a test installs another.
installNobleEcDefault();
installNobleHashDefault();

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above the test files');
    dir = up;
  }
  return dir;
}

export const REPO_ROOT = findRepoRoot();
/** ../shared beside the checkout (CI lays it there). */
export const SHARED = process.env['IGVMKIT_SHARED'] ?? resolve(REPO_ROOT, '..', 'shared');
export const VECTORS = join(SHARED, 'vectors', 'igvmgen');
export const EXPECTED = join(VECTORS, 'expected');

export interface ManifestCase {
  name: string;
  args: string[];
  args_for_igvmkit?: string[];
  rc: number;
  size: number;
  sha256: string;
  normalized_sha256?: string;
  launch_digest: string;
  stdout: string;
  stderr: string;
}

export function manifest(): ManifestCase[] {
  const m = JSON.parse(readFileSync(join(EXPECTED, 'manifest.json'), 'utf8')) as { cases: ManifestCase[] };
  return m.cases;
}

/** Cases whose .igvm file is stored in the vectors. */
export function storedVectors(): { name: string; path: string; bytes: Uint8Array }[] {
  return manifest()
    .filter((c) => existsSync(join(EXPECTED, `${c.name}.igvm`)))
    .map((c) => {
      const path = join(EXPECTED, `${c.name}.igvm`);
      return { name: c.name, path, bytes: new Uint8Array(readFileSync(path)) };
    });
}

/** Deterministic PRNG (mulberry32) for property and fuzz tests. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Byte equality with a readable failure (first differing offset) instead of a megabyte diff. */
export function assertSameBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (actual.length !== expected.length) assert.fail(`${what}: length ${actual.length}, expected ${expected.length}`);
  for (let i = 0; i < actual.length; i++) {
    if (actual[i] !== expected[i]) assert.fail(`${what}: first difference at offset 0x${i.toString(16)} (0x${actual[i]!.toString(16)} vs 0x${expected[i]!.toString(16)})`);
  }
}

/** GPA → 4096-byte page of every PAGE_DATA directive of an IGVM file (zero-extended), read with igvmkit's parser. */
export function pageDataOf(path: string): Map<number, Uint8Array> {
  const file = parseIgvm(new Uint8Array(readFileSync(path)));
  const pages = new Map<number, Uint8Array>();
  for (const d of file.directives) {
    if (d.type !== 'PAGE_DATA') continue;
    const page = new Uint8Array(4096);
    if (d.data) page.set(d.data.subarray(0, 4096));
    pages.set(Number(d.gpa), page);
  }
  return pages;
}
