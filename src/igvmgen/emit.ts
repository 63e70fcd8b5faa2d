// igvmgen's output: the page walk that yields headers, file data and launch digest, then the file bytes (IGVMGEN.md §8).
import { ByteWriter } from '../bytes.js';
import { IGVM_MAGIC, VHT } from '../spec/constants.js';
import { IGVM_FIXED_HEADER } from '../spec/fixed-header.js';
import { IGVM_VHS_SUPPORTED_PLATFORM } from '../spec/platform.js';
import { IGVM_VHS_GUEST_POLICY } from '../spec/initialization.js';
import {
  IGVM_VHS_PAGE_DATA, IGVM_VHS_PARAMETER_AREA, IGVM_VHS_PARAMETER, IGVM_VHS_PARAMETER_INSERT, IGVM_VHS_VP_CONTEXT,
} from '../spec/directives.js';
import { IGVM_VHS_SNP_ID_BLOCK } from '../spec/snp-id-block.js';
import type { StructLayout, FieldDef, StructValue } from '../spec/struct.js';
import type { SnpIdBlock } from '../model.js';
import { crc32 } from '../format/crc32.js';
import { isAllZero } from '../bytes.js';
import { IgvmError } from '../errors.js';
import { SnpLaunchDigest, SNP_PAGE, zeroPageDigest } from '../measure/snp-digest.js';
import { sha384 } from '../crypto/hash.js';
import { PAGE, type GuestMemory } from './guest-memory.js';

/** GPAs of the four fixed pages (§2.1). */
export const CPUID_GPA = 0x800000;
export const SECRETS_GPA = 0x801000;
export const PARAM_GPA = 0x802000;
export const VMSA_GPA = 0x803000;

const PAGE_DATA_TYPE = { NORMAL: 0, SECRETS: 1, CPUID: 2 } as const;
/** PAGE_DATA flag 4: "guest invalid" in igvmgen's definitions (`shared` in the format today). */
const FLAG_SHARED = 4;

export interface EmitInput {
  memory: GuestMemory;
  highestVtl: number;
  policy: bigint;
  /** Host-visible, unmeasured payload range [start, end) (bzImage2), if any. */
  sharedRange: { start: number; end: number } | undefined;
  /** Builds the SNP_ID_BLOCK for the final launch digest. */
  idBlock(launchDigest: Uint8Array): SnpIdBlock;
}

export interface EmitOutput {
  bytes: Uint8Array;
  launchDigest: Uint8Array;
  /** Counts, for logs and tests. */
  pageDataHeaders: number;
  dataPages: number;
}

interface Rec {
  type: number;
  layout: StructLayout<readonly FieldDef[]>;
  value: Record<string, unknown>;
  /** Guest page whose bytes are this header's file data. */
  dataGpa: number | undefined;
}

const MASK = 1;

