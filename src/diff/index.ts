// `igvm diff`: a structural diff of two IGVM files — header, platforms, initialization, directives, measurements (FORMAT.md §2–§8, MEASUREMENT.md).
import type { IgvmFile } from '../model.js';
import { diffFixedHeader, diffInitializations, diffPlatforms, type FixedHeaderDiff, type InitializationDiff, type PlatformDiff } from './headers.js';
import { diffDirectives, headerCount, type DirectiveDiff } from './directives.js';
import { diffMeasurements, platformLabel, type DirectiveRef, type MeasurementDiff } from './measurements.js';
import { bytesEqual, hex } from './fields.js';

export { alignKeys, type AlignOp, type AlignOptions } from './align.js';
export { directiveKey, diffDirectives, type DirectiveDiff, type HeaderDiff, type PageChange, type PageRangeDiff, type DirectiveDiffOptions } from './directives.js';
export { diffFixedHeader, diffPlatforms, diffInitializations, decodePolicy, type Change, type FileLayout, type FixedHeaderDiff, type InitializationDiff, type PlatformDiff } from './headers.js';
export { diffMeasurements, platformLabel, type DirectiveRef, type MeasurementDiff, type MeasurementSide, type StepInfo } from './measurements.js';
export { diffVpContext, type RegisterChange } from './vp-context.js';
export { dataDiff, fieldChanges, type DataDiff, type DiffValue, type FieldChange } from './fields.js';
export { renderDiff } from './render.js';
import type { SnpVmm } from '../measure/snp/types.js';

export interface DiffOptions {
  /** Changed pages listed per PAGE_DATA range (default 8). */
  limit?: number;
  /** Unchanged pages allowed between changed pages of one range (default 16). */
  gap?: number;
  /** Compute and compare the launch measurements (default true). */
  measure?: boolean;
  /** SEV-SNP model for the measurements (default igvm, the crate rule) and its vCPU count (KVM-based models). */
  vmm?: SnpVmm;
  vcpus?: number;
}

