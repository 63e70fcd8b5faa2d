// `npm run bench` (part): `igvm diff` (src/diff) and the TDX / VBS / SEV-ES measurements (MEASUREMENT.md §4–§6) on
// generated 128 MiB files, against baselines measured in the same run: Buffer.compare of the two files plus parsing
// both (diff without measurements), and node:crypto over the same page bytes (SHA-384 for TDX, SHA-256 for VBS and
// SEV-ES). The two files differ in one byte of one page in the middle. Timings are reported, never asserted; exit 0
// unless the diff fails to find the changed page.
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseIgvm } from '../src/format/index.js';
import { installNodeHash } from '../src/io/node-hash.js';
import { diffIgvm } from '../src/diff/index.js';
import { measureTdx } from '../src/measure/tdx.js';
import { measureVbs } from '../src/measure/vbs.js';
import { measureSevIgvmmeasure } from '../src/measure/sev.js';
import { generateIgvm } from './generate.js';

const MiB = 1024 * 1024;
const PAGES = Number(process.env['IGVMKIT_BENCH_DIFF_PAGES'] ?? 32_768); // 128 MiB of page data
const RUNS = Number(process.env['IGVMKIT_BENCH_RUNS'] ?? 5);
const PLATFORMS = [3, 5, 1]; // TDX, SEV_ES, VSM_ISOLATION (masks 1, 2, 4)

/** Three platforms, PAGES × PAGE_DATA (mask 7) with distinct pseudo-random pages; `flip` changes one byte of that page. */
const generate = (flip: number | undefined): { bytes: Uint8Array; data: Uint8Array } =>
  generateIgvm({ pages: PAGES, platforms: PLATFORMS, ...(flip !== undefined ? { flip } : {}) });

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

function time(f: () => unknown): number[] {
  f(); // warm-up
  const out: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t = performance.now();
    f();
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  installNodeHash();
  const changed = Math.floor(PAGES / 2);
  const a = generate(undefined);
  const b = generate(changed);
  const mib = a.data.length / MiB;
  console.log(`diff bench: two files of ${PAGES} distinct 4 KiB pages (${mib.toFixed(0)} MiB of page data each, 3 platforms), one byte apart; ${RUNS} runs after a warm-up, medians`);
  const fa = parseIgvm(a.bytes);
  const fb = parseIgvm(b.bytes);

  const rows: [string, number, number][] = [];
  const compare = median(time(() => Buffer.compare(a.bytes, b.bytes) + parseIgvm(a.bytes).directives.length + parseIgvm(b.bytes).directives.length));
  const diffOnly = median(time(() => diffIgvm(parseIgvm(a.bytes), parseIgvm(b.bytes), { measure: false })));
  rows.push(['diffIgvm without measurements (parse both + diff)', diffOnly, compare]);
  const sha384 = median(time(() => { createHash('sha384').update(a.data).digest(); createHash('sha384').update(b.data).digest(); }));
  const sha256 = median(time(() => { createHash('sha256').update(a.data).digest(); createHash('sha256').update(b.data).digest(); }));
  const full = median(time(() => diffIgvm(fa, fb)));
  rows.push(['diffIgvm with TDX + SEV-ES + VBS measurements and traces', full, sha384 + 2 * sha256]);
  const fa2 = parseIgvm(a.bytes.slice());
  const same = median(time(() => diffIgvm(fa, fa2)));
  rows.push(['diffIgvm of two equal files, with measurements', same, sha384 + 2 * sha256]);
  const d = diffIgvm(fa, fb);
  const tdx = median(time(() => measureTdx(fa)));
  rows.push(['measureTdx (one file)', tdx, sha384 / 2]);
  const vbs = median(time(() => measureVbs(fa)));
  rows.push(['measureVbs (one file)', vbs, sha256 / 2]);
  const sev = median(time(() => measureSevIgvmmeasure(fa, 'sev-es')));
  rows.push(['measureSevIgvmmeasure sev-es (one file)', sev, sha256 / 2]);

  console.log(`  baselines: Buffer.compare + parse both ${compare.toFixed(0)} ms; node:crypto SHA-384 of both ${sha384.toFixed(0)} ms, SHA-256 of both ${sha256.toFixed(0)} ms`);
  for (const [label, ms, base] of rows) console.log(`  ${label.padEnd(60)} median ${ms.toFixed(0).padStart(6)} ms  ${(ms / base).toFixed(2).padStart(5)}× baseline`);
  const listed = d.directives.flatMap((x) => ('listed' in x ? (x as { listed: { gpa: bigint }[] }).listed : []));
  const want = BigInt(0x100000 + changed * 4096);
  const found = listed.some((p) => p.gpa === want);
  console.log(`  diff summary: ${d.summary}${found ? '' : ` — the changed page 0x${want.toString(16)} was NOT listed`}`);
  if (!found) process.exitCode = 1;
}

await main();
