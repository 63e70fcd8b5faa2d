// Directive lists of two files aligned and compared; PAGE_DATA summarised as GPA ranges (FORMAT.md §6, §7).
import type { DirectiveHeader, IgvmFile, PageData } from '../model.js';
import { pageDataTypeName, platformTypeName } from '../spec/constants.js';
import { platformForMask } from '../model.js';
import { alignKeys, type AlignOp } from './align.js';
import { dataDiff, fieldChanges, headerFields, type DataDiff, type DiffValue, type FieldChange } from './fields.js';
import { diffVpContext, type RegisterChange } from './vp-context.js';
import type { Change } from './headers.js';

const PAGE = 0x1000n;

/** One changed page inside a changed range. */
export interface PageChange {
  gpa: bigint;
  index_a: number;
  index_b: number;
  /** What differs in the 4096 bytes (undefined when only header fields differ). */
  data: DataDiff | undefined;
}

/** Consecutive PAGE_DATA headers (contiguous GPAs, same mask) added, removed or changed. */
export interface PageRangeDiff {
  kind: 'pages';
  change: Change;
  compatibility_mask: number;
  /** First GPA and end (exclusive). */
  gpa_start: bigint;
  gpa_end: bigint;
  pages: number;
  /** Directive indices [first, last] in A / B. */
  index_a: [number, number] | undefined;
  index_b: [number, number] | undefined;
  /** Added/removed: data type, flags, data vs zero pages. */
  data_type: string;
  flags: number;
  data_pages: number;
  zero_pages: number;
  /** Changed: the header fields that changed (the same for every changed page of the range). */
  fields: FieldChange[];
  /** Changed: pages whose header or data differs (≤ changed_pages; equal pages may lie between them). */
  changed_pages: number;
  /** The first `limit` changed pages. */
  listed: PageChange[];
  /** changed_pages − listed.length. */
  more: number;
}

/** Any other directive added, removed or changed. */
export interface HeaderDiff {
  kind: 'header';
  change: Change;
  type: DirectiveHeader['type'];
  index_a: number | undefined;
  index_b: number | undefined;
  gpa: bigint | undefined;
  compatibility_mask: number | undefined;
  /** The header in A / B (fields without layout and payload). */
  a: Record<string, DiffValue> | undefined;
  b: Record<string, DiffValue> | undefined;
  fields: FieldChange[];
  /** PARAMETER_AREA initial contents. */
  data: DataDiff | undefined;
  /** VP_CONTEXT: the platform its mask names (in B, else A). */
  platform: string | undefined;
  /** VP_CONTEXT registers by name. */
  registers: RegisterChange[];
  /** Remarks, e.g. that an SNP ID block's ld follows the launch digest. */
  notes: string[];
}

export type DirectiveDiff = PageRangeDiff | HeaderDiff;

export interface DirectiveDiffOptions {
  /** Changed pages listed per range (default 8). */
  limit?: number;
  /** Unchanged pages allowed inside one changed range (default 16). */
  gap?: number;
}

/** The alignment key: what identifies a header regardless of its data (type, GPA / area index, mask, VP index). */
export function directiveKey(d: DirectiveHeader): string {
  switch (d.type) {
    case 'PAGE_DATA':
    case 'REQUIRED_MEMORY':
    case 'ERROR_RANGE':
      return `${d.type}/${d.gpa}/${d.compatibility_mask}`;
    case 'PARAMETER_AREA':
      return `${d.type}/${d.parameter_area_index}`;
    case 'PARAMETER_INSERT':
      return `${d.type}/${d.parameter_area_index}/${d.compatibility_mask}`;
    case 'VP_CONTEXT':
      return `${d.type}/${d.compatibility_mask}/${d.vp_index}`;
    case 'SNP_ID_BLOCK':
    case 'VBS_MEASUREMENT':
      return `${d.type}/${d.compatibility_mask}`;
    default:
      return `${d.type}/${d.parameter_area_index}`;
  }
}

function gpaOf(d: DirectiveHeader): bigint | undefined {
  return 'gpa' in d ? d.gpa : undefined;
}

function maskOf(d: DirectiveHeader): number | undefined {
  return 'compatibility_mask' in d ? d.compatibility_mask : undefined;
}

function headerDiff(files: [IgvmFile, IgvmFile], change: Change, da: DirectiveHeader | undefined, db: DirectiveHeader | undefined, ia: number | undefined, ib: number | undefined): HeaderDiff {
  const d = (db ?? da)!;
  const p = d.type === 'VP_CONTEXT' ? (platformForMask(files[db ? 1 : 0].platforms, d.compatibility_mask) ?? (da && platformForMask(files[0].platforms, d.compatibility_mask))) : undefined;
  const out: HeaderDiff = {
    kind: 'header', change, type: d.type, index_a: ia, index_b: ib, gpa: gpaOf(da ?? d), compatibility_mask: maskOf(d),
    a: da ? headerFields(da) : undefined, b: db ? headerFields(db) : undefined, fields: [], data: undefined, platform: p ? platformTypeName(p.platform_type) : undefined, registers: [], notes: [],
  };
  if (da && db) {
    out.fields = fieldChanges(da, db);
    if (da.type === 'PARAMETER_AREA' && db.type === 'PARAMETER_AREA') out.data = dataDiff(da.data, db.data);
    if (da.type === 'VP_CONTEXT' && db.type === 'VP_CONTEXT') out.registers = diffVpContext(da.context, db.context);
  }
  return out;
}

