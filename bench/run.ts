// `npm run bench`: parse + validate throughput on a generated ≥ 100 MiB IGVM file with ≥ 25,000 headers, reported as a
// ratio against "node start-up + reading the file" measured in the same run (aim: ≤ 2×), plus in-process parse-only,
// validate-only, igvmgen dump and compact serialization throughput. Timings are reported, never asserted; exit 0.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import { parseIgvm } from '../src/format/index.js';
import { validateIgvm } from '../src/validate/index.js';
import { serializeIgvm } from '../src/format/serialize.js';
import type { DirectiveHeader, IgvmFile, PageData } from '../src/model.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist/bench
const DIST = resolve(HERE, '..');
const CLI_IGVM = join(DIST, 'src', 'cli', 'igvm.js');
const CLI_IGVMGEN = join(DIST, 'src', 'cli', 'igvmgen.js');
const DUMP_MODULE = join(DIST, 'src', 'igvmgen', 'dump.js');
const VALIDATE_ONCE = join(HERE, 'validate-once.js');

const DATA_PAGES = 26_000; // 26,000 × 4 KiB = 101.6 MiB of page data
const ZERO_PAGES = 1_000;
const CHILD_RUNS = Number(process.env['IGVMKIT_BENCH_RUNS'] ?? 5);
const INPROC_RUNS = Number(process.env['IGVMKIT_BENCH_INPROC_RUNS'] ?? 5);
const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Deterministic test file: SEV-SNP (mask 1) + NATIVE (mask 2)

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}

export function generateModel(): IgvmFile {
  const next = xorshift(0x1917);
  // One buffer for every data page; each page is stamped with its index so that no two pages are identical (the
  // serializer deduplicates), and roughly a quarter are sparse (mostly zero, like code/rodata pages of a kernel image).
  const pool = new Uint8Array(DATA_PAGES * 4096);
  const words = new Uint32Array(pool.buffer);
  for (let p = 0; p < DATA_PAGES; p++) {
    const base = p * 1024;
    words[base] = p;
    words[base + 1] = 0x49475645;
    if (p % 4 === 3) {
      for (let k = 0; k < 32; k++) words[base + 2 + (next() % 1022)] = next();
    } else {
      for (let w = 2; w < 1024; w++) words[base + w] = next();
    }
  }

  const directives: DirectiveHeader[] = [];
  directives.push({ type: 'PARAMETER_AREA', number_of_bytes: 0x2000n, parameter_area_index: 0, file_offset: 0, data: undefined });
  directives.push({ type: 'VP_COUNT_PARAMETER', parameter_area_index: 0, byte_offset: 0 });
  directives.push({ type: 'MEMORY_MAP', parameter_area_index: 0, byte_offset: 0x1000 });
  directives.push({ type: 'PARAMETER_INSERT', gpa: 0x7000n, compatibility_mask: 0x3, parameter_area_index: 0 });
  const page = (gpa: number, mask: number, data: Uint8Array | undefined, dataType = 0, flags = 0): PageData => ({
    type: 'PAGE_DATA', gpa: BigInt(gpa), compatibility_mask: mask, file_offset: 0, flags, data_type: dataType, reserved: 0, data,
  });
  directives.push(page(0x9000, 0x1, undefined, 1)); // SNP secrets page
  directives.push(page(0xa000, 0x1, new Uint8Array(4096).fill(0x11, 0, 64), 2)); // CPUID page
  let gpa = 0x100000;
  for (let p = 0; p < DATA_PAGES; p++) {
    if (p % 26 === 0 && p / 26 < ZERO_PAGES) {
      directives.push(page(gpa, 0x3, undefined));
      gpa += 0x1000;
    }
    directives.push(page(gpa, 0x3, pool.subarray(p * 4096, (p + 1) * 4096), 0, p % 97 === 0 ? 0x2 : 0));
    gpa += 0x1000;
  }
  while (directives.filter((d) => d.type === 'PAGE_DATA' && d.data === undefined).length < ZERO_PAGES + 1) {
    directives.push(page(gpa, 0x3, undefined));
    gpa += 0x1000;
  }
  const vmsa = new Uint8Array(4096);
  const v = new DataView(vmsa.buffer);
  v.setUint16(0x10, 0xf000, true); // cs.selector
  v.setUint16(0x12, 0x9b, true); // cs.attrib
  v.setUint32(0x14, 0xffff, true); // cs.limit
  v.setBigUint64(0x18, 0xffff0000n, true); // cs.base
  v.setBigUint64(0xd0, 0x1000n, true); // efer.SVME
  v.setBigUint64(0x158, 0x10n, true); // cr0
  v.setBigUint64(0x170, 0x2n, true); // rflags
  v.setBigUint64(0x178, 0xfff0n, true); // rip
  v.setBigUint64(0x3b0, 0x1n, true); // sev_features.SNP
  directives.push({ type: 'VP_CONTEXT', gpa: 0xfffff000n, compatibility_mask: 0x1, file_offset: 0, vp_index: 0, reserved: 0, context: { kind: 'vmsa', data: vmsa } });
  const native = new Uint8Array(4096);
  const n = new DataView(native.buffer);
  n.setBigUint64(0x80, 0x100000n, true); // rip
  n.setBigUint64(0x88, 0x2n, true); // rflags
  n.setUint16(0xa8, 0x8, true); // code_selector
  n.setUint16(0xaa, 0xa09b, true); // code_attributes
  n.setBigUint64(0xc8, 0x80000011n, true); // cr0
  n.setBigUint64(0xe0, 0x500n, true); // efer
  directives.push({ type: 'VP_CONTEXT', gpa: 0n, compatibility_mask: 0x2, file_offset: 0, vp_index: 0, reserved: 0, context: { kind: 'native-x64', data: native } });

  return {
    revision: { format_version: 1, architecture: 0, page_size: 0x1000 },
    platforms: [
      { type: 'SUPPORTED_PLATFORM', compatibility_mask: 0x1, highest_vtl: 0, platform_type: 0x02, platform_version: 1, shared_gpa_boundary: 1n << 51n },
      { type: 'SUPPORTED_PLATFORM', compatibility_mask: 0x2, highest_vtl: 0, platform_type: 0x00, platform_version: 1, shared_gpa_boundary: 0n },
    ],
    initializations: [{ type: 'GUEST_POLICY', policy: 0x30000n, compatibility_mask: 0x1, reserved: 0 }],
    directives,
  };
}

