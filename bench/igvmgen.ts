// `npm run bench` (part 2): igvmgen on an 8 MiB synthetic bzImage, as a ratio against node start-up + read + SHA-384 of
// the same input measured in the same run (target ≤ 2.5×). Timings are reported, never asserted; exit 0.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { makeBzImage, pseudoRandom } from '../src/examples/synthetic-bzimage.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const DIST = resolve(HERE, '..');
const CLI = join(DIST, 'src', 'cli', 'igvmgen.js');
const HASH_ONCE = join(HERE, 'hash-once.js');
const SHARED = process.env['IGVMKIT_SHARED'] ?? resolve(DIST, '..', '..', 'shared');
const RUNS = Number(process.env['IGVMKIT_BENCH_RUNS'] ?? 7);
const MiB = 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] ?? 0) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

/** Alternate the commands run by run so machine noise hits both alike; one untimed warm-up each. */
function timeInterleaved(cmds: { name: string; args: string[]; cwd: string }[]): Map<string, number[]> {
  const times = new Map(cmds.map((c) => [c.name, [] as number[]]));
  for (let i = -1; i < RUNS; i++) {
    for (const c of cmds) {
      const t0 = performance.now();
      const r = spawnSync(process.execPath, c.args, { cwd: c.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
      const ms = performance.now() - t0;
      if (r.status !== 0) throw new Error(`${c.name}: exit ${r.status}: ${r.stderr.toString().trim()}`);
      if (i >= 0) times.get(c.name)?.push(ms);
    }
  }
  return times;
}

function main(): number {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-bench-gen-'));
  try {
    // 8 MiB of incompressible payload, like a compressed kernel; pref 16 MiB, init_size 48 MiB (a real kernel's ratio).
    const kernel = makeBzImage({ payload: pseudoRandom(8 * MiB - 5 * 512, 42), prefAddress: 0x1000000, initSize: 0x3000000 });
    writeFileSync(join(dir, 'bzImage'), kernel);
    copyFileSync(join(SHARED, 'vectors', 'igvmgen', 'inputs', 'sign_key.pem'), join(dir, 'key.pem'));
    const common = ['-kernel', 'bzImage', '-append', 'console=ttyS0 panic=-1', '-sign_key', 'key.pem', '-sign_deterministic', '1'];
    const cmds = [
      { name: 'baseline: node start + read + SHA-384', args: [HASH_ONCE, 'bzImage'], cwd: dir },
      { name: 'igvmgen bzImage x86 (pvalidate_opt, default)', args: [CLI, '-o', 'a.igvm', ...common], cwd: dir },
      { name: 'igvmgen bzImage x64 -measurement_file', args: [CLI, '-o', 'b.igvm', '-boot_mode', 'x64', '-measurement_file', 'b.json', ...common], cwd: dir },
      { name: 'igvmgen bzImage -pvalidate_opt 0 (all 48 MiB measured)', args: [CLI, '-o', 'c.igvm', '-pvalidate_opt', '0', ...common], cwd: dir },
    ];
    const times = timeInterleaved(cmds);
    const base = median(times.get(cmds[0]!.name) ?? []);
    console.log(`\nigvmgen bench: ${(kernel.length / MiB).toFixed(1)} MiB synthetic bzImage, ${RUNS} runs each (median), interleaved`);
    const w = Math.max(...cmds.map((c) => c.name.length));
    console.log(`${'command'.padEnd(w)}  median ms   ÷ baseline   output`);
    for (const c of cmds) {
      const ms = median(times.get(c.name) ?? []);
      const out = c.args[1] === '-o' ? `${(statSync(join(dir, c.args[2] ?? '')).size / MiB).toFixed(1)} MiB` : '';
      console.log(`${c.name.padEnd(w)}  ${ms.toFixed(0).padStart(9)}   ${(ms / base).toFixed(2).padStart(9)}×   ${out}`);
    }
    const main = median(times.get(cmds[1]!.name) ?? []);
    console.log(`igvmgen / (node start + read + SHA-384) = ${(main / base).toFixed(2)}× (target ≤ 2.5×: ${main / base <= 2.5 ? 'met' : 'NOT met'})`);
    console.log(`raw runs (ms): ${cmds.map((c) => `${c.name.split(':')[0]}: ${(times.get(c.name) ?? []).map((x) => x.toFixed(0)).join(' ')}`).join('; ')}`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.exitCode = main();
