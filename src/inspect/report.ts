// The `inspect` report: fixed header, platforms and policies, directive counts, page ranges, parameters, VP contexts, ID block (FORMAT.md §2–§7).
import { decodePolicy } from '../spec/policy.js';
import { architectureName, platformTypeName, pageDataTypeName, PLATFORM_TYPE } from '../spec/constants.js';
import type { IgvmFile, PageData, SupportedPlatform, VpContext } from '../model.js';
import { allHeaders, platformForMask } from '../model.js';
import { decodeVmsa, decodeNativeContext, decodeCcaContext, decodeVbsValue, x64Mode, VMSA_ATTRIB_L, NATIVE_ATTRIB_L } from '../format/contexts.js';
import { computeChecksum } from '../format/parse.js';
import { SEV_FEATURES } from '../spec/vmsa.js';
import { toHex } from '../bytes.js';

export interface PageRange {
  compatibility_mask: number;
  /** First GPA of the range and its end (exclusive). */
  gpa_start: bigint;
  gpa_end: bigint;
  pages: number;
  data_pages: number;
  zero_pages: number;
  data_type: string;
  flags: number;
  flag_names: string[];
}

export interface InspectReport {
  fixed_header: {
    format_version: number;
    architecture: string;
    page_size: number;
    variable_header_offset: number;
    variable_header_size: number;
    total_file_size: number;
    checksum: number;
    checksum_ok: boolean | undefined;
  };
  platforms: { platform_type: string; compatibility_mask: number; highest_vtl: number; platform_version: number; shared_gpa_boundary: bigint; policy?: PolicyInfo }[];
  header_counts: Record<string, number>;
  page_ranges: PageRange[];
  parameter_areas: {
    parameter_area_index: number;
    number_of_bytes: bigint;
    initial_data: boolean;
    parameters: { type: string; byte_offset: number }[];
    inserts: { gpa: bigint; compatibility_mask: number }[];
  }[];
  vp_contexts: VpContextInfo[];
  snp_id_blocks: Record<string, unknown>[];
  other_headers: Record<string, unknown>[];
}

export interface PolicyInfo {
  policy: bigint;
  decoded: Record<string, number | boolean>;
}

export interface VpContextInfo {
  platform: string;
  compatibility_mask: number;
  vp_index: number;
  gpa: bigint;
  kind: string;
  mode?: string;
  registers: Record<string, bigint | number | string>;
  segments?: Record<string, { selector: number; attrib: number; limit: number; base: bigint }>;
}

const FLAG_NAMES: [number, string][] = [[1, 'is_2mb_page'], [2, 'unmeasured'], [4, 'shared']];

function pageRanges(pages: PageData[]): PageRange[] {
  const out: PageRange[] = [];
  const open = new Map<string, PageRange>();
  for (const p of pages) {
    const key = `${p.compatibility_mask}/${p.data_type}/${p.flags}`;
    const cur = open.get(key);
    const isData = p.data !== undefined;
    if (cur && cur.gpa_end === p.gpa) {
      cur.gpa_end += 0x1000n;
      cur.pages++;
      if (isData) cur.data_pages++;
      else cur.zero_pages++;
      continue;
    }
    const r: PageRange = {
      compatibility_mask: p.compatibility_mask, gpa_start: p.gpa, gpa_end: p.gpa + 0x1000n, pages: 1,
      data_pages: isData ? 1 : 0, zero_pages: isData ? 0 : 1, data_type: pageDataTypeName(p.data_type), flags: p.flags,
      flag_names: FLAG_NAMES.filter(([b]) => p.flags & b).map(([, n]) => n),
    };
    out.push(r);
    open.set(key, r);
  }
  return out;
}

function contextInfo(file: IgvmFile, h: VpContext): VpContextInfo {
  const platform = platformForMask(file.platforms, h.compatibility_mask);
  const info: VpContextInfo = {
    platform: platform ? platformTypeName(platform.platform_type) : 'unknown', compatibility_mask: h.compatibility_mask,
    vp_index: h.vp_index, gpa: h.gpa, kind: h.context.kind, registers: {},
  };
  const c = h.context;
  if (c.kind === 'vmsa') {
    const v = decodeVmsa(c.data);
    info.mode = x64Mode(v.cr0, v.efer, (v.cs.attrib & VMSA_ATTRIB_L) !== 0);
    info.registers = { rip: v.rip, rsp: v.rsp, rflags: v.rflags, cr0: v.cr0, cr3: v.cr3, cr4: v.cr4, efer: v.efer, xcr0: v.xcr0, pat: v.pat, vmpl: v.vmpl, cpl: v.cpl,
      rsi: v.rsi, rdi: v.rdi, sev_features: v.sev_features,
      sev_features_names: SEV_FEATURES.filter(([b]) => ((v.sev_features >> BigInt(b)) & 1n) === 1n).map(([, n]) => n).join(',') };
    info.segments = Object.fromEntries((['cs', 'ds', 'es', 'ss', 'fs', 'gs', 'tr', 'gdtr', 'idtr', 'ldtr'] as const).map((s) => [s, v[s]]));
  } else if (c.kind === 'native-x64') {
    const v = decodeNativeContext(c.data);
    info.mode = x64Mode(v.cr0, v.efer, (v.code_attributes & NATIVE_ATTRIB_L) !== 0);
    info.registers = { rip: v.rip, rsp: v.rsp, rflags: v.rflags, cr0: v.cr0, cr3: v.cr3, cr4: v.cr4, efer: v.efer, rsi: v.rsi, rdi: v.rdi, gs_base: v.gs_base };
    info.segments = {
      cs: { selector: v.code_selector, attrib: v.code_attributes, limit: v.code_limit, base: BigInt(v.code_base) },
      ds: { selector: v.data_selector, attrib: v.data_attributes, limit: v.data_limit, base: BigInt(v.data_base) },
      gdtr: { selector: 0, attrib: 0, limit: v.gdtr_limit, base: v.gdtr_base },
      idtr: { selector: 0, attrib: 0, limit: v.idtr_limit, base: v.idtr_base },
    };
  } else if (c.kind === 'cca') {
    const v = decodeCcaContext(c.data);
    info.registers = { ...v };
  } else if (c.kind === 'vbs') {
    info.registers = Object.fromEntries(c.registers.map((r) => [r.name ?? `0x${r.register_name.toString(16)}`, decodeVbsValue(r).u64]));
    info.registers['vtl'] = c.vtl;
  }
  return info;
}

