// Text report of an `igvm diff` (FORMAT.md §2–§8 sections; MEASUREMENT.md steps), grouped by section, summary first.
import type { IgvmDiff } from './index.js';
import type { DataDiff, DiffValue, FieldChange } from './fields.js';
import type { DirectiveDiff, HeaderDiff, PageRangeDiff } from './directives.js';
import type { MeasurementDiff, MeasurementSide, StepInfo } from './measurements.js';
import { platformLabel } from './measurements.js';
import { hex } from './fields.js';

const HEXB = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
function bytesHex(b: Uint8Array, max = 48): string {
  let s = '';
  for (let i = 0; i < Math.min(b.length, max); i++) s += HEXB[b[i]!];
  return b.length > max ? `${s}…` : s;
}

/** A value for people: small numbers decimal, others hex, bytes as hex. */
export function formatValue(v: DiffValue): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'number') return v < 10 && v >= 0 ? String(v) : hex(v);
  if (typeof v === 'bigint') return hex(v);
  if (v instanceof Uint8Array) return v.length === 0 ? '(empty)' : bytesHex(v);
  return String(v);
}

const change = (f: { field?: string; register?: string; a: DiffValue; b: DiffValue }): string => `${f.field ?? f.register ?? '?'} ${formatValue(f.a)} → ${formatValue(f.b)}`;

function dataText(d: DataDiff, what = 'data'): string {
  if (d.first_offset === undefined) {
    const side = (n: number): string => (n === 0 ? 'no data (zeros)' : `${n} bytes`);
    return `${what}: ${side(d.size_a)} → ${side(d.size_b)} (same contents once zero-filled)`;
  }
  if (d.size_a === 0 || d.size_b === 0) {
    const dir = d.size_a === 0 ? 'no data (zeros) → data' : 'data → no data (zeros)';
    return `${what}: ${dir}, ${d.bytes_differ} non-zero byte${d.bytes_differ === 1 ? '' : 's'}, first at +${hex(d.first_offset)}`;
  }
  const size = d.size_a !== d.size_b ? `, size ${d.size_a} → ${d.size_b}` : '';
  return `${what} differs in ${d.bytes_differ} byte${d.bytes_differ === 1 ? '' : 's'}, first at +${hex(d.first_offset)} (${hex(d.byte_a ?? 0)} → ${hex(d.byte_b ?? 0)})${size}`;
}

function indices(a: [number, number] | number | undefined, b: [number, number] | number | undefined): string {
  const one = (x: [number, number] | number): string => (typeof x === 'number' ? `#${x}` : x[0] === x[1] ? `#${x[0]}` : `#${x[0]}–#${x[1]}`);
  if (a !== undefined && b !== undefined) {
    const sa = one(a);
    const sb = one(b);
    return sa === sb ? sa : `${sa} (A) / ${sb} (B)`;
  }
  if (a !== undefined) return `${one(a)} in A`;
  if (b !== undefined) return `${one(b)} in B`;
  return '';
}

function pageRange(d: PageRangeDiff): string[] {
  const range = `${hex(d.gpa_start)}–${hex(d.gpa_end - 1n)} (${d.pages} page${d.pages === 1 ? '' : 's'})`;
  const head = `  ${d.change.padEnd(8)} PAGE_DATA ${indices(d.index_a, d.index_b)} ${range} mask ${hex(d.compatibility_mask)}`;
  if (d.change !== 'changed') {
    const flags = d.flags ? ` flags ${hex(d.flags)}` : '';
    return [`${head} ${d.data_type}${flags}: ${d.data_pages} data + ${d.zero_pages} zero`];
  }
  const lines = [`${head}: ${d.changed_pages} page${d.changed_pages === 1 ? '' : 's'} differ${d.changed_pages === 1 ? 's' : ''}`];
  if (d.fields.length) lines.push(`      header: ${d.fields.map(change).join(', ')}`);
  for (const p of d.listed) {
    if (p.data) lines.push(`      ${hex(p.gpa)} ${indices(p.index_a, p.index_b)}: ${dataText(p.data)}`);
  }
  if (d.more > 0) lines.push(`      … and ${d.more} more page${d.more === 1 ? '' : 's'}`);
  return lines;
}

function headerLine(d: HeaderDiff): string[] {
  const where = [d.gpa !== undefined ? `at ${hex(d.gpa)}` : '', d.compatibility_mask !== undefined ? `mask ${hex(d.compatibility_mask)}` : ''];
  const vp = d.type === 'VP_CONTEXT' ? (d.a ?? d.b)?.['vp_index'] : undefined;
  if (vp !== undefined) where.push(`${d.platform ?? 'unknown platform'} vp ${formatValue(vp)}`);
  const head = `  ${d.change.padEnd(8)} ${d.type} ${indices(d.index_a, d.index_b)} ${where.filter((x) => x).join(' ')}`.trimEnd();
  if (d.change !== 'changed') {
    const fields = Object.entries((d.a ?? d.b)!).filter(([k]) => !['gpa', 'compatibility_mask', 'vp_index', 'reserved'].includes(k));
    const shown = fields.slice(0, 6).map(([k, v]) => `${k} ${formatValue(v instanceof Uint8Array ? v.subarray(0, 16) : v)}`);
    return [`${head}${shown.length ? `: ${shown.join(', ')}${fields.length > 6 ? ', …' : ''}` : ''}`];
  }
  const lines = [head];
  for (const f of d.fields) lines.push(`      ${change(f)}`);
  if (d.data) lines.push(`      ${dataText(d.data, 'initial contents')}`);
  for (const r of d.registers) lines.push(`      ${change(r)}`);
  for (const n of d.notes) lines.push(`      note: ${n}`);
  return lines;
}