/** Walk every emitted page in ascending order, producing the headers of §8.2 and the digest of §8.5. */
export function emitIgvmgenFile(input: EmitInput): EmitOutput {
  const { memory } = input;
  const records: Rec[] = [];
  const rec = <F extends readonly FieldDef[]>(type: number, layout: StructLayout<F>, value: StructValue<F>, dataGpa?: number): void => {
    records.push({ type, layout: layout as unknown as StructLayout<readonly FieldDef[]>, value, dataGpa });
  };
  rec(VHT.SUPPORTED_PLATFORM, IGVM_VHS_SUPPORTED_PLATFORM, {
    compatibility_mask: MASK, highest_vtl: input.highestVtl & 0xff, platform_type: 2, platform_version: 1, shared_gpa_boundary: 0n,
  });
  rec(VHT.GUEST_POLICY, IGVM_VHS_GUEST_POLICY, { policy: input.policy, compatibility_mask: MASK, reserved: 0 });

  const ld = new SnpLaunchDigest();
  let pageDataHeaders = 0;
  const pageData = (gpa: number, flags: number, dataType: number, withData: boolean): void => {
    pageDataHeaders++;
    rec(VHT.PAGE_DATA, IGVM_VHS_PAGE_DATA, {
      gpa: BigInt(gpa), compatibility_mask: MASK, file_offset: 0, flags, data_type: dataType, reserved: 0,
    }, withData ? gpa : undefined);
  };
  const shared = input.sharedRange;
  for (const range of memory.emittedRanges()) {
    for (let g = range.start; g < range.end; g += PAGE) {
      const page = memory.page(g);
      if (g === VMSA_GPA) {
        if (!page) throw new Error('internal: no VMSA page');
        rec(VHT.VP_CONTEXT, IGVM_VHS_VP_CONTEXT, { gpa: BigInt(g), compatibility_mask: MASK, file_offset: 0, vp_index: 0, reserved: 0 }, g);
        ld.addPage(g, SNP_PAGE.VMSA, page);
      } else if (g === PARAM_GPA) {
        rec(VHT.PARAMETER_AREA, IGVM_VHS_PARAMETER_AREA, { number_of_bytes: BigInt(PAGE), parameter_area_index: 0, file_offset: 0 });
        rec(VHT.VP_COUNT_PARAMETER, IGVM_VHS_PARAMETER, { parameter_area_index: 0, byte_offset: 0 });
        rec(VHT.MEMORY_MAP, IGVM_VHS_PARAMETER, { parameter_area_index: 0, byte_offset: 0x18 });
        rec(VHT.PARAMETER_INSERT, IGVM_VHS_PARAMETER_INSERT, { gpa: BigInt(g), compatibility_mask: MASK, parameter_area_index: 0 });
        ld.addPage(g, SNP_PAGE.UNMEASURED);
      } else if (g === CPUID_GPA) {
        pageData(g, 0, PAGE_DATA_TYPE.CPUID, true);
        ld.addPage(g, SNP_PAGE.CPUID);
      } else if (g === SECRETS_GPA) {
        pageData(g, 0, PAGE_DATA_TYPE.SECRETS, false);
        ld.addPage(g, SNP_PAGE.SECRETS);
      } else {
        const nonZero = page !== undefined && !isAllZero(page);
        if (shared && g >= shared.start && g < shared.end) {
          pageData(g, FLAG_SHARED, PAGE_DATA_TYPE.NORMAL, nonZero);
        } else {
          pageData(g, 0, PAGE_DATA_TYPE.NORMAL, nonZero);
          ld.addContents(g, SNP_PAGE.NORMAL, nonZero ? sha384(page) : zeroPageDigest());
        }
      }
    }
  }
  const launchDigest = ld.digest();
  const idBlock = input.idBlock(launchDigest);
  rec(VHT.SNP_ID_BLOCK, IGVM_VHS_SNP_ID_BLOCK, idBlock);
  return writeFile(records, memory, launchDigest, pageDataHeaders);
}

function writeFile(records: Rec[], memory: GuestMemory, launchDigest: Uint8Array, pageDataHeaders: number): EmitOutput {
  const headerOffset = IGVM_FIXED_HEADER.size;
  let vhsSize = 0;
  for (const r of records) vhsSize += 8 + align8(r.layout.size);
  const dataCount = records.reduce((n, r) => n + (r.dataGpa !== undefined ? 1 : 0), 0);
  const total = headerOffset + vhsSize + dataCount * PAGE;
  if (total > 0xffffffff) {
    throw new IgvmError('file-too-large', `the image would be ${total} bytes; IGVM file offsets are 32-bit (at most 4 GiB)`);
  }
  const out = new Uint8Array(total);
  const w = new ByteWriter(out);
  let at = headerOffset;
  let dataAt = headerOffset + vhsSize;
  for (const r of records) {
    const value = { ...r.value };
    if (r.dataGpa !== undefined) {
      value['file_offset'] = dataAt;
      const page = memory.page(r.dataGpa);
      if (page) out.set(page, dataAt);
      dataAt += PAGE;
    }
    w.u32(at, r.type);
    w.u32(at + 4, r.layout.size);
    r.layout.write(w, at + 8, value as StructValue<readonly FieldDef[]>);
    at += 8 + align8(r.layout.size); // padding stays zero (the original writes ASCII '0' there)
  }
  IGVM_FIXED_HEADER.write(w, 0, {
    magic: IGVM_MAGIC, format_version: 1, variable_header_offset: headerOffset, variable_header_size: vhsSize,
    total_file_size: total, checksum: 0,
  } as StructValue<typeof IGVM_FIXED_HEADER.fields>);
  const checksum = crc32(out.subarray(0, headerOffset + vhsSize));
  w.u32(20, checksum);
  return { bytes: out, launchDigest, pageDataHeaders, dataPages: dataCount };
}

function align8(n: number): number {
  return (n + 7) & ~7;
}