/** Build the inspect report for a parsed file. */
export function inspectIgvm(file: IgvmFile): InspectReport {
  const src = file.source;
  const fixedSize = file.revision.format_version === 1 ? 24 : 32;
  const counts: Record<string, number> = {};
  for (const h of allHeaders(file)) counts[h.type] = (counts[h.type] ?? 0) + 1;
  const policies = file.initializations.filter((h) => h.type === 'GUEST_POLICY');
  const areas = new Map<number, InspectReport['parameter_areas'][number]>();
  for (const d of file.directives) {
    if (d.type === 'PARAMETER_AREA') areas.set(d.parameter_area_index, { parameter_area_index: d.parameter_area_index, number_of_bytes: d.number_of_bytes, initial_data: d.data !== undefined, parameters: [], inserts: [] });
    else if (d.type === 'PARAMETER_INSERT') areas.get(d.parameter_area_index)?.inserts.push({ gpa: d.gpa, compatibility_mask: d.compatibility_mask });
    else if ('byte_offset' in d) areas.get(d.parameter_area_index)?.parameters.push({ type: d.type, byte_offset: d.byte_offset });
  }
  return {
    fixed_header: {
      format_version: file.revision.format_version,
      architecture: architectureName(file.revision.architecture),
      page_size: file.revision.page_size,
      variable_header_offset: src?.variable_header_offset ?? fixedSize,
      variable_header_size: src?.variable_header_size ?? 0,
      total_file_size: src?.bytes.length ?? 0,
      checksum: src?.checksum ?? 0,
      checksum_ok: src ? computeChecksum(src.bytes, fixedSize, src.variable_header_offset, src.variable_header_size) === src.checksum : undefined,
    },
    platforms: file.platforms.map((p) => {
      const g = policies.find((x) => (x.compatibility_mask & p.compatibility_mask) !== 0);
      return {
        platform_type: platformTypeName(p.platform_type), compatibility_mask: p.compatibility_mask, highest_vtl: p.highest_vtl,
        platform_version: p.platform_version, shared_gpa_boundary: p.shared_gpa_boundary,
        ...(g ? { policy: { policy: g.policy, decoded: decodePolicy(p.platform_type, g.policy) } } : {}),
      };
    }),
    header_counts: counts,
    page_ranges: pageRanges(file.directives.filter((d): d is PageData => d.type === 'PAGE_DATA')),
    parameter_areas: [...areas.values()],
    vp_contexts: file.directives.filter((d): d is VpContext => d.type === 'VP_CONTEXT').map((h) => contextInfo(file, h)),
    snp_id_blocks: file.directives.flatMap((d) => d.type !== 'SNP_ID_BLOCK' ? [] : [{
      compatibility_mask: d.compatibility_mask, author_key_enabled: d.author_key_enabled, ld: toHex(d.ld), family_id: toHex(d.family_id),
      image_id: toHex(d.image_id), version: d.version, guest_svn: d.guest_svn, id_key_algorithm: d.id_key_algorithm,
      author_key_algorithm: d.author_key_algorithm, id_key_curve: new DataView(d.id_public_key.buffer, d.id_public_key.byteOffset).getUint32(0, true),
      id_public_key_qx: toHex(d.id_public_key.subarray(8, 56)), id_public_key_qy: toHex(d.id_public_key.subarray(80, 128)),
      id_key_signature_r: toHex(d.id_key_signature.subarray(0, 48)), id_key_signature_s: toHex(d.id_key_signature.subarray(72, 120)),
    }]),
    other_headers: allHeaders(file)
      .filter((h) => !['SUPPORTED_PLATFORM', 'GUEST_POLICY', 'PAGE_DATA', 'PARAMETER_AREA', 'PARAMETER_INSERT', 'VP_CONTEXT', 'SNP_ID_BLOCK'].includes(h.type) && !('byte_offset' in h))
      .map((h) => ({ ...h })),
  };
}
