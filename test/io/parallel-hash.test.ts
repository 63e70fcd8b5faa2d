// Tests for the SHA-384 page pool (src/io/parallel-hash.ts), batched SnpLaunchDigest chaining and readInputShared.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rng } from '../helpers.js';
import { IoError } from '../../src/cli/framework.js';
import { setHashProvider, sha384Pages } from '../../src/crypto/hash.js';
import { readInput, readInputShared } from '../../src/io/files.js';
import { NODE_HASH } from '../../src/io/node-hash.js';
import { INLINE_BELOW, installParallelNodeHash, parallelNodeHash } from '../../src/io/parallel-hash.js';
import { SNP_PAGE, SnpLaunchDigest, type SnpPageType, type SnpStep } from '../../src/measure/snp-digest.js';

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const expected = (b: Uint8Array): string => createHash('sha384').update(b).digest('hex');

function randomBytes(next: () => number, into: Uint8Array): Uint8Array {
  for (let i = 0; i < into.length; i += 4) {
    const v = (next() * 2 ** 32) >>> 0;
    for (let k = 0; k < 4 && i + k < into.length; k++) into[i + k] = (v >>> (8 * k)) & 0xff;
  }
  return into;
}

function sharedBytes(next: () => number, n: number): Uint8Array {
  return randomBytes(next, new Uint8Array(new SharedArrayBuffer(n)));
}

function checkPages(pages: readonly Uint8Array[], what: string): void {
  const digests = sha384Pages(pages);
  assert.equal(digests.length, pages.length, `${what}: one digest per page`);
  pages.forEach((p, i) => {
    assert.equal(digests[i]!.length, 48, `${what}: page ${i} digest length`);
    assert.equal(hex(digests[i]!), expected(p), `${what}: page ${i} (${p.length} bytes)`);
  });
}

test('sha384Pages of the pool equals node:crypto per page: SharedArrayBuffer, ordinary and mixed pages of every size', () => {
  const provider = installParallelNodeHash();
  assert.ok(provider.workers >= 1);
  const next = rng(1);
  const big = sharedBytes(next, 3000 * 4096 + 100);
  const sabPages = (n: number, shift: number): Uint8Array[] =>
    Array.from({ length: n }, (_, i) => big.subarray(shift + (i % 3000) * 4096, shift + (i % 3000) * 4096 + 4096));
  const ordinary = (n: number, len: () => number): Uint8Array[] => Array.from({ length: n }, () => randomBytes(next, new Uint8Array(len())));
  for (const n of [0, 1, INLINE_BELOW - 1, INLINE_BELOW, 3000, 9000]) {
    checkPages(sabPages(n, 0), `${n} SAB pages`);
    checkPages(ordinary(n, () => 4096), `${n} ordinary pages`);
  }
  checkPages(sabPages(2000, 52), 'unaligned SAB pages');
  // Shorter pages (and empty ones), from both kinds of buffer, interleaved.
  const mixed: Uint8Array[] = [];
  for (let i = 0; i < 2500; i++) {
    const len = next() < 0.5 ? 4096 : Math.floor(next() * 4097);
    const at = Math.floor(next() * 2999) * 4096 + Math.floor(next() * 50);
    mixed.push(next() < 0.5 ? big.subarray(at, at + len) : randomBytes(next, new Uint8Array(len)));
  }
  checkPages(mixed, 'mixed pages');
  // More distinct SharedArrayBuffers than the workers keep, in one batch and across batches.
  const many = Array.from({ length: 40 }, () => sharedBytes(next, 64 * 4096));
  const spread: Uint8Array[] = [];
  for (let i = 0; i < 2560; i++) {
    const b = many[i % many.length]!;
    const at = ((i >> 6) % 64) * 4096;
    spread.push(b.subarray(at, at + 4096));
  }
  checkPages(spread, 'pages of 40 SharedArrayBuffers');
  checkPages(spread.slice(700).reverse(), 'the same pages again, reversed');
  // More ordinary bytes than the 16 MiB staging buffer holds, and a page bigger than it.
  checkPages(ordinary(5000, () => 4096), '20 MiB of ordinary pages');
  checkPages([...ordinary(INLINE_BELOW, () => 4096), randomBytes(next, new Uint8Array(17 << 20))], 'a 17 MiB page');
  assert.equal(provider.state, 'running', 'the workers hashed the big batches');
});

test('startSha384Pages: batches started before the previous one was collected all come out right', () => {
  const provider = installParallelNodeHash();
  const next = rng(2);
  const a = Array.from({ length: 1500 }, () => sharedBytes(next, 4096));
  const b = Array.from({ length: 800 }, () => randomBytes(next, new Uint8Array(4096)));
  const wa = provider.startSha384Pages(a);
  const wb = provider.startSha384Pages(b); // finishes a first
  const wc = provider.startSha384Pages(a.slice(0, 10)); // inline
  assert.deepEqual(wb().map(hex), b.map(expected));
  assert.deepEqual(wa().map(hex), a.map(expected));
  assert.deepEqual(wc().map(hex), a.slice(0, 10).map(expected));
  assert.deepEqual(wa().map(hex), a.map(expected), 'calling the wait function again');
});