function directiveLines(d: DirectiveDiff): string[] {
  return d.kind === 'pages' ? pageRange(d) : headerLine(d);
}

function side(s: MeasurementSide | undefined): string {
  if (!s) return 'platform not declared';
  if (s.error !== undefined) return `cannot measure: ${s.error}`;
  return s.digest ? bytesHex(s.digest, 64) : '?';
}

function stepText(s: StepInfo | undefined): string {
  if (!s) return 'no step (the trace has ended)';
  const gpa = s.gpa !== undefined ? ` ${hex(s.gpa)}` : '';
  const from = s.directive ? `${s.directive.type} #${s.directive.index}${s.directive.gpa !== undefined ? ` at ${hex(s.directive.gpa)}` : ''}` : 'the VMM';
  return `${s.kind}${gpa} from ${from}, contents ${bytesHex(s.contents, 8)}`;
}

function measurementLines(m: MeasurementDiff): string[] {
  const name = `${platformLabel(m.platform)} (${m.model})`;
  if (m.equal) return [`  ${name}: equal ${side(m.a)}`];
  const lines = [`  ${name}: ${m.a && m.b ? 'DIFFERENT' : m.a ? 'only in A' : 'only in B'}`, `    A: ${side(m.a)}`, `    B: ${side(m.b)}`];
  if (m.divergence) {
    lines.push(`    first divergence at step ${m.divergence.step}:`);
    lines.push(`      A: ${stepText(m.divergence.a)}`);
    lines.push(`      B: ${stepText(m.divergence.b)}`);
  } else if (m.a?.digest && m.b?.digest) lines.push('    (no step trace for this platform)');
  return lines;
}

function platformLines(diff: IgvmDiff): string[] {
  const lines: string[] = [];
  for (const p of diff.platforms) {
    const h = (p.b ?? p.a)!;
    const desc = `mask ${formatValue(h['compatibility_mask'])} highest_vtl ${formatValue(h['highest_vtl'])} version ${formatValue(h['platform_version'])} shared_gpa_boundary ${formatValue(h['shared_gpa_boundary'])}`;
    lines.push(`  ${p.change.padEnd(8)} ${p.platform}: ${p.change === 'changed' ? p.fields.map(change).join(', ') : desc}`);
  }
  for (const i of diff.initializations) {
    const at = `${i.type} mask ${hex(i.compatibility_mask)}`;
    if (i.change !== 'changed') {
      const h = (i.a ?? i.b)!;
      const shown = Object.entries(h).filter(([k]) => k !== 'compatibility_mask' && k !== 'reserved').map(([k, v]) => `${k} ${formatValue(v)}`);
      lines.push(`  ${i.change.padEnd(8)} ${at}${shown.length ? `: ${shown.join(', ')}` : ''}`);
      continue;
    }
    const bits = i.policy_bits.length ? ` (${i.policy_bits.map(change).join(', ')})` : '';
    lines.push(`  changed  ${at}: ${i.fields.map(change).join(', ')}${bits}`);
    if (i.data) lines.push(`      ${dataText(i.data)}`);
  }
  return lines;
}

function fixedLines(diff: IgvmDiff): string[] {
  const f = diff.fixed_header;
  const lines = f.changes.map((c: FieldChange) => `  changed  ${change(c)}`);
  const la = f.layout_a;
  const lb = f.layout_b;
  if (la && lb) {
    const v = (x: number, y: number): string => (x === y ? hex(x) : `${hex(x)} → ${hex(y)}`);
    lines.push(`  (information) file size ${v(la.total_file_size, lb.total_file_size)}, checksum ${v(la.checksum, lb.checksum)}, variable headers ${v(la.variable_header_size, lb.variable_header_size)} bytes${f.bytes_identical ? ', bytes identical' : ''}`);
  }
  return lines;
}

/** The report: summary line, then fixed header, platforms and policies, directives, measurements. */
export function renderDiff(diff: IgvmDiff, nameA = 'A', nameB = 'B'): string {
  const out: string[] = [`A: ${nameA}`, `B: ${nameB}`, diff.summary, ''];
  const section = (title: string, lines: string[], empty: string): void => {
    out.push(`${title}:`, ...(lines.length ? lines : [`  ${empty}`]), '');
  };
  section('Fixed header', fixedLines(diff), 'equal');
  section('Platforms and initialization headers', platformLines(diff), 'equal');
  section('Directives', diff.directives.flatMap(directiveLines), 'equal');
  if (diff.measurements.length) section('Measurements', diff.measurements.flatMap(measurementLines), 'none');
  return out.join('\n');
}
