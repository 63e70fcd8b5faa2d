// SEV-SNP launch digest: the SNP_LAUNCH_UPDATE PAGE_INFO hash chain (MEASUREMENT.md §1.1, §1.2).
import { sha384 } from '../crypto/hash.js';

/** SNP PAGE_INFO page types. */
export const SNP_PAGE = { NORMAL: 1, VMSA: 2, ZERO: 3, UNMEASURED: 4, SECRETS: 5, CPUID: 6 } as const;
export type SnpPageType = (typeof SNP_PAGE)[keyof typeof SNP_PAGE];

const PAGE_INFO_SIZE = 0x70;
const PAGE = 4096;

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

/** The running launch digest; one `addPage` per SNP_LAUNCH_UPDATE page. */
export class SnpLaunchDigest {
  private ld: Uint8Array = new Uint8Array(48);
  private readonly info = new Uint8Array(PAGE_INFO_SIZE);
  private readonly view = new DataView(this.info.buffer);
  /** Every step, when constructed with `trace: true`. */
  readonly steps: SnpStep[] | undefined;

  constructor(opts: { trace?: boolean } = {}) {
    this.steps = opts.trace ? [] : undefined;
    // Constant fields: LENGTH = 0x70; IMI_PAGE and the VMPL permission bytes stay zero.
    this.view.setUint16(0x60, PAGE_INFO_SIZE, true);
  }

  /**
   * Add a page. For NORMAL and VMSA pages `page` is the 4096-byte content (shorter data is zero-padded; undefined means
   * a zero page); for the other types the CONTENTS field is zero and `page` is ignored.
   */
  addPage(gpa: bigint | number, type: SnpPageType, page?: Uint8Array, source?: number): void {
    let contents: Uint8Array;
    if (type === SNP_PAGE.NORMAL || type === SNP_PAGE.VMSA) {
      if (page === undefined || page.length === 0) contents = zeroPageDigest();
      else if (page.length === PAGE) contents = sha384(page);
      else {
        const padded = new Uint8Array(PAGE);
        padded.set(page.subarray(0, PAGE));
        contents = sha384(padded);
      }
    } else contents = this.steps ? new Uint8Array(48) : ZERO_CONTENTS; // a fresh array for traces, which hand it out
    this.addContents(gpa, type, contents, source);
  }

  /** Add a page whose CONTENTS hash is already known. */
  addContents(gpa: bigint | number, type: SnpPageType, contents: Uint8Array, source?: number): void {
    // DIGEST_CUR (0x00) already holds the current digest: it is written back after every step.
    const info = this.info;
    if (contents.length !== 48) throw new RangeError(`a PAGE_INFO CONTENTS hash is 48 bytes, got ${contents.length}`);
    info.set(contents, 0x30);
    info[0x62] = type;
    const address = typeof gpa === 'bigint' ? gpa : BigInt(gpa);
    this.view.setBigUint64(0x68, address, true);
    const ld = sha384(info);
    info.set(ld, 0);
    this.ld = ld;
    this.steps?.push({ gpa: address, type, contents, digest: ld, source });
  }

  /** The current 48-byte digest (a copy). */
  digest(): Uint8Array {
    return this.ld.slice();
  }
}