test('parallelNodeHash rejects a bad worker count; the provider keeps the node:crypto one-shot functions', () => {
  assert.throws(() => parallelNodeHash({ workers: 0 }), RangeError);
  assert.throws(() => parallelNodeHash({ workers: 1.5 }), RangeError);
  const p = parallelNodeHash({ workers: 1 });
  assert.equal(p.workers, 1);
  assert.equal(p.state, 'idle');
  const data = new Uint8Array([1, 2, 3]);
  assert.equal(hex(p.sha384(data)), expected(data));
  assert.equal(hex(p.sha256(data)), createHash('sha256').update(data).digest('hex'));
  assert.equal(hex(p.createSha384().update(data).digest()), expected(data));
  // One worker hashes big batches too.
  setHashProvider(p);
  const next = rng(3);
  checkPages(Array.from({ length: 1200 }, () => sharedBytes(next, 4096)), 'one worker');
  assert.equal(p.state, 'running');
});

/** One call on a SnpLaunchDigest, replayed identically under each provider. */
type Op = (ld: SnpLaunchDigest, log: string[]) => void;

function randomOps(next: () => number, count: number): Op[] {
  const big = sharedBytes(next, 2048 * 4096 + 64);
  const types: SnpPageType[] = [SNP_PAGE.NORMAL, SNP_PAGE.VMSA, SNP_PAGE.ZERO, SNP_PAGE.UNMEASURED, SNP_PAGE.SECRETS, SNP_PAGE.CPUID];
  const ops: Op[] = [];
  for (let k = 0; k < count; k++) {
    const r = next();
    const gpa: bigint | number = next() < 0.5 ? Math.floor(next() * 2 ** 40) * 4096 : BigInt(Math.floor(next() * 2 ** 40)) << 12n;
    const source = next() < 0.1 ? undefined : k;
    if (r < 0.75) {
      const type = next() < 0.9 ? SNP_PAGE.NORMAL : SNP_PAGE.VMSA;
      const kind = next();
      let page: Uint8Array | undefined;
      const at = Math.floor(next() * 2047) * 4096 + (next() < 0.8 ? 0 : Math.floor(next() * 64));
      if (kind < 0.6) page = big.subarray(at, at + 4096);
      else if (kind < 0.8) page = randomBytes(next, new Uint8Array(4096));
      else if (kind < 0.9) page = (next() < 0.5 ? big.subarray(at, at + 4096) : randomBytes(next, new Uint8Array(4096))).subarray(0, 1 + Math.floor(next() * 4095));
      else if (kind < 0.95) page = next() < 0.5 ? undefined : new Uint8Array(0);
      else page = randomBytes(next, new Uint8Array(4096 + 1 + Math.floor(next() * 100))); // longer: the first 4096 bytes count
      ops.push((ld) => ld.addPage(gpa, type, page, source));
    } else if (r < 0.9) {
      const type = types[2 + Math.floor(next() * 4)]!;
      const page = next() < 0.5 ? big.subarray(0, 4096) : undefined;
      ops.push((ld) => ld.addPage(gpa, type, page, source));
    } else if (r < 0.995) {
      const type = types[Math.floor(next() * types.length)]!;
      const contents = randomBytes(next, new Uint8Array(48));
      ops.push((ld) => ld.addContents(gpa, type, contents, source));
    } else if (r < 0.9975) ops.push((ld, log) => log.push(`digest ${hex(ld.digest())}`));
    else ops.push((ld, log) => log.push(`steps ${ld.steps?.length ?? 'none'}`));
  }
  return ops;
}

const stepText = (s: SnpStep): string => `${s.gpa.toString(16)} ${s.type} ${hex(s.contents)} ${hex(s.digest)} ${s.source ?? '-'}`;

function replay(ops: readonly Op[], trace: boolean): { log: string[]; digest: string; steps: string[] | undefined } {
  const ld = new SnpLaunchDigest({ trace });
  const log: string[] = [];
  for (const op of ops) op(ld, log);
  const digest = hex(ld.digest());
  return { log, digest, steps: ld.steps?.map(stepText) };
}

/** The PAGE_INFO chain over recorded steps, written here with node:crypto. */
function oracle(steps: readonly SnpStep[]): string {
  const info = Buffer.alloc(0x70);
  info.writeUInt16LE(0x70, 0x60);
  for (const s of steps) {
    info.set(s.contents, 0x30);
    info[0x62] = s.type;
    info.writeBigUInt64LE(s.gpa, 0x68);
    info.set(createHash('sha384').update(info).digest(), 0);
  }
  return info.subarray(0, 48).toString('hex');
}

