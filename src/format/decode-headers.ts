// Decoding of each variable header body with the microsoft/igvm crate's per-record checks (FORMAT.md §4–§6, §9.1).
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
import { PLATFORM_TYPE, VHT, PARAMETER_TYPES, type Section, type ParameterType } from '../spec/constants.js';
import type { AnyHeader } from '../model.js';
import { headerError, headerPanic, readFileData, isPageAligned, hexOf, type DecodeContext } from './decode-context.js';
import { decodeVpContextData } from './decode-vp-context.js';

export interface HeaderDecoder {
  name: string;
  section: Section;
  layout: StructLayout<readonly FieldDef[]>;
  decode(ctx: DecodeContext): AnyHeader;
}

const field = (layout: StructLayout<readonly FieldDef[]>, name: string) => {
  const f = layout.fields.find((x) => x.name === name);
  return { name, offset: f ? f.offset : 0 };
};

function checkReservedZero(ctx: DecodeContext, layout: StructLayout<readonly FieldDef[]>, name: string, value: number | bigint | Uint8Array): void {
  const nonZero = value instanceof Uint8Array ? value.some((b) => b !== 0) : value !== 0 && value !== 0n;
  if (nonZero) headerError(ctx, 'reserved-not-zero', 'ReservedNotZero', `${layout.name}.${name} must be zero`, field(layout, name));
}

function checkGpaAligned(ctx: DecodeContext, layout: StructLayout<readonly FieldDef[]>, name: string, gpa: bigint): void {
  if (!isPageAligned(gpa)) headerError(ctx, 'unaligned-gpa', 'UnalignedAddress', `${layout.name}.${name} ${hexOf(gpa)} is not 4 KiB aligned`, field(layout, name));
}

function checkSizeAligned(ctx: DecodeContext, layout: StructLayout<readonly FieldDef[]>, name: string, size: number | bigint): void {
  if (!isPageAligned(size)) headerError(ctx, 'unaligned-size', 'UnalignedSize', `${layout.name}.${name} ${hexOf(size)} is not a multiple of 4 KiB`, field(layout, name));
}

function checkVtl(ctx: DecodeContext, layout: StructLayout<readonly FieldDef[]>, vtl: number): void {
  if (vtl > 2) headerError(ctx, 'invalid-vtl', 'InvalidVtl', `${layout.name}.vtl ${vtl} is not 0, 1 or 2`, field(layout, 'vtl'));
}

const read = <F extends readonly FieldDef[]>(ctx: DecodeContext, layout: StructLayout<F>) => layout.read(ctx.reader, ctx.bodyOffset);

const supportedPlatform: HeaderDecoder = {
  name: 'SUPPORTED_PLATFORM',
  section: 'platform',
  layout: IGVM_VHS_SUPPORTED_PLATFORM,
  decode(ctx) {
    const L = IGVM_VHS_SUPPORTED_PLATFORM;
    const v = read(ctx, L);
    const bits = popcount(v.compatibility_mask);
    if (bits !== 1)
      headerError(ctx, 'platform-mask-not-one-bit', 'InvalidCompatibilityMask', `compatibility_mask ${hexOf(v.compatibility_mask)} must have exactly one bit set (has ${bits})`, field(L, 'compatibility_mask'));
    if (v.highest_vtl !== 0 && v.highest_vtl !== 2)
      headerError(ctx, 'invalid-vtl', 'InvalidVtl', `highest_vtl ${v.highest_vtl} must be 0 or 2`, field(L, 'highest_vtl'));
    if (v.platform_type > PLATFORM_TYPE.CCA) {
      headerError(ctx, 'unknown-platform-type', 'InvalidPlatformType', `platform_type ${hexOf(v.platform_type)} is not a known platform (0–6)`, field(L, 'platform_type'));
    } else {
      if (v.platform_version !== 1)
        headerError(ctx, 'invalid-platform-version', 'InvalidPlatformVersion', `platform_version ${v.platform_version} must be 1`, field(L, 'platform_version'));
      if ((v.platform_type === PLATFORM_TYPE.NATIVE || v.platform_type === PLATFORM_TYPE.VSM_ISOLATION) && v.shared_gpa_boundary !== 0n)
        headerError(ctx, 'invalid-shared-gpa-boundary', 'InvalidSharedGpaBoundary', `shared_gpa_boundary must be 0 for NATIVE and VSM_ISOLATION platforms (is ${hexOf(v.shared_gpa_boundary)})`, field(L, 'shared_gpa_boundary'));
    }
    return { type: 'SUPPORTED_PLATFORM', ...v };
  },
};

const guestPolicy: HeaderDecoder = {
  name: 'GUEST_POLICY',
  section: 'initialization',
  layout: IGVM_VHS_GUEST_POLICY,
  decode(ctx) {
    const v = read(ctx, IGVM_VHS_GUEST_POLICY);
    checkReservedZero(ctx, IGVM_VHS_GUEST_POLICY, 'reserved', v.reserved);
    return { type: 'GUEST_POLICY', ...v };
  },
};

