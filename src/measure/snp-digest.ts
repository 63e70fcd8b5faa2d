// SEV-SNP launch digest: the SNP_LAUNCH_UPDATE PAGE_INFO hash chain (MEASUREMENT.md §1.1, §1.2), with page hashes batched.
import { hashProvider, sha384, sha384Pages } from '../crypto/hash.js';

/** SNP PAGE_INFO page types. */
export const SNP_PAGE = { NORMAL: 1, VMSA: 2, ZERO: 3, UNMEASURED: 4, SECRETS: 5, CPUID: 6 } as const;
export type SnpPageType = (typeof SNP_PAGE)[keyof typeof SNP_PAGE];

const PAGE_INFO_SIZE = 0x70;
const PAGE = 4096;
/** Pages hashed per batch when the hash provider has `sha384Pages` (16 MiB of page data). */
const BATCH_PAGES = 4096;
/** A queue this long is flushed even when few of its steps need a page hash. */
const BATCH_STEPS = 2 * BATCH_PAGES;

let zeroPageHash: Uint8Array | undefined;
/** CONTENTS of every page type other than NORMAL and VMSA (never handed out, never written). */
const ZERO_CONTENTS = new Uint8Array(48);

/** SHA-384 of 4096 zero bytes (cached). */
export function zeroPageDigest(): Uint8Array {
  zeroPageHash ??= sha384(new Uint8Array(PAGE));
  return zeroPageHash;
}

/** One PAGE_INFO step as recorded by a trace. */
export interface SnpStep {
  gpa: bigint;
  type: SnpPageType;
  contents: Uint8Array;
  digest: Uint8Array;
  /** Index of the directive (in IgvmFile.directives) this page comes from; undefined for VMM-made pages (KVM VMSAs). */
  source: number | undefined;
}

/** A step waiting to be chained; `contents` undefined: the next digest of its batch's page hashes. */
interface Queued {
  gpa: bigint;
  type: SnpPageType;
  contents: Uint8Array | undefined;
  source: number | undefined;
}

/** A batch whose page hashes are being computed (see HashProvider.startSha384Pages). */
interface InFlight {
  steps: Queued[];
  hashes: () => Uint8Array[];
}

/**
 * The running launch digest; one `addPage` per SNP_LAUNCH_UPDATE page.
 *
 * When the hash provider has a batch method (`sha384Pages`), page hashes are deferred: steps are queued in order and
 * chained when a batch is full, on `digest()` and when `steps` is read. The bytes of a page handed to `addPage` must
 * then stay unchanged until one of those; the digest and the steps are exactly those of the unbatched chain.
 */
export class SnpLaunchDigest {
  private ld: Uint8Array = new Uint8Array(48);
  private readonly info = new Uint8Array(PAGE_INFO_SIZE);
  private readonly view = new DataView(this.info.buffer);
  private readonly trace: SnpStep[] | undefined;
  /** Steps not chained yet, in order, and the pages of those with `contents` undefined. */
  private queue: Queued[] = [];
  private pages: Uint8Array[] = [];
  private inFlight: InFlight | undefined;

  constructor(opts: { trace?: boolean } = {}) {
    this.trace = opts.trace ? [] : undefined;
    // Constant fields: LENGTH = 0x70; IMI_PAGE and the VMPL permission bytes stay zero.
    this.view.setUint16(0x60, PAGE_INFO_SIZE, true);
  }

  /** Every step, when constructed with `trace: true` (reading it chains any queued steps first). */
  get steps(): SnpStep[] | undefined {
    this.flush();
    return this.trace;
  }

  /**
   * Add a page. For NORMAL and VMSA pages `page` is the 4096-byte content (shorter data is zero-padded; undefined means
   * a zero page); for the other types the CONTENTS field is zero and `page` is ignored.
   */
  addPage(gpa: bigint | number, type: SnpPageType, page?: Uint8Array, source?: number): void {
    let contents: Uint8Array;
    if (type === SNP_PAGE.NORMAL || type === SNP_PAGE.VMSA) {
      if (page === undefined || page.length === 0) contents = zeroPageDigest();
      else {
        let full = page;
        if (page.length !== PAGE) {
          full = new Uint8Array(PAGE);
          full.set(page.subarray(0, PAGE));
        }
        if (hashProvider().sha384Pages === undefined) contents = sha384(full);
        else {
          this.queue.push({ gpa: typeof gpa === 'bigint' ? gpa : BigInt(gpa), type, contents: undefined, source });
          this.pages.push(full);
          if (this.pages.length >= BATCH_PAGES) this.submit();
          return;
        }
      }
    } else contents = this.trace ? new Uint8Array(48) : ZERO_CONTENTS; // a fresh array for traces, which hand it out
    this.addContents(gpa, type, contents, source);
  }

  /** Add a page whose CONTENTS hash is already known. */
  addContents(gpa: bigint | number, type: SnpPageType, contents: Uint8Array, source?: number): void {
    if (contents.length !== 48) throw new RangeError(`a PAGE_INFO CONTENTS hash is 48 bytes, got ${contents.length}`);
    const address = typeof gpa === 'bigint' ? gpa : BigInt(gpa);
    if (this.queue.length === 0 && this.inFlight === undefined) this.step(address, type, contents, source);
    else {
      this.queue.push({ gpa: address, type, contents, source });
      if (this.queue.length >= BATCH_STEPS) this.submit();
    }
  }

  /** The current 48-byte digest (a copy). */
  digest(): Uint8Array {
    this.flush();
    return this.ld.slice();
  }

  /** One PAGE_INFO step. */
  private step(address: bigint, type: SnpPageType, contents: Uint8Array, source: number | undefined): void {
    // DIGEST_CUR (0x00) already holds the current digest: it is written back after every step.
    const info = this.info;
    info.set(contents, 0x30);
    info[0x62] = type;
    this.view.setBigUint64(0x68, address, true);
    const ld = sha384(info);
    info.set(ld, 0);
    this.ld = ld;
    this.trace?.push({ gpa: address, type, contents, digest: ld, source });
  }

  /** Chain queued steps, taking the page hashes in order from `hashes`. */
  private chain(steps: readonly Queued[], hashes: readonly Uint8Array[]): void {
    let k = 0;
    for (const s of steps) {
      const contents = s.contents ?? hashes[k++];
      if (contents === undefined || contents.length !== 48) throw new Error(`internal: the hash provider returned ${hashes.length} page digests for a batch that needs more`);
      this.step(s.gpa, s.type, contents, s.source);
    }
  }

  /**
   * Hand the queue to the provider. With `startSha384Pages` the provider hashes this batch while the previous one is
   * chained here (and while the caller queues the next); otherwise hash and chain it now.
   */
  private submit(): void {
    const steps = this.queue;
    const pages = this.pages;
    this.queue = [];
    this.pages = [];
    const previous = this.inFlight;
    this.inFlight = undefined;
    const provider = hashProvider();
    const prevHashes = previous?.hashes();
    if (provider.startSha384Pages !== undefined && pages.length > 0) {
      this.inFlight = { steps, hashes: provider.startSha384Pages(pages) };
      if (previous !== undefined) this.chain(previous.steps, prevHashes ?? []);
    } else {
      if (previous !== undefined) this.chain(previous.steps, prevHashes ?? []);
      this.chain(steps, pages.length > 0 ? sha384Pages(pages) : []);
    }
  }

  /** Chain every queued step. */
  private flush(): void {
    if (this.queue.length > 0) this.submit();
    const last = this.inFlight;
    if (last === undefined) return;
    this.inFlight = undefined;
    this.chain(last.steps, last.hashes());
  }
}
