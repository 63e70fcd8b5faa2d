// Property test: 300 random valid files from the builder (fixed seed) parse, validate without errors, round-trip
// byte-identically in both serializer modes, and inspect's page ranges account for every PAGE_DATA (FORMAT.md §9, §10).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  IgvmBuilder,
  parseIgvm,
  serializeIgvm,
  validateIgvm,
  inspectIgvm,
  PARAMETER_TYPES,
  type PlatformTypeName,
} from '../../src/index.js';
import { rng } from '../helpers.js';

const CASES = 300;
const SEED = 0x16e5eed;

const X64_PLATFORMS = ['NATIVE', 'SEV_SNP', 'SEV_ES', 'SEV', 'TDX', 'VSM_ISOLATION'] as const satisfies readonly PlatformTypeName[];
/** Accepted x64 VBS register names (FORMAT.md §7.4). */
const VBS_REGS = [0x70001, 0x70000, 0x60000, 0x60001, 0x60002, 0x60007, 0x40000, 0x40002, 0x40003, 0x80001, 0x80004, 0x20004, 0x20005, 0x20006, 0x20008, 0x2000c, 0x20010, 0x20011, 0x8000e, 0x80010, 0x80044, 0x80070, 0x8007a];

interface Generated {
  bytes: Uint8Array;
  pageCount: number;
  description: string;
}

function generate(next: () => number, n: number): Generated {
  const int = (k: number) => Math.floor(next() * k);
  const chance = (p: number) => next() < p;
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytesOf = (len: number) => Uint8Array.from({ length: len }, () => int(256));
  const u64 = () => (BigInt(int(2 ** 32)) << 32n) | BigInt(int(2 ** 32));

  const b = new IgvmBuilder(chance(0.3) ? { formatVersion: 2 } : {});
  // A random non-empty subset of the platforms, in random order.
  let chosen = X64_PLATFORMS.filter(() => chance(0.5));
  if (chosen.length === 0) chosen = [pick(X64_PLATFORMS)];
  chosen = [...chosen].sort(() => next() - 0.5);
  const masks = new Map<PlatformTypeName, number>();
  for (const t of chosen) {
    const opts: { highestVtl?: number; sharedGpaBoundary?: bigint } = {};
    if (t === 'VSM_ISOLATION' && chance(0.5)) opts.highestVtl = 2;
    if ((t === 'SEV_SNP' || t === 'TDX') && chance(0.5)) opts.sharedGpaBoundary = 1n << BigInt(40 + int(12));
    masks.set(t, b.platform(t, opts));
  }
  const all = [...masks.values()].reduce((a, m) => a | m, 0);
  const someMask = () => {
    const m = [...masks.values()].filter(() => chance(0.5)).reduce((a, x) => a | x, 0);
    return m === 0 ? pick([...masks.values()]) : m;
  };
  for (const t of ['SEV_SNP', 'TDX'] as const) {
    const m = masks.get(t);
    if (m !== undefined && chance(0.6)) b.guestPolicy(t === 'SEV_SNP' ? 0x30000n | BigInt(int(256)) : BigInt(int(8)), m);
  }

  let gpa = BigInt(int(16)) * 0x1000n;
  const nextGpa = () => {
    const g = gpa;
    gpa += BigInt(1 + int(3)) * 0x1000n;
    return g;
  };
  const previous: Uint8Array[] = [];
  let pageCount = 0;
  const areas: { index: number; inserted: boolean }[] = [];
  let nextIndex = int(4);
  const ops: string[] = [];

  const steps = 1 + int(12);
  for (let s = 0; s < steps; s++) {
    const op = int(11);
    if (op <= 2) {
      // A single page: random, short, zero, explicit all-zero, or a duplicate of earlier data.
      const kind = int(5);
      let data: Uint8Array | undefined;
      if (kind === 0) data = bytesOf(4096);
      else if (kind === 1) data = bytesOf(1 + int(4095));
      else if (kind === 2) data = undefined;
      else if (kind === 3) data = previous.length ? pick(previous).slice() : bytesOf(64);
      else data = chance(0.5) ? new Uint8Array(4096) : bytesOf(4096);
      if (data) previous.push(data);
      b.pageData(nextGpa(), someMask(), data, { flags: pick([0, 0, 0x2, 0x4]), dataType: pick([0, 0, 0, 1, 2, 3]) });
      pageCount++;
      ops.push(`page(${kind})`);
    } else if (op === 3) {
      // A buffer of pages with zero pages inside, and maybe a partial tail.
      const count = 1 + int(3);
      const buf = new Uint8Array(count * 4096 - (chance(0.5) ? int(4000) : 0));
      for (let p = 0; p < count; p++) if (chance(0.6)) buf.fill(1 + int(255), p * 4096, Math.min(buf.length, p * 4096 + 1 + int(4096)));
      const start = nextGpa();
      gpa = start + BigInt(count + 1) * 0x1000n;
      b.pages(start, buf, someMask());
      pageCount += Math.ceil(buf.length / 4096);
      ops.push(`pages(${count})`);
    } else if (op === 4) {
      const index = nextIndex;
      nextIndex += 1 + int(3);
      const size = BigInt(1 + int(2)) * 0x1000n;
      b.parameterArea(index, size, chance(0.5) ? bytesOf(1 + int(Number(size))) : undefined);
      areas.push({ index, inserted: false });
      ops.push('area');
    } else if (op === 5 || op === 10) {
      const open = areas.filter((a) => !a.inserted);
      if (open.length) {
        const a = pick(open);
        if (chance(0.55)) {
          b.parameter(pick(PARAMETER_TYPES), a.index, int(0x100) * 8);
          ops.push('param');
        } else {
          b.parameterInsert(nextGpa(), someMask(), a.index);
          a.inserted = true;
          ops.push('insert');
        }
      }
    } else if (op === 6) {
      b.requiredMemory(nextGpa(), someMask(), 0x1000 * (1 + int(4)), int(2));
      gpa += 0x4000n;
      ops.push('required');
    } else if (op <= 8) {
      // A VP context for a platform that allows one (mask exactly that platform's).
      const withContext = chosen.filter((t) => t !== 'TDX');
      if (withContext.length) {
        const t = pick(withContext);
        const m = masks.get(t)!;
        if (t === 'SEV_SNP' || t === 'SEV_ES') {
          b.vmsa(nextGpa(), m, int(4), { rip: u64(), rsp: u64(), cr0: BigInt(int(2 ** 31)), sev_features: BigInt(int(2)), cs: { selector: int(0x10000), attrib: int(0x1000), limit: int(2 ** 32), base: u64() } });
        } else if (t === 'NATIVE' || t === 'SEV') {
          b.nativeContext(m, int(4), { rip: u64(), cr3: BigInt(int(2 ** 20)) * 0x1000n, code_selector: int(0x10000), data_limit: int(2 ** 32) });
        } else {
          const regs = Array.from({ length: 1 + int(5) }, () => ({ register_name: pick(VBS_REGS), value: bytesOf(16) }));
          b.vbsContext(m, pick([0, 1, 2]), regs);
        }
        ops.push(`context(${t})`);
      }
    } else {
      const snp = masks.get('SEV_SNP');
      if (snp !== undefined) {
        b.snpIdBlock({ compatibility_mask: snp, author_key_enabled: int(2), ld: bytesOf(48), family_id: bytesOf(16), guest_svn: int(100), id_key_algorithm: 1, id_public_key: bytesOf(152), id_key_signature: bytesOf(144) });
        ops.push('id-block');
      } else if (masks.has('VSM_ISOLATION')) {
        b.vbsMeasurement({ compatibility_mask: masks.get('VSM_ISOLATION')!, version: 1, boot_digest_algo: 1, signing_algo: 1, boot_measurement_digest: bytesOf(64) });
        ops.push('vbs-measurement');
      }
    }
  }
  const description = `#${n} platforms=${chosen.join(',')} mask=0x${all.toString(16)} ops=${ops.join(' ')}`;
  return { bytes: b.toBytes(), pageCount, description };
}