function isChanged(h: HeaderDiff): boolean {
  return h.fields.length > 0 || h.data !== undefined || h.registers.length > 0;
}

const signature = (fields: readonly FieldChange[]): string => fields.map((f) => `${f.field}=${String(f.a)}>${String(f.b)}`).join(',');

/** Builds the directive diff from an alignment. */
class Collector {
  readonly out: DirectiveDiff[] = [];
  /** The open added/removed run or changed range. */
  private run: PageRangeDiff | undefined;
  private runSig = '';
  /** Changed range: GPA the next paired page must have, and equal pages seen since the last changed one. */
  private nextGpa = 0n;
  private gapPages = 0;

  constructor(private readonly limit: number, private readonly maxGap: number) {}

  close(): void {
    if (this.run) this.out.push(this.run);
    this.run = undefined;
  }

  /** A PAGE_DATA only in A or only in B. */
  single(change: 'added' | 'removed', p: PageData, index: number): void {
    const r = this.run;
    const sig = `${p.compatibility_mask}/${p.data_type}/${p.flags}`;
    if (!r || r.change !== change || r.gpa_end !== p.gpa || this.runSig !== sig) {
      this.close();
      this.run = {
        kind: 'pages', change, compatibility_mask: p.compatibility_mask, gpa_start: p.gpa, gpa_end: p.gpa, pages: 0,
        index_a: change === 'removed' ? [index, index] : undefined, index_b: change === 'added' ? [index, index] : undefined,
        data_type: pageDataTypeName(p.data_type), flags: p.flags, data_pages: 0, zero_pages: 0, fields: [], changed_pages: 0, listed: [], more: 0,
      };
      this.runSig = sig;
    }
    const run = this.run!;
    run.gpa_end = p.gpa + PAGE;
    run.pages++;
    if (p.data === undefined) run.zero_pages++;
    else run.data_pages++;
    const idx = change === 'removed' ? run.index_a : run.index_b;
    if (idx) idx[1] = index;
  }

  /** A PAGE_DATA present in both files. */
  paired(pa: PageData, pb: PageData, ia: number, ib: number): void {
    const fields = fieldChanges(pa, pb).map((f) => (f.field === 'data_type' ? { field: f.field, a: pageDataTypeName(Number(f.a)), b: pageDataTypeName(Number(f.b)) } : f));
    const data = dataDiff(pa.data, pb.data);
    const r = this.run;
    const open = r !== undefined && r.change === 'changed' && pa.gpa === this.nextGpa && r.compatibility_mask === pa.compatibility_mask;
    if (fields.length === 0 && data === undefined) {
      // An equal page: part of the open changed range only while the gap stays short.
      if (open && this.gapPages < this.maxGap) {
        this.gapPages++;
        this.nextGpa += PAGE;
      } else this.close();
      return;
    }
    const sig = signature(fields);
    if (!open || sig !== this.runSig) {
      this.close();
      this.run = {
        kind: 'pages', change: 'changed', compatibility_mask: pa.compatibility_mask, gpa_start: pa.gpa, gpa_end: pa.gpa, pages: 0,
        index_a: [ia, ia], index_b: [ib, ib], data_type: pageDataTypeName(pb.data_type), flags: pb.flags, data_pages: 0, zero_pages: 0,
        fields, changed_pages: 0, listed: [], more: 0,
      };
      this.runSig = sig;
    }
    const run = this.run!;
    run.gpa_end = pa.gpa + PAGE;
    run.pages = Number((run.gpa_end - run.gpa_start) / PAGE);
    run.index_a![1] = ia;
    run.index_b![1] = ib;
    run.changed_pages++;
    if (run.listed.length < this.limit) run.listed.push({ gpa: pa.gpa, index_a: ia, index_b: ib, data });
    else run.more++;
    this.nextGpa = pa.gpa + PAGE;
    this.gapPages = 0;
  }

  header(h: HeaderDiff): void {
    this.close();
    this.out.push(h);
  }
}

/** Aligns the directive lists and reports what was added, removed or changed. */
export function diffDirectives(a: IgvmFile, b: IgvmFile, opts: DirectiveDiffOptions = {}): DirectiveDiff[] {
  const ops: AlignOp[] = alignKeys(a.directives.map(directiveKey), b.directives.map(directiveKey));
  const c = new Collector(opts.limit ?? 8, opts.gap ?? 16);
  for (const op of ops) {
    if (op.op === 'same') {
      const da = a.directives[op.a]!;
      const db = b.directives[op.b]!;
      if (da.type === 'PAGE_DATA' && db.type === 'PAGE_DATA') c.paired(da, db, op.a, op.b);
      else {
        const h = headerDiff([a, b], 'changed', da, db, op.a, op.b);
        if (isChanged(h)) c.header(h);
        else c.close();
      }
    } else if (op.op === 'removed') {
      const d = a.directives[op.a]!;
      if (d.type === 'PAGE_DATA') c.single('removed', d, op.a);
      else c.header(headerDiff([a, b], 'removed', d, undefined, op.a, undefined));
    } else {
      const d = b.directives[op.b]!;
      if (d.type === 'PAGE_DATA') c.single('added', d, op.b);
      else c.header(headerDiff([a, b], 'added', undefined, d, undefined, op.b));
    }
  }
  c.close();
  return c.out;
}

/** Number of directive headers an entry stands for (pages of a range, 1 for a header). */
export function headerCount(d: DirectiveDiff): number {
  return d.kind === 'header' ? 1 : d.change === 'changed' ? d.changed_pages : d.pages;
}