test('SnpLaunchDigest with the pool: the same digest, steps and intermediate results as with plain node:crypto', () => {
  for (const [seed, count, trace] of [[10, 14000, true], [11, 9000, false], [12, 300, true], [13, 6000, true]] as const) {
    const ops = randomOps(rng(seed), count);
    setHashProvider(NODE_HASH);
    const plain = replay(ops, trace);
    const provider = installParallelNodeHash();
    const pooled = replay(ops, trace);
    assert.notEqual(provider.state, 'unavailable');
    assert.equal(pooled.digest, plain.digest, `seed ${seed}: digest`);
    assert.deepEqual(pooled.log, plain.log, `seed ${seed}: digests and step counts read midway`);
    assert.deepEqual(pooled.steps, plain.steps, `seed ${seed}: steps`);
    if (trace) {
      const ld = new SnpLaunchDigest({ trace: true });
      for (const op of ops) op(ld, []);
      assert.equal(oracle(ld.steps ?? []), plain.digest, `seed ${seed}: the chain over the steps`);
    }
  }
});

test('SnpLaunchDigest with the pool: interleaved digests, and a wrong CONTENTS length still throws at once', () => {
  installParallelNodeHash();
  const next = rng(20);
  const pages = Array.from({ length: 6000 }, () => sharedBytes(next, 4096));
  const a = new SnpLaunchDigest({ trace: true });
  const b = new SnpLaunchDigest();
  pages.forEach((p, i) => {
    a.addPage(i * 4096, SNP_PAGE.NORMAL, p, i);
    b.addPage(i * 4096, SNP_PAGE.VMSA, pages[pages.length - 1 - i], i);
  });
  assert.throws(() => a.addContents(0, SNP_PAGE.NORMAL, new Uint8Array(47)), RangeError);
  setHashProvider(NODE_HASH);
  const a2 = new SnpLaunchDigest({ trace: true });
  const b2 = new SnpLaunchDigest();
  pages.forEach((p, i) => {
    a2.addPage(i * 4096, SNP_PAGE.NORMAL, p, i);
    b2.addPage(i * 4096, SNP_PAGE.VMSA, pages[pages.length - 1 - i], i);
  });
  assert.equal(hex(a.digest()), hex(a2.digest()));
  assert.equal(hex(b.digest()), hex(b2.digest()));
  assert.deepEqual(a.steps?.map(stepText), a2.steps?.map(stepText));
});

test('a process that installed the pool exits by itself, also with a batch still being hashed', () => {
  const url = new URL('../../src/io/parallel-hash.js', import.meta.url).href;
  const body = (finish: string): string => `
    import { installParallelNodeHash } from ${JSON.stringify(url)};
    const p = installParallelNodeHash();
    const data = new Uint8Array(new SharedArrayBuffer(8192 * 4096));
    for (let i = 0; i < data.length; i += 4096) data[i] = i >>> 12;
    const pages = [];
    for (let i = 0; i < 8192; i++) pages.push(data.subarray(i * 4096, i * 4096 + 4096));
    ${finish}`;
  for (const [what, finish] of [
    ['waits for the digests', "const d = p.sha384Pages(pages); if (d.length !== 8192) process.exit(3); console.log('done');"],
    ['leaves a batch running', "p.startSha384Pages(pages); console.log('done');"],
  ] as const) {
    const t = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', body(finish)], { encoding: 'utf8', timeout: 20_000 });
    const ms = Date.now() - t;
    assert.equal(r.signal, null, `${what}: the child was killed after ${ms} ms (it did not exit by itself)`);
    assert.equal(r.status, 0, `${what}: exit code ${r.status}, stderr ${r.stderr}`);
    assert.equal(r.stdout.trim(), 'done');
    assert.ok(ms < 8000, `${what}: exited after ${ms} ms`);
  }
});

test('readInputShared: the bytes of readInput in a SharedArrayBuffer, with the same errors', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-shared-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const next = rng(30);
  for (const size of [0, 1, 4096, 3 * 1024 * 1024 + 17]) {
    const path = join(dir, `f${size}`);
    writeFileSync(path, randomBytes(next, new Uint8Array(size)));
    const shared = readInputShared(path);
    assert.ok(shared.buffer instanceof SharedArrayBuffer, 'backed by a SharedArrayBuffer');
    assert.equal(hex(shared), hex(readInput(path)));
  }
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof IoError, `expected IoError, got ${String(e)}`);
      return e.message;
    }
    return assert.fail('no error');
  };
  for (const path of [join(dir, 'missing'), dir, join(dir, 'f1', 'below')]) {
    assert.equal(message(() => readInputShared(path)), message(() => readInput(path)));
  }
  assert.equal(message(() => readInputShared(join(dir, 'missing'))), `cannot read '${join(dir, 'missing')}': no such file`);
});
