// `igvm measure` implementation, loaded when the command runs (MEASUREMENT.md §1, §3).
import { UsageError, booleanOption, numberOption, stringOption, type CommandContext } from '../framework.js';
import { readInputShared } from '../../io/files.js';
import { installParallelNodeHash } from '../../io/parallel-hash.js';
import { parseIgvm } from '../../format/index.js';
import { namingFile } from '../../errors.js';
import type { IgvmFile } from '../../model.js';
import type { SnpStep } from '../../measure/snp-digest.js';
import { SNP_VMMS, type SnpMeasureOptions, type SnpVmm } from '../../measure/snp/types.js';
import { SNP_MODEL_DESCRIPTIONS, SNP_PAGE_NAMES, compareSnpVmms, measureSnp, type SnpComparison } from '../../measure/snp/index.js';
import { intersects } from '../../measure/snp/igvm.js';
import { bytesToHex, toJson } from '../json.js';
import { MEASURED_PLATFORMS } from '../../measure/reference.js';
import { runAll, runFormat, runOtherPlatform } from './measure-other.js';

const KVM_BASED: readonly SnpVmm[] = ['qemu', 'clh-kvm'];
const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

interface IdBlockCheck {
  directive: number;
  ld: Uint8Array;
  /** Per model: true/false, or null when the model cannot measure the file. */
  matches: Record<SnpVmm, boolean | null>;
}

function sourceName(file: IgvmFile, s: SnpStep): string {
  if (s.source === undefined) return 'KVM VMSA (VMM-made)';
  const d = file.directives[s.source];
  return `#${s.source} ${d?.type ?? '?'}`;
}

/**
 * One row per PAGE_INFO step: step, gpa, page type, contents hash, running digest, source directive, in fixed-width
 * columns (GPA as 16 hex digits) so that traces of two models line up under `diff`.
 */
export function renderTrace(file: IgvmFile, steps: readonly SnpStep[]): string {
  const row = (step: string, gpa: string, type: string, contents: string, digest: string, source: string): string =>
    `${step.padStart(7)}  ${gpa.padEnd(18)}  ${type.padEnd(10)}  ${contents.padEnd(96)}  ${digest.padEnd(96)}  ${source}`;
  const lines = [row('step', 'gpa', 'type', 'contents', 'digest', 'source')];
  steps.forEach((s, i) => {
    lines.push(row(String(i), `0x${s.gpa.toString(16).padStart(16, '0')}`, SNP_PAGE_NAMES[s.type] ?? String(s.type), bytesToHex(s.contents), bytesToHex(s.digest), sourceName(file, s)));
  });
  return lines.join('\n') + '\n';
}

function stepsJson(file: IgvmFile, steps: readonly SnpStep[]): unknown[] {
  return steps.map((s, i) => ({
    step: i,
    gpa: s.gpa,
    type: s.type,
    type_name: SNP_PAGE_NAMES[s.type] ?? String(s.type),
    contents: s.contents,
    digest: s.digest,
    source: s.source ?? null,
    source_type: s.source === undefined ? null : (file.directives[s.source]?.type ?? null),
  }));
}

function idBlocks(file: IgvmFile, mask: number, digests: () => Map<SnpVmm, Uint8Array | undefined>): IdBlockCheck[] {
  const out: IdBlockCheck[] = [];
  file.directives.forEach((d, i) => {
    if (d.type !== 'SNP_ID_BLOCK' || !intersects(d.compatibility_mask, mask)) return;
    const all = digests();
    const matches = {} as Record<SnpVmm, boolean | null>;
    for (const vmm of SNP_VMMS) {
      const dg = all.get(vmm);
      matches[vmm] = dg === undefined ? null : bytesToHex(dg) === bytesToHex(d.ld);
    }
    out.push({ directive: i, ld: d.ld, matches });
  });
  return out;
}

function renderComparison(cmp: SnpComparison, vcpus: number): string {
  const lines = [`SEV-SNP launch digest by model (${vcpus} vCPU${vcpus === 1 ? '' : 's'} for the KVM-based models):`];
  const w = Math.max(...SNP_VMMS.map((v) => v.length));
  const indent = ' '.repeat(w + 4);
  for (const m of cmp.models) {
    const name = `  ${m.vmm.padEnd(w)}  `;
    if (m.measurement === undefined) {
      lines.push(`${name}cannot measure: ${m.error ?? 'unknown error'}`);
      continue;
    }
    const verdict = m.vmm === 'igvm' ? '(reference)' : m.sameAsIgvm ? 'same as igvm' : 'differs from igvm';
    lines.push(`${name}${bytesToHex(m.measurement.digest)}  ${verdict}`);
    if (m.divergence) lines.push(`${indent}first difference at step ${m.divergence.step}: ${m.divergence.reason}`);
    else if (!m.sameAsIgvm && m.vmm !== 'igvm' && cmp.reference === undefined) lines.push(`${indent}(no crate digest to compare with)`);
  }
  return lines.join('\n') + '\n';
}

function comparisonJson(cmp: SnpComparison): unknown[] {
  return cmp.models.map((m) => ({
    vmm: m.vmm,
    digest: m.measurement?.digest ?? null,
    error: m.error ?? null,
    same_as_igvm: m.sameAsIgvm,
    notes: m.measurement?.notes ?? [],
    divergence: m.divergence
      ? { step: m.divergence.step, directive: m.divergence.directive ?? null, reason: m.divergence.reason }
      : null,
  }));
}