/** The diff of two files. `equal` is structural equality: every header field and payload, ignoring the byte layout. */
export interface IgvmDiff {
  /** No structural difference (the exit status 0 of `igvm diff`). */
  equal: boolean;
  /** Both files came from bytes and the bytes are the same. */
  identical: boolean | undefined;
  /** One line: "files are identical", "files are structurally equal (…)", or "A and B differ: …". */
  summary: string;
  fixed_header: FixedHeaderDiff;
  platforms: PlatformDiff[];
  initializations: InitializationDiff[];
  directives: DirectiveDiff[];
  /** Per measured platform declared by A or B (empty when `measure: false`). */
  measurements: MeasurementDiff[];
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

function refText(r: DirectiveRef | undefined): string {
  if (!r) return 'a VMM-made page';
  return `${r.type} #${r.index}${r.gpa !== undefined ? ` at ${hex(r.gpa)}` : ''}`;
}

/** "PAGE_DATA at 0x8000", "PAGE_DATA 0x1000–0x64fff", "SNP_ID_BLOCK", "VP_CONTEXT vp 0". */
function shortDirective(d: DirectiveDiff): string {
  if (d.kind === 'pages') return d.pages === 1 ? `PAGE_DATA at ${hex(d.gpa_start)}` : `PAGE_DATA ${hex(d.gpa_start)}–${hex(d.gpa_end - 1n)}`;
  if (d.gpa !== undefined) return `${d.type} at ${hex(d.gpa)}`;
  return d.type;
}

function directiveSummary(dirs: readonly DirectiveDiff[]): string[] {
  const parts: string[] = [];
  for (const change of ['changed', 'added', 'removed'] as const) {
    const list = dirs.filter((d) => d.change === change);
    if (list.length === 0) continue;
    const n = list.reduce((s, d) => s + headerCount(d), 0);
    const names = list.slice(0, 3).map(shortDirective).join(', ') + (list.length > 3 ? ', …' : '');
    parts.push(`${count(n, 'directive')} ${change} (${names})`);
  }
  return parts;
}

function measurementSummary(ms: readonly MeasurementDiff[]): string[] {
  const out: string[] = [];
  for (const m of ms) {
    const name = platformLabel(m.platform);
    if (m.equal) continue;
    if (!m.a || !m.b) {
      out.push(`${name} only in ${m.a ? 'A' : 'B'}`);
      continue;
    }
    if (m.a.error !== undefined || m.b.error !== undefined) {
      if (m.a.error !== m.b.error) out.push(`${name} measurable in ${m.a.error === undefined ? 'A' : 'B'} only`);
      continue;
    }
    const dv = m.divergence;
    if (!dv) out.push(`${name} digest differs`);
    else {
      const ra = dv.a?.directive;
      const rb = dv.b?.directive;
      const where = ra && rb && ra.index === rb.index && ra.type === rb.type && ra.gpa === rb.gpa ? refText(ra)
        : dv.a && dv.b ? `${refText(ra)} in A, ${refText(rb)} in B` : dv.a ? `${refText(ra)}, A only` : `${refText(rb)}, B only`;
      out.push(`${name} digest differs from step ${dv.step} (${where})`);
    }
  }
  return out;
}

function summarize(d: Omit<IgvmDiff, 'summary'>): string {
  if (d.equal) {
    if (d.identical) return 'files are identical';
    const la = d.fixed_header.layout_a;
    const lb = d.fixed_header.layout_b;
    const what: string[] = [];
    if (la && lb) {
      if (la.total_file_size !== lb.total_file_size) what.push(`size ${hex(la.total_file_size)} → ${hex(lb.total_file_size)}`);
      if (la.checksum !== lb.checksum) what.push(`checksum ${hex(la.checksum)} → ${hex(lb.checksum)}`);
      if (la.variable_header_size !== lb.variable_header_size) what.push('variable header size');
    }
    const first = d.fixed_header.first_byte_difference;
    if (first) what.push(`first differing byte at ${hex(first.offset)} (${first.region})`);
    if (what.length === 0) what.push('file data layout or padding');
    return d.identical === false ? `files are structurally equal (byte layout differs: ${what.join(', ')})` : 'files are structurally equal';
  }
  const parts: string[] = [];
  if (d.fixed_header.changes.length) parts.push(`fixed header ${d.fixed_header.changes.map((c) => `${c.field} ${String(c.a)} → ${String(c.b)}`).join(', ')}`);
  for (const change of ['changed', 'added', 'removed'] as const) {
    const ps = d.platforms.filter((p) => p.change === change);
    if (ps.length) parts.push(`${count(ps.length, 'platform')} ${change} (${ps.map((p) => p.platform).join(', ')})`);
    const is = d.initializations.filter((p) => p.change === change);
    if (is.length) parts.push(`${count(is.length, 'initialization header')} ${change} (${is.map((p) => `${p.type} mask ${hex(p.compatibility_mask)}`).join(', ')})`);
  }
  parts.push(...directiveSummary(d.directives), ...measurementSummary(d.measurements));
  return `A and B differ: ${parts.join(', ')}`;
}

/** An SNP ID block whose ld changed: say whether each ld is its own file's SEV-SNP launch digest (then the change follows from the pages). */
function noteIdBlocks(dirs: readonly DirectiveDiff[], ms: readonly MeasurementDiff[]): void {
  const snp = ms.find((m) => m.platform === 'SEV_SNP');
  for (const d of dirs) {
    if (d.kind !== 'header' || d.type !== 'SNP_ID_BLOCK' || d.change !== 'changed' || !snp) continue;
    const ld = d.fields.find((f) => f.field === 'ld');
    if (!ld || !(ld.a instanceof Uint8Array) || !(ld.b instanceof Uint8Array)) continue;
    const okA = snp.a?.digest !== undefined && bytesEqual(snp.a.digest, ld.a);
    const okB = snp.b?.digest !== undefined && bytesEqual(snp.b.digest, ld.b);
    if (okA && okB) d.notes.push('in each file ld is that file\'s SEV-SNP launch digest (crate rule): the ld and signature changes follow from the measured changes');
    else d.notes.push(`ld ${okA ? 'equals' : 'is not'} A's SEV-SNP launch digest, ${okB ? 'equals' : 'is not'} B's`);
  }
}

/** Compares two parsed files (see IgvmDiff). */
export function diffIgvm(a: IgvmFile, b: IgvmFile, opts: DiffOptions = {}): IgvmDiff {
  const dirOpts: { limit?: number; gap?: number } = {};
  if (opts.limit !== undefined) dirOpts.limit = opts.limit;
  if (opts.gap !== undefined) dirOpts.gap = opts.gap;
  const fixed_header = diffFixedHeader(a, b);
  const platforms = diffPlatforms(a, b);
  const initializations = diffInitializations(a, b);
  const directives = diffDirectives(a, b, dirOpts);
  const equal = fixed_header.changes.length === 0 && platforms.length === 0 && initializations.length === 0 && directives.length === 0;
  const measurements = opts.measure === false ? [] : diffMeasurements(a, b, equal, { vmm: opts.vmm ?? 'igvm', vcpus: opts.vcpus ?? 1 });
  noteIdBlocks(directives, measurements);
  const body = { equal, identical: fixed_header.bytes_identical, fixed_header, platforms, initializations, directives, measurements };
  return { equal, identical: body.identical, summary: summarize(body), fixed_header, platforms, initializations, directives, measurements };
}