const relocatableRegion: HeaderDecoder = {
  name: 'RELOCATABLE_REGION',
  section: 'initialization',
  layout: IGVM_VHS_RELOCATABLE_REGION,
  decode(ctx) {
    const L = IGVM_VHS_RELOCATABLE_REGION;
    const v = read(ctx, L);
    checkVtl(ctx, L, v.vtl);
    // Crate order (IgvmInitializationHeader::validate): size, then alignment, then the addresses.
    if (!isPageAligned(v.relocation_region_size))
      headerError(ctx, 'relocation-size', 'RelocationSize', `relocation_region_size ${hexOf(v.relocation_region_size)} is not a multiple of 4 KiB`, field(L, 'relocation_region_size'));
    const align = v.relocation_alignment;
    if (!isPageAligned(align)) {
      headerError(ctx, 'relocation-alignment', 'RelocationAlignment', `relocation_alignment ${hexOf(align)} is not a multiple of 4 KiB`, field(L, 'relocation_alignment'));
    } else if (align === 0n) {
      headerPanic(ctx, 'relocation-alignment-zero', 'relocation_alignment is 0 (division by zero)', field(L, 'relocation_alignment'));
    } else {
      for (const name of ['relocation_region_gpa', 'minimum_relocation_gpa', 'maximum_relocation_gpa'] as const) {
        if (v[name] % align !== 0n)
          headerError(ctx, 'relocation-address', 'RelocationAddress', `${name} ${hexOf(v[name])} is not a multiple of relocation_alignment ${hexOf(align)}`, field(L, name));
      }
    }
    return { type: 'RELOCATABLE_REGION', ...v };
  },
};

const pageTableRelocation: HeaderDecoder = {
  name: 'PAGE_TABLE_RELOCATION_REGION',
  section: 'initialization',
  layout: IGVM_VHS_PAGE_TABLE_RELOCATION,
  decode(ctx) {
    const L = IGVM_VHS_PAGE_TABLE_RELOCATION;
    const v = read(ctx, L);
    checkReservedZero(ctx, L, 'reserved', v.reserved);
    checkVtl(ctx, L, v.vtl);
    checkGpaAligned(ctx, L, 'gpa', v.gpa);
    checkSizeAligned(ctx, L, 'size', v.size);
    checkSizeAligned(ctx, L, 'used_size', v.used_size);
    if (v.used_size > v.size)
      headerError(ctx, 'page-table-used-size', 'InvalidPageTableRegionSize', `used_size ${hexOf(v.used_size)} is larger than size ${hexOf(v.size)}`, field(L, 'used_size'));
    return { type: 'PAGE_TABLE_RELOCATION_REGION', ...v };
  },
};

function corim(type: 'CORIM_DOCUMENT' | 'CORIM_SIGNATURE'): HeaderDecoder {
  return {
    name: type,
    section: 'initialization',
    layout: IGVM_VHS_CORIM_DATA,
    decode(ctx) {
      const L = IGVM_VHS_CORIM_DATA;
      const v = read(ctx, L);
      checkReservedZero(ctx, L, 'reserved', v.reserved);
      const data = v.file_offset === 0 ? undefined : readFileData(ctx, v.file_offset, v.size_bytes, `${type} data`, field(L, 'file_offset'));
      return { type, ...v, data };
    },
  };
}

const ccaPolicy: HeaderDecoder = {
  name: 'CCA_POLICY',
  section: 'initialization',
  layout: IGVM_VHS_CCA_POLICY,
  decode(ctx) {
    const L = IGVM_VHS_CCA_POLICY;
    const v = read(ctx, L);
    checkReservedZero(ctx, L, 'reserved', v.reserved);
    checkReservedZero(ctx, L, 'reserved2', v.reserved2);
    if ((v.attributes_required_zeroes & v.attributes_required_ones) !== 0n)
      headerError(ctx, 'cca-ones-zeroes-overlap', 'InvalidOnesZeroesMasks', `attributes_required_zeroes and attributes_required_ones overlap (${hexOf(v.attributes_required_zeroes & v.attributes_required_ones)})`, field(L, 'attributes_required_ones'));
    return { type: 'CCA_POLICY', ...v };
  },
};

const pageData: HeaderDecoder = {
  name: 'PAGE_DATA',
  section: 'directive',
  layout: IGVM_VHS_PAGE_DATA,
  decode(ctx) {
    const L = IGVM_VHS_PAGE_DATA;
    const v = read(ctx, L);
    const data = v.file_offset === 0 ? undefined : readFileData(ctx, v.file_offset, 0x1000, 'page data', field(L, 'file_offset'));
    checkReservedZero(ctx, L, 'reserved', v.reserved);
    checkGpaAligned(ctx, L, 'gpa', v.gpa);
    if (v.data_type > 3)
      headerError(ctx, 'invalid-page-data-type', 'InvalidPageDataType', `data_type ${v.data_type} is not NORMAL(0), SECRETS(1), CPUID_DATA(2) or CPUID_XF(3)`, field(L, 'data_type'));
    return { type: 'PAGE_DATA', ...v, data };
  },
};

