// Guest-physical memory as the loader leaves it: a sparse map of the 4 KiB pages QEMU wrote (QEMU-LOADER.md §5.1, §5.6).
//
// Pages are replaced whole (every write QEMU's IGVM loader makes covers whole 4 KiB pages); pages never written read as
// zeros. Full 4096-byte inputs are kept as views (file data is never modified), shorter ones are zero-padded copies.

export const PAGE_SIZE = 4096;
const PAGE = 4096n;

/** A shared all-zero page. Never modify it. */
export const ZERO_PAGE: Uint8Array = new Uint8Array(PAGE_SIZE);

export class GuestMemory {
  private readonly pages = new Map<number, Uint8Array>();

  /** Write one page at page number `pn` (`data` shorter than 4096 bytes is zero-padded; undefined = zeros). */
  writePage(pn: number, data: Uint8Array | undefined): void {
    if (data === undefined || data.length === 0) {
      this.pages.delete(pn);
      return;
    }
    if (data.length === PAGE_SIZE) {
      this.pages.set(pn, data);
      return;
    }
    const page = new Uint8Array(PAGE_SIZE);
    page.set(data.subarray(0, PAGE_SIZE));
    this.pages.set(pn, page);
  }

  /** Zero `size` bytes from page-aligned `gpa`. */
  zero(gpa: bigint, size: bigint): void {
    const first = pageNumber(gpa);
    const count = Number(size / PAGE);
    for (let i = 0; i < count; i++) this.pages.delete(first + i);
  }

  /** Copy `bytes` (a multiple of 4 KiB long) to page-aligned `gpa`. */
  writeBytes(gpa: bigint, bytes: Uint8Array): void {
    const first = pageNumber(gpa);
    for (let off = 0; off < bytes.length; off += PAGE_SIZE) this.writePage(first + off / PAGE_SIZE, bytes.slice(off, off + PAGE_SIZE));
  }

  /** The page at page number `pn` (the shared ZERO_PAGE when never written). Do not modify the result. */
  readPage(pn: number): Uint8Array {
    return this.pages.get(pn) ?? ZERO_PAGE;
  }

  /** A copy of `size` bytes from `gpa`. */
  read(gpa: bigint, size: bigint): Uint8Array {
    const out = new Uint8Array(Number(size));
    let pn = pageNumber(gpa);
    let inPage = Number(gpa % PAGE);
    for (let off = 0; off < out.length; pn++, inPage = 0) {
      const n = Math.min(PAGE_SIZE - inPage, out.length - off);
      const page = this.pages.get(pn);
      if (page) out.set(page.subarray(inPage, inPage + n), off);
      off += n;
    }
    return out;
  }

  /** Number of pages holding written (possibly zero) data. */
  get pageCount(): number {
    return this.pages.size;
  }
}

export function pageNumber(gpa: bigint): number {
  return Number(gpa / PAGE);
}
