// Spec rules on the file's layout that the crate does not check: header offset, padding, unreferenced data (FORMAT.md §1, §3, §8, §9.3).
import { isAllZero } from '../bytes.js';
import { sourceOffset, type AnyHeader } from '../model.js';
import { headerEncoding } from '../format/encode-headers.js';
import { hx, type Rule } from './context.js';

export const headerOffsetPlacement: Rule = (ctx) => {
  const src = ctx.file.source;
  if (!src) return;
  const fixed = ctx.file.revision.format_version === 1 ? 24 : 32;
  const vho = src.variable_header_offset;
  if (vho % 8 !== 0) ctx.warn('unaligned-header-offset', `variable_header_offset ${hx(vho)} is not 8-byte aligned (the spec requires it; the crate does not check)`, 8);
  if (vho < fixed) ctx.warn('header-offset-overlaps-fixed-header', `variable_header_offset ${hx(vho)} lies inside the ${fixed}-byte fixed header`, 8);
  else if (vho > fixed) {
    const gapZero = isAllZero(ctx.bytes, fixed, vho);
    ctx.warn('gap-before-headers', `${vho - fixed} bytes${gapZero ? '' : ' (not all zero)'} between the fixed header and the variable headers, not covered by the checksum`, fixed);
  }
};

export const recordPaddingZero: Rule = (ctx) => {
  const src = ctx.file.source;
  if (!src) return;
  let count = 0;
  let first: { h: AnyHeader; at: number } | undefined;
  for (const h of ctx.headers) {
    const rec = src.records.get(h);
    if (rec && !isAllZero(rec.padding)) {
      count++;
      first ??= { h, at: rec.offset + 8 + rec.length };
    }
  }
  if (count > 0 && first !== undefined)
    ctx.warn('nonzero-padding', `${count} record${count > 1 ? 's have' : ' has'} non-zero padding bytes (the spec requires zero; first at ${hx(first.at)})`, first.h, undefined, first.at);
};

export const unreferencedData: Rule = (ctx) => {
  const src = ctx.file.source;
  if (!src) return;
  const start = src.variable_header_offset + src.variable_header_size;
  const end = src.bytes.length;
  const ranges: [number, number][] = [];
  for (const h of ctx.headers) {
    const d = headerEncoding(h).data;
    const at = sourceOffset(src, d);
    if (d && at !== undefined) ranges.push([at, at + d.length]);
  }
  ranges.sort((a, b) => a[0] - b[0]);
  const gaps: [number, number][] = [];
  let cursor = start;
  for (const [a, b] of ranges) {
    if (a > cursor) gaps.push([cursor, a]);
    cursor = Math.max(cursor, b);
  }
  if (cursor < end) gaps.push([cursor, end]);
  // A single trailing byte is what writers add to satisfy the "at least one byte of file data" rule.
  const real = gaps.filter(([a, b]) => !(b - a === 1 && b === end && ranges.length === 0));
  if (real.length === 0) return;
  const bytes = real.reduce((n, [a, b]) => n + b - a, 0);
  const [a, b] = real[0]!;
  ctx.warn('unreferenced-data', `${bytes} bytes of file data in ${real.length} range${real.length > 1 ? 's' : ''} are not referenced by any header (first [${hx(a)}, ${hx(b)}))`, a);
};
