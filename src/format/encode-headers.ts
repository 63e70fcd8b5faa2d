// Encoding of each header to its record type code, layout and body values (the inverse of decode-headers; FORMAT.md §3.1, §10).
import type { StructLayout, FieldDef } from '../spec/struct.js';
import { IGVM_VHS_SUPPORTED_PLATFORM } from '../spec/platform.js';
import {
  IGVM_VHS_GUEST_POLICY,
  IGVM_VHS_RELOCATABLE_REGION,
  IGVM_VHS_PAGE_TABLE_RELOCATION,
  IGVM_VHS_CORIM_DATA,
  IGVM_VHS_CCA_POLICY,
} from '../spec/initialization.js';
import {
  IGVM_VHS_PAGE_DATA,
  IGVM_VHS_PARAMETER_AREA,
  IGVM_VHS_PARAMETER,
  IGVM_VHS_PARAMETER_INSERT,
  IGVM_VHS_VP_CONTEXT,
  IGVM_VHS_REQUIRED_MEMORY,
  IGVM_VHS_ERROR_RANGE,
} from '../spec/directives.js';
import { IGVM_VHS_SNP_ID_BLOCK } from '../spec/snp-id-block.js';
import { IGVM_VHS_VBS_MEASUREMENT } from '../spec/vbs-measurement.js';
import { VHT } from '../spec/constants.js';
import type { AnyHeader } from '../model.js';

/** How a header is written: type code, layout, and (for headers that carry file data) the data and the body field that points at it. */
export interface HeaderEncoding {
  type: number;
  layout: StructLayout<readonly FieldDef[]>;
  /** File data for this header, if any (already padded as the format requires), and its minimum size. */
  data: Uint8Array | undefined;
  /** Pad `data` with zeros up to this many bytes. */
  padTo: number;
}

export function headerEncoding(h: AnyHeader): HeaderEncoding {
  const none = (type: number, layout: StructLayout<readonly FieldDef[]>): HeaderEncoding => ({ type, layout, data: undefined, padTo: 0 });
  switch (h.type) {
    case 'SUPPORTED_PLATFORM': return none(VHT.SUPPORTED_PLATFORM, IGVM_VHS_SUPPORTED_PLATFORM);
    case 'GUEST_POLICY': return none(VHT.GUEST_POLICY, IGVM_VHS_GUEST_POLICY);
    case 'RELOCATABLE_REGION': return none(VHT.RELOCATABLE_REGION, IGVM_VHS_RELOCATABLE_REGION);
    case 'PAGE_TABLE_RELOCATION_REGION': return none(VHT.PAGE_TABLE_RELOCATION_REGION, IGVM_VHS_PAGE_TABLE_RELOCATION);
    case 'CORIM_DOCUMENT':
    case 'CORIM_SIGNATURE':
      return { type: VHT[h.type], layout: IGVM_VHS_CORIM_DATA, data: h.data && h.data.length > 0 ? h.data : undefined, padTo: 0 };
    case 'CCA_POLICY': return none(VHT.CCA_POLICY, IGVM_VHS_CCA_POLICY);
    case 'PAGE_DATA':
      return { type: VHT.PAGE_DATA, layout: IGVM_VHS_PAGE_DATA, data: h.data && h.data.length > 0 ? h.data : undefined, padTo: 0x1000 };
    case 'PARAMETER_AREA':
      return {
        type: VHT.PARAMETER_AREA,
        layout: IGVM_VHS_PARAMETER_AREA,
        data: h.data && h.data.length > 0 ? h.data : undefined,
        padTo: Number(h.number_of_bytes),
      };
    case 'PARAMETER_INSERT': return none(VHT.PARAMETER_INSERT, IGVM_VHS_PARAMETER_INSERT);
    case 'VP_CONTEXT':
      return { type: VHT.VP_CONTEXT, layout: IGVM_VHS_VP_CONTEXT, data: h.context.data, padTo: h.context.kind === 'vbs' ? 0 : 0x1000 };
    case 'REQUIRED_MEMORY': return none(VHT.REQUIRED_MEMORY, IGVM_VHS_REQUIRED_MEMORY);
    case 'ERROR_RANGE': return none(VHT.ERROR_RANGE, IGVM_VHS_ERROR_RANGE);
    case 'SNP_ID_BLOCK': return none(VHT.SNP_ID_BLOCK, IGVM_VHS_SNP_ID_BLOCK);
    case 'VBS_MEASUREMENT': return none(VHT.VBS_MEASUREMENT, IGVM_VHS_VBS_MEASUREMENT);
    default:
      return none(VHT[h.type], IGVM_VHS_PARAMETER);
  }
}

/**
 * Body values as the microsoft/igvm crate writes them (compact mode): reserved fields zeroed, flags reduced to the bits
 * the crate models, file offsets filled in by the caller.
 */
export function canonicalBody(h: AnyHeader): Record<string, unknown> {
  switch (h.type) {
    case 'GUEST_POLICY': return { ...h, reserved: 0 };
    case 'RELOCATABLE_REGION': return { ...h, flags: h.flags & 0x7 };
    case 'PAGE_TABLE_RELOCATION_REGION': return { ...h, reserved: 0 };
    case 'CORIM_DOCUMENT':
    case 'CORIM_SIGNATURE': return { ...h, reserved: 0, size_bytes: h.data?.length ?? 0 };
    case 'CCA_POLICY': return { ...h, reserved: 0, reserved2: new Uint8Array(6) };
    case 'PAGE_DATA': return { ...h, reserved: 0 };
    case 'VP_CONTEXT':
      return { ...h, reserved: 0, gpa: h.context.kind === 'vmsa' ? h.gpa : 0n, vp_index: h.context.kind === 'vbs' ? 0 : h.vp_index };
    case 'REQUIRED_MEMORY': return { ...h, flags: h.flags & 0x1, reserved: 0 };
    default: return { ...h };
  }
}
