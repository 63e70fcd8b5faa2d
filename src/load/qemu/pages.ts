// PAGE_DATA: merging consecutive pages into a pending region and flushing it into guest memory (QEMU-LOADER.md §5.1, §7.1).
//
// qigvm_process_mem_page: a page that passes the mask extends the pending region iff it is the directive right after
// the previous page (i == last_index + 1), its GPA follows the previous page, flags (whole u32), data type and mask
// are equal, and both pages have data or neither has; otherwise the pending region is flushed first. Only another
// page or the end of the file (after the initialization section) flushes a region — other directives are applied
// immediately and so take effect before an earlier page region that is still pending.
import type { PageData } from '../../model.js';
import type { MemoryPopulation } from '../plan.js';
import { applies, stageOf, type LoaderContext, type PendingRegion } from './context.js';
import { QemuFailure } from './failure.js';
import { MSG } from './messages.js';
import { pageDataCgsType, setGuestMemory } from './sev.js';

export const PAGE_4K = 0x1000n;
export const PAGE_2M = 0x200000n;
const FLAG_2MB = 0x1;
const FLAG_UNMEASURED = 0x2;

export function pageSizeOf(flags: number): bigint {
  return flags & FLAG_2MB ? PAGE_2M : PAGE_4K;
}

/** qigvm_directive_page_data. */
export function pageDataDirective(ctx: LoaderContext, page: PageData): void {
  if (applies(ctx, page.compatibility_mask)) processMemPage(ctx, page);
}

/** qigvm_process_mem_page with a page (extend or flush-and-restart) or without one (flush what is pending). */
export function processMemPage(ctx: LoaderContext, page: PageData | undefined): void {
  const pending = ctx.pending;
  if (page === undefined) {
    if (pending !== undefined) flushRegion(ctx, pending);
    ctx.pending = undefined;
    return;
  }
  if (pending !== undefined && !extendsRegion(ctx, pending, page)) {
    flushRegion(ctx, pending);
    ctx.pending = undefined;
  }
  if (ctx.pending === undefined) ctx.pending = { start: page.gpa, startIndex: ctx.index, count: 0, prev: page, lastIndex: ctx.index };
  const p = ctx.pending;
  p.prev = page;
  p.lastIndex = ctx.index;
  p.count++;
}

/** The merge conditions of qigvm_process_mem_page (qigvm_page_attrs_equal plus contiguity and adjacency). */
export function extendsRegion(ctx: LoaderContext, pending: PendingRegion, page: PageData): boolean {
  const prev = pending.prev;
  const sameData = (prev.data !== undefined) === (page.data !== undefined);
  const sameAttrs = prev.flags >>> 0 === page.flags >>> 0 && prev.data_type === page.data_type && prev.compatibility_mask === page.compatibility_mask;
  const contiguous = prev.gpa + pageSizeOf(prev.flags) === page.gpa;
  const adjacent = pending.lastIndex === ctx.index - 1;
  return sameData && sameAttrs && contiguous && adjacent;
}

/** qigvm_process_mem_region: prepare the memory, copy each page (zero pages and short data zero-filled), hand it to SEV. */
export function flushRegion(ctx: LoaderContext, r: PendingRegion): void {
  const first = ctx.view.directives[r.startIndex];
  if (first === undefined) throw new Error('unreachable: region without its first directive');
  const flags = r.prev.flags;
  const dataType = r.prev.data_type;
  const pageSize = pageSizeOf(flags);
  const size = BigInt(r.count) * pageSize;
  const stage = stageOf(ctx);
  const prepared = ctx.space.prepare(r.start, size, r.startIndex, ctx.sev?.snp === true);
  if (!prepared.ok) throw new QemuFailure(prepared.message, stage, { directive: r.startIndex, detail: prepared.detail });
  let zero = true;
  for (let i = 0; i < r.count; i++) {
    const ref = ctx.view.directives[r.startIndex + i];
    const page = ref?.h.type === 'PAGE_DATA' ? ref.h : undefined;
    const gpa = r.start + BigInt(i) * pageSize;
    const data = page?.data;
    if (data !== undefined && BigInt(data.length) > pageSize) throw new QemuFailure(MSG.pageDataSize(r.startIndex + i), stage, { directive: r.startIndex + i });
    ctx.memory.zero(gpa, pageSize);
    if (data !== undefined) {
      zero = false;
      ctx.memory.writePage(Number(gpa / PAGE_4K), data);
    }
  }
  const population: MemoryPopulation = {
    gpa: r.start, size, source: zero ? 'zero' : 'page-data', directive: r.startIndex, count: r.count, modelIndex: first.modelIndex,
    pageSize: Number(pageSize), flags, dataType, mask: r.prev.compatibility_mask, parameterArea: undefined,
    ram: prepared.ram, sevType: undefined, measured: false, replaced: undefined,
  };
  ctx.populations.push(population);
  if (ctx.sev === undefined) return;
  const sevType = pageDataCgsType(dataType, (flags & FLAG_UNMEASURED) !== 0, zero);
  if (sevType === undefined) throw new QemuFailure(MSG.invalidPageType(r.startIndex, r.count, dataType), stage, { directive: r.startIndex });
  population.sevType = sevType;
  const result = setGuestMemory(ctx, r.start, size, sevType, r.startIndex, r.count);
  population.measured = result.measured;
  population.replaced = result.replaced;
}
