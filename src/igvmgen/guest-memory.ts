// igvmgen's guest memory model: a cursor-based allocator over sparse 4 KiB pages, with skipped regions (IGVMGEN.md §2).
import { IgvmError } from '../errors.js';

export const PAGE = 0x1000;

export function alignUp(value: number, alignment: number): number {
  if (alignment <= 1) return value;
  return Math.ceil(value / alignment) * alignment;
}

/** Hex with a sign for negative values (-0x1000), for messages about computed addresses. */
export function hexSigned(v: number): string {
  return v < 0 ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** Largest GPA the layouts may reach; keeps every address an exact JS number (2^52). */
const GPA_LIMIT = 2 ** 52;

/**
 * The original keeps the whole image in one growing bytearray starting at GPA 0; its length is the cursor. Here only
 * pages that were written exist (a Map of page GPA → 4096 bytes); everything else is zero, so a payload at 256 MiB costs
 * one page of memory, not 256 MiB.
 */
export class GuestMemory {
  /** First unallocated GPA (the length of the original's array). */
  cursor = 0;
  /** Ranges [start, end) passed over by `seek` (not emitted, not measured), ascending. */
  readonly skipped: { start: number; end: number }[] = [];
  private readonly pages = new Map<number, Uint8Array>();

  /** `addr = align(cursor, alignment)`; the cursor moves to `addr + size`. */
  allocate(size: number, alignment = 1): number {
    const addr = alignUp(this.cursor, alignment);
    this.moveTo(addr + size, 'allocation');
    return addr;
  }

  /** Move the cursor forward to the page-aligned `addr`, recording [cursor, addr) as skipped. */
  seek(addr: number, what: string): void {
    if (addr % PAGE !== 0) {
      throw new IgvmError('layout-unaligned', `${what} at ${hexSigned(addr)} is not page-aligned`);
    }
    if (addr < this.cursor) {
      throw new IgvmError(
        'layout-overlap',
        `${what} at ${hexSigned(addr)} overlaps memory already laid out up to 0x${this.cursor.toString(16)}`,
      );
    }
    if (addr > this.cursor) this.skipped.push({ start: this.cursor, end: addr });
    this.moveTo(addr, what);
  }

  private moveTo(end: number, what: string): void {
    if (!Number.isSafeInteger(end) || end > GPA_LIMIT) {
      throw new IgvmError('layout-too-high', `${what} would end at GPA 0x${end.toString(16)}, beyond 2^52`);
    }
    this.cursor = end;
  }

  /** Copy `bytes` to GPA `addr` (must lie below the cursor). */
  write(addr: number, bytes: Uint8Array): void {
    if (addr + bytes.length > this.cursor) {
      throw new IgvmError('layout-overflow', `${bytes.length} bytes at 0x${addr.toString(16)} run past the allocated end 0x${this.cursor.toString(16)}`);
    }
    this.allocateSlab(addr, bytes.length);
    let done = 0;
    while (done < bytes.length) {
      const gpa = addr + done;
      const pageGpa = gpa - (gpa % PAGE);
      const at = gpa - pageGpa;
      const n = Math.min(PAGE - at, bytes.length - done);
      this.pageForWrite(pageGpa).set(bytes.subarray(done, done + n), at);
      done += n;
    }
  }

  /** A writable DataView over `size` bytes at `addr` that must not cross a page boundary. */
  view(addr: number, size: number): DataView {
    const pageGpa = addr - (addr % PAGE);
    if (addr - pageGpa + size > PAGE) throw new Error(`internal: view of ${size} bytes at 0x${addr.toString(16)} crosses a page`);
    if (addr + size > this.cursor) throw new Error(`internal: view at 0x${addr.toString(16)} beyond the cursor`);
    const page = this.pageForWrite(pageGpa);
    return new DataView(page.buffer, page.byteOffset + (addr - pageGpa), size);
  }

  /** Large writes into fresh memory get their pages from one buffer (fewer allocations than one per page). */
  private allocateSlab(addr: number, size: number): void {
    if (size < 4 * PAGE) return;
    const first = addr - (addr % PAGE);
    const count = Math.ceil((addr + size - first) / PAGE);
    for (let i = 0; i < count; i++) if (this.pages.has(first + i * PAGE)) return;
    const slab = new Uint8Array(count * PAGE);
    for (let i = 0; i < count; i++) this.pages.set(first + i * PAGE, slab.subarray(i * PAGE, (i + 1) * PAGE));
  }

  private pageForWrite(pageGpa: number): Uint8Array {
    let p = this.pages.get(pageGpa);
    if (p === undefined) {
      p = new Uint8Array(PAGE);
      this.pages.set(pageGpa, p);
    }
    return p;
  }

  /** Number of pages held in memory (the rest of the address space costs nothing). */
  get pageCount(): number {
    return this.pages.size;
  }

  /** The page at `pageGpa`, or undefined if nothing was ever written there (all zero). */
  page(pageGpa: number): Uint8Array | undefined {
    return this.pages.get(pageGpa);
  }

  /**
   * Page GPA ranges [start, end) that are emitted (not skipped), ascending, up to the page-aligned cursor. A page is
   * skipped iff a skipped region [s, e) has s ≤ page < e (a region starting mid-page leaves that page emitted).
   */
  emittedRanges(): { start: number; end: number }[] {
    const end = alignUp(this.cursor, PAGE);
    const out: { start: number; end: number }[] = [];
    let at = 0;
    for (const s of this.skipped) {
      const first = alignUp(s.start, PAGE); // first page fully inside the skipped region
      if (first >= s.end) continue;
      if (first > at) out.push({ start: at, end: first });
      at = Math.max(at, s.end);
    }
    if (end > at) out.push({ start: at, end });
    return out;
  }
}