// ---------------------------------------------------------------------------------------------
// Timing

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

interface ChildTiming {
  ms: number;
  runs: number[];
  ok: boolean;
  note: string;
}

function timeChild(args: string[], runs: number, okStatus = 0): ChildTiming {
  const times: number[] = [];
  let ok = true;
  let note = '';
  // one untimed warm-up run (page cache, compiled code cache)
  for (let i = -1; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 16 * MiB });
    const ms = performance.now() - t0;
    if (r.status !== okStatus) {
      ok = false;
      note = `exit ${r.status ?? r.signal}: ${(r.stderr?.toString() ?? '').trim().split('\n')[0] ?? ''}`;
    }
    if (i >= 0) times.push(ms);
  }
  return { ms: median(times), runs: times, ok, note };
}

function timeInProcess<T>(runs: number, fn: () => T): { ms: number; first: number; runs: number[]; last: T } {
  const times: number[] = [];
  const t = performance.now();
  let last = fn(); // warm-up (reported as the cold first run)
  const first = performance.now() - t;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = fn();
    times.push(performance.now() - t0);
  }
  return { ms: median(times), first, runs: times, last };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-bench-'));
  try {
    const file = join(dir, 'bench.igvm');
    const tg = performance.now();
    const { bytes, headers } = (() => {
      const model = generateModel(); // dropped after serializing (the page pool is as large as the file)
      return { bytes: serializeIgvm(model), headers: model.platforms.length + model.initializations.length + model.directives.length };
    })();
    writeFileSync(file, bytes);
    const genMs = performance.now() - tg;
    const size = statSync(file).size;

    const check = validateIgvm(bytes);
    if (!check.valid) {
      console.error(`generated bench file is not valid:\n${check.problems.filter((p) => p.severity === 'error').slice(0, 10).map((p) => `  ${p.code} @0x${p.offset.toString(16)}: ${p.message}`).join('\n')}`);
      return 1;
    }
    if (size < 100 * MiB || headers < 25_000) {
      console.error(`generated bench file is too small: ${size} bytes, ${headers} headers`);
      return 1;
    }
    const mib = size / MiB;
    console.log(
      `igvmkit bench: ${file}\n  ${headers.toLocaleString('en-US')} headers, ${mib.toFixed(1)} MiB (${size.toLocaleString('en-US')} bytes), v1 SEV-SNP + NATIVE, ` +
        `${check.warnings} warning(s) [${[...new Set(check.problems.map((p) => p.code))].join(', ') || 'none'}]; generated + written in ${genMs.toFixed(0)} ms\n` +
        `  node ${process.version}, ${CHILD_RUNS} timed runs per child process (+1 warm-up), ${INPROC_RUNS} per in-process measurement (+1 warm-up); medians`,
    );

    type Row = { name: string; ms: number | undefined; first?: number; throughput: boolean; ratio: boolean; note?: string };
    const rows: Row[] = [];

    const baseline = timeChild(['-e', `require('fs').readFileSync(${JSON.stringify(file)})`], CHILD_RUNS);
    rows.push({ name: '(a) node start + readFileSync  [baseline]', ms: baseline.ms, throughput: true, ratio: true });

    const once = timeChild([VALIDATE_ONCE, file], CHILD_RUNS);
    rows.push({ name: '(b) validate-once: parse + validate', ms: once.ms, throughput: true, ratio: true, ...(once.ok ? {} : { note: once.note }) });

    let cliMs: number | undefined;
    if (existsSync(CLI_IGVM)) {
      const cli = timeChild([CLI_IGVM, 'validate', file], CHILD_RUNS);
      if (cli.ok) cliMs = cli.ms;
      rows.push({ name: '(b) igvm validate FILE  [CLI]', ms: cli.ms, throughput: true, ratio: true, ...(cli.ok ? {} : { note: cli.note }) });
    } else {
      rows.push({ name: '(b) igvm validate FILE  [CLI]', ms: undefined, throughput: false, ratio: false, note: 'dist/src/cli/igvm.js not built yet' });
    }

    const parse = timeInProcess(INPROC_RUNS, () => parseIgvm(bytes));
    rows.push({ name: '(c) parseIgvm  [in-process]', ms: parse.ms, first: parse.first, throughput: true, ratio: true });
    const validate = timeInProcess(INPROC_RUNS, () => validateIgvm(bytes));
    rows.push({ name: '(c) validateIgvm  [in-process]', ms: validate.ms, first: validate.first, throughput: true, ratio: true });

    const dumpAvailable = existsSync(DUMP_MODULE);
    if (dumpAvailable) {
      const dumpChild = existsSync(CLI_IGVMGEN) ? timeChild([CLI_IGVMGEN, '-d', file], CHILD_RUNS) : timeChild([VALIDATE_ONCE, file, '--dump'], CHILD_RUNS);
      rows.push({ name: `(d) ${existsSync(CLI_IGVMGEN) ? 'igvmgen -d FILE  [CLI]' : 'node start + read + dumpIgvmgen'}`, ms: dumpChild.ms, throughput: true, ratio: true, ...(dumpChild.ok ? {} : { note: dumpChild.note }) });
      // imported only here, so a missing or broken dump module never stops the other measurements
      const { dumpIgvmgen } = (await import(pathToFileURL(DUMP_MODULE).href)) as { dumpIgvmgen: (b: Uint8Array) => string };
      const dump = timeInProcess(Math.max(1, Math.min(INPROC_RUNS, 3)), () => dumpIgvmgen(bytes));
      rows.push({ name: '(d) dumpIgvmgen  [in-process]', ms: dump.ms, first: dump.first, throughput: true, ratio: true, note: `${(dump.last.length / MiB).toFixed(1)} MiB of text` });
    } else {
      rows.push({ name: '(d) igvmgen -d FILE', ms: undefined, throughput: false, ratio: false, note: 'src/igvmgen/dump.ts not built' });
    }

    const parsed = parse.last;
    const compact = timeInProcess(Math.max(1, Math.min(INPROC_RUNS, 3)), () => serializeIgvm(parsed));
    const sameSize = compact.last.length === size;
    rows.push({ name: '(e) serializeIgvm compact  [in-process]', ms: compact.ms, first: compact.first, throughput: true, ratio: true, ...(sameSize ? {} : { note: `output ${compact.last.length} bytes` }) });
    const preserve = timeInProcess(Math.max(1, Math.min(INPROC_RUNS, 3)), () => serializeIgvm(parsed, { mode: 'preserve' }));
    rows.push({ name: '(e) serializeIgvm preserve  [in-process]', ms: preserve.ms, first: preserve.first, throughput: true, ratio: true });

    const w = 52;
    const line = (cells: string[]) => cells[0]!.padEnd(w) + cells.slice(1).map((c, i) => c.padStart(i === 4 ? 13 : 11)).join('');
    console.log('');
    console.log(line(['measurement', 'median ms', '1st run ms', 'MiB/s', 'headers/s', '÷ baseline']));
    console.log('-'.repeat(w + 11 * 4 + 13));
    for (const r of rows) {
      if (r.ms === undefined) {
        console.log(line([r.name, '–', '–', '–', '–', '–']) + `   (${r.note ?? 'skipped'})`);
        continue;
      }
      const s = r.ms / 1000;
      console.log(
        line([
          r.name,
          r.ms.toFixed(1),
          r.first !== undefined ? r.first.toFixed(1) : '',
          r.throughput ? (mib / s).toFixed(0) : '–',
          r.throughput ? Math.round(headers / s).toLocaleString('en-US') : '–',
          r.ratio ? `${(r.ms / baseline.ms).toFixed(2)}×` : '–',
        ]) + (r.note ? `   (${r.note})` : ''),
      );
    }
    console.log('');
    const ratio = once.ms / baseline.ms;
    console.log(
      `parse+validate / (node start + read) = ${ratio.toFixed(2)}×  (${once.ms.toFixed(0)} ms vs ${baseline.ms.toFixed(0)} ms; aim ≤ 2×: ${ratio <= 2 ? 'met' : 'NOT met'})` +
        (once.ok ? '' : `  [validate-once failed: ${once.note}]`),
    );
    if (cliMs !== undefined) console.log(`igvm validate (CLI) / (node start + read) = ${(cliMs / baseline.ms).toFixed(2)}×`);
    console.log(`in-process parse+validate: ${(parse.ms + validate.ms).toFixed(0)} ms = ${(mib / ((parse.ms + validate.ms) / 1000)).toFixed(0)} MiB/s; (baseline + in-process) / baseline = ${((baseline.ms + parse.ms + validate.ms) / baseline.ms).toFixed(2)}×`);
    console.log(`raw runs (ms): baseline ${baseline.runs.map((x) => x.toFixed(0)).join(' ')}; parse+validate child ${once.runs.map((x) => x.toFixed(0)).join(' ')}`);
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = await main();