function sameBytes(a: Uint8Array, b: Uint8Array): string | undefined {
  if (a.length !== b.length) return `length ${a.length} vs ${b.length}`;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return `first difference at 0x${i.toString(16)}`;
  return undefined;
}

test(`${CASES} random builder files: parse, validate, round-trip in both modes, inspect page counts`, () => {
  const next = rng(SEED);
  const seen = { pages: 0, zeroPages: 0, dedup: 0, contexts: 0, inserts: 0 };
  for (let n = 0; n < CASES; n++) {
    let g: Generated;
    try {
      g = generate(next, n);
    } catch (e) {
      assert.fail(`case #${n}: the builder rejected a file meant to be valid: ${e instanceof Error ? e.message : String(e)}`);
    }
    const where = g.description;
    const file = parseIgvm(g.bytes);

    const v = validateIgvm(g.bytes);
    assert.equal(v.errors, 0, `${where}: validateIgvm errors: ${v.problems.filter((p) => p.severity === 'error').map((p) => `${p.code}: ${p.message}`).join('; ')}`);
    assert.equal(v.valid, true, where);

    const preserve = serializeIgvm(file, { mode: 'preserve' });
    const dp = sameBytes(preserve, g.bytes);
    assert.equal(dp, undefined, `${where}: preserve round trip: ${dp}`);
    const compact = serializeIgvm(file, { mode: 'compact' });
    const dc = sameBytes(compact, g.bytes);
    assert.equal(dc, undefined, `${where}: compact(parse(x)) != x: ${dc}`);

    const pages = file.directives.filter((d) => d.type === 'PAGE_DATA');
    assert.equal(pages.length, g.pageCount, `${where}: PAGE_DATA count`);
    const report = inspectIgvm(file);
    const inRanges = report.page_ranges.reduce((s, r) => s + r.pages, 0);
    assert.equal(inRanges, pages.length, `${where}: inspect page ranges cover ${inRanges} pages, file has ${pages.length} PAGE_DATA`);
    const dataPages = report.page_ranges.reduce((s, r) => s + r.data_pages, 0);
    const zeroPages = report.page_ranges.reduce((s, r) => s + r.zero_pages, 0);
    assert.equal(dataPages + zeroPages, pages.length, `${where}: data + zero pages`);

    seen.pages += pages.length;
    seen.zeroPages += zeroPages;
    const offsets = pages.flatMap((p) => (p.type === 'PAGE_DATA' && p.file_offset !== 0 ? [p.file_offset] : []));
    seen.dedup += offsets.length - new Set(offsets).size;
    seen.contexts += file.directives.filter((d) => d.type === 'VP_CONTEXT').length;
    seen.inserts += file.directives.filter((d) => d.type === 'PARAMETER_INSERT').length;
  }
  // The generator really exercised the interesting paths.
  if (process.env['IGVMKIT_PROPERTY_STATS']) console.log(seen);
  assert.ok(seen.pages > 500, `pages ${seen.pages}`);
  assert.ok(seen.zeroPages > 50, `zero pages ${seen.zeroPages}`);
  assert.ok(seen.dedup > 20, `shared chunks ${seen.dedup}`);
  assert.ok(seen.contexts > 100, `contexts ${seen.contexts}`);
  assert.ok(seen.inserts > 20, `inserts ${seen.inserts}`);
});