/** Parse FILE read into a SharedArrayBuffer (the hash workers read its pages in place); errors name the file. */
function readIgvmShared(path: string): { file: IgvmFile; bytes: Uint8Array } {
  const bytes = readInputShared(path);
  return { file: namingFile(path, () => parseIgvm(bytes)), bytes };
}

const FORMATS = ['text', 'json', 'igvmgen'] as const;

/** The command's body (see measure.ts for its options). */
export function runMeasure(ctx: CommandContext): number {
  const args = ctx.args;
  const format = stringOption(args, 'format') ?? 'text';
  if (!(FORMATS as readonly string[]).includes(format)) throw new UsageError(`option '--format' expects text, json or igvmgen, got '${format}'`);
  const platform = (stringOption(args, 'platform') ?? 'sev-snp').toLowerCase();
  if (!(MEASURED_PLATFORMS as readonly string[]).includes(platform)) throw new UsageError(`option '--platform' expects sev-snp, sev-es, sev, tdx or vbs, got '${platform}'`);
  if (stringOption(args, 'svn') !== undefined && format !== 'igvmgen') throw new UsageError("option '--svn' applies to --format igvmgen only");
  for (const o of ['mnonce', 'tik', 'api-version', 'policy']) {
    if (stringOption(args, o) !== undefined && platform !== 'sev' && platform !== 'sev-es') throw new UsageError(`option '--${o}' applies to --platform sev and sev-es only`);
  }
  if (numberOption(args, 'build') !== undefined && platform !== 'sev' && platform !== 'sev-es') throw new UsageError("option '--build' applies to --platform sev and sev-es only");
  const vcpusGiven = numberOption(args, 'vcpus') ?? 1;
  if (!Number.isInteger(vcpusGiven) || vcpusGiven < 1 || vcpusGiven > 0x10000) throw new UsageError(`option '--vcpus' expects a whole number from 1 to 65536, got ${vcpusGiven}`);
  const path0 = args.positionals[0]!;
  if (format !== 'text' || booleanOption(args, 'all') || platform === 'sev-snp') installParallelNodeHash();
  if (format !== 'text') {
    const { file, bytes } = readIgvmShared(path0);
    return runFormat(ctx, file, bytes, path0, format as 'json' | 'igvmgen');
  }
  if (booleanOption(args, 'all')) {
    const { file, bytes } = readIgvmShared(path0);
    return runAll(ctx, file, bytes, path0);
  }
  if (platform !== 'sev-snp') return runOtherPlatform(ctx, readIgvmShared(path0).file, path0, platform as 'tdx');
  const vmm = (stringOption(args, 'vmm') ?? 'igvm') as SnpVmm;
  const vcpus = numberOption(args, 'vcpus') ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 0x10000) throw new UsageError(`option '--vcpus' expects a whole number from 1 to 65536, got ${vcpus}`);
  const nativeZero = booleanOption(args, 'native-zero');
  const compare = booleanOption(args, 'compare-vmms');
  if (nativeZero && vmm !== 'igvmmeasure' && !compare) throw new UsageError("option '--native-zero' applies to --vmm igvmmeasure (or --compare-vmms) only");
  const trace = booleanOption(args, 'trace');
  const json = booleanOption(args, 'json');

  const path = path0;
  // Page hashes on worker threads (installed above); the file in a SharedArrayBuffer, so that they read its pages in place.
  const { file } = readIgvmShared(path);
  const opts: SnpMeasureOptions = { vcpus, nativeZero, trace };
  const m = namingFile(path, () => measureSnp(file, vmm, opts));

  let cmp: SnpComparison | undefined;
  const comparison = (): SnpComparison => (cmp ??= compareSnpVmms(file, { vcpus, nativeZero }));
  const digests = (): Map<SnpVmm, Uint8Array | undefined> => new Map(comparison().models.map((x) => [x.vmm, x.measurement?.digest]));
  const blocks = idBlocks(file, m.mask, digests);
  if (compare) comparison();

  if (json) {
    ctx.out(
      toJson({
        file: path,
        platform: 'sev-snp',
        vmm,
        description: SNP_MODEL_DESCRIPTIONS[vmm],
        mask: m.mask,
        vcpus,
        digest: m.digest,
        notes: m.notes,
        id_blocks: blocks.map((b) => ({ directive: b.directive, ld: b.ld, matches: b.matches })),
        ...(trace ? { steps: stepsJson(file, m.steps ?? []) } : {}),
        ...(compare && cmp ? { compare: comparisonJson(cmp) } : {}),
      }),
    );
    return 0;
  }

  const lines = [
    `file:     ${path}`,
    `platform: SEV-SNP, mask ${hex(m.mask)}`,
    `model:    ${vmm}: ${SNP_MODEL_DESCRIPTIONS[vmm]}${KVM_BASED.includes(vmm) ? `, ${vcpus} vCPU${vcpus === 1 ? '' : 's'}` : ''}`,
    `digest:   ${bytesToHex(m.digest)}`,
    ...m.notes.map((n) => `note:     ${n}`),
  ];
  for (const b of blocks) {
    lines.push(`id block: SNP_ID_BLOCK #${b.directive} ld ${bytesToHex(b.ld)}`);
    for (const v of SNP_VMMS) {
      const r = b.matches[v];
      lines.push(`          ${v.padEnd(12)}${r === null ? 'cannot measure the file' : r ? 'matches' : 'differs'}`);
    }
  }
  let out = lines.join('\n') + '\n';
  if (trace) out += `\nPAGE_INFO steps (${vmm}, ${m.steps?.length ?? 0}):\n${renderTrace(file, m.steps ?? [])}`;
  if (compare && cmp) out += `\n${renderComparison(cmp, vcpus)}`;
  ctx.out(out);
  return 0;
}