const parameterArea: HeaderDecoder = {
  name: 'PARAMETER_AREA',
  section: 'directive',
  layout: IGVM_VHS_PARAMETER_AREA,
  decode(ctx) {
    const L = IGVM_VHS_PARAMETER_AREA;
    const v = read(ctx, L);
    let data: Uint8Array | undefined;
    if (v.file_offset !== 0) {
      data = readFileData(ctx, v.file_offset, v.number_of_bytes, 'parameter area initial data', field(L, 'file_offset'));
    }
    checkSizeAligned(ctx, L, 'number_of_bytes', v.number_of_bytes);
    return { type: 'PARAMETER_AREA', ...v, data };
  },
};

function parameter(type: ParameterType): HeaderDecoder {
  return {
    name: type,
    section: 'directive',
    layout: IGVM_VHS_PARAMETER,
    decode(ctx) {
      return { type, ...read(ctx, IGVM_VHS_PARAMETER) };
    },
  };
}

const parameterInsert: HeaderDecoder = {
  name: 'PARAMETER_INSERT',
  section: 'directive',
  layout: IGVM_VHS_PARAMETER_INSERT,
  decode(ctx) {
    const v = read(ctx, IGVM_VHS_PARAMETER_INSERT);
    checkGpaAligned(ctx, IGVM_VHS_PARAMETER_INSERT, 'gpa', v.gpa);
    return { type: 'PARAMETER_INSERT', ...v };
  },
};

const vpContext: HeaderDecoder = {
  name: 'VP_CONTEXT',
  section: 'directive',
  layout: IGVM_VHS_VP_CONTEXT,
  decode(ctx) {
    const v = read(ctx, IGVM_VHS_VP_CONTEXT);
    const context = decodeVpContextData(ctx, v);
    return { type: 'VP_CONTEXT', ...v, context };
  },
};

const requiredMemory: HeaderDecoder = {
  name: 'REQUIRED_MEMORY',
  section: 'directive',
  layout: IGVM_VHS_REQUIRED_MEMORY,
  decode(ctx) {
    const L = IGVM_VHS_REQUIRED_MEMORY;
    const v = read(ctx, L);
    checkReservedZero(ctx, L, 'reserved', v.reserved);
    checkGpaAligned(ctx, L, 'gpa', v.gpa);
    checkSizeAligned(ctx, L, 'number_of_bytes', v.number_of_bytes);
    return { type: 'REQUIRED_MEMORY', ...v };
  },
};

const errorRange: HeaderDecoder = {
  name: 'ERROR_RANGE',
  section: 'directive',
  layout: IGVM_VHS_ERROR_RANGE,
  decode(ctx) {
    const v = read(ctx, IGVM_VHS_ERROR_RANGE);
    checkGpaAligned(ctx, IGVM_VHS_ERROR_RANGE, 'gpa', v.gpa);
    return { type: 'ERROR_RANGE', ...v };
  },
};

const snpIdBlock: HeaderDecoder = {
  name: 'SNP_ID_BLOCK',
  section: 'directive',
  layout: IGVM_VHS_SNP_ID_BLOCK,
  decode(ctx) {
    return { type: 'SNP_ID_BLOCK', ...read(ctx, IGVM_VHS_SNP_ID_BLOCK) };
  },
};

const vbsMeasurement: HeaderDecoder = {
  name: 'VBS_MEASUREMENT',
  section: 'directive',
  layout: IGVM_VHS_VBS_MEASUREMENT,
  decode(ctx) {
    return { type: 'VBS_MEASUREMENT', ...read(ctx, IGVM_VHS_VBS_MEASUREMENT) };
  },
};

/** Every type code the crate knows, with its decoder. */
export const DECODERS: ReadonlyMap<number, HeaderDecoder> = new Map<number, HeaderDecoder>([
  [VHT.SUPPORTED_PLATFORM, supportedPlatform],
  [VHT.GUEST_POLICY, guestPolicy],
  [VHT.RELOCATABLE_REGION, relocatableRegion],
  [VHT.PAGE_TABLE_RELOCATION_REGION, pageTableRelocation],
  [VHT.CORIM_DOCUMENT, corim('CORIM_DOCUMENT')],
  [VHT.CORIM_SIGNATURE, corim('CORIM_SIGNATURE')],
  [VHT.CCA_POLICY, ccaPolicy],
  [VHT.PARAMETER_AREA, parameterArea],
  [VHT.PAGE_DATA, pageData],
  [VHT.PARAMETER_INSERT, parameterInsert],
  [VHT.VP_CONTEXT, vpContext],
  [VHT.REQUIRED_MEMORY, requiredMemory],
  [VHT.ERROR_RANGE, errorRange],
  [VHT.SNP_ID_BLOCK, snpIdBlock],
  [VHT.VBS_MEASUREMENT, vbsMeasurement],
  ...PARAMETER_TYPES.map((t) => [VHT[t], parameter(t)] as [number, HeaderDecoder]),
]);

export function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v !== 0; v &= v - 1) n++;
  return n;
}
