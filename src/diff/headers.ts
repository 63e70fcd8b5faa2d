// Fixed header, platform and initialization headers of two files compared (FORMAT.md §2, §4, §5).
import { decodePolicy } from '../spec/policy.js';
import type { IgvmFile, InitializationHeader, SupportedPlatform } from '../model.js';
import { platformForMask } from '../model.js';
import { architectureName, platformTypeName, PLATFORM_TYPE } from '../spec/constants.js';
import { alignKeys } from './align.js';
import { dataDiff, fieldChanges, headerFields, type DataDiff, type DiffValue, type FieldChange } from './fields.js';

export type Change = 'added' | 'removed' | 'changed';

/** Byte layout of one file (information only: two files with different layouts can be structurally equal). */
export interface FileLayout {
  total_file_size: number;
  checksum: number;
  variable_header_offset: number;
  variable_header_size: number;
}

export interface FixedHeaderDiff {
  /** format_version, architecture, page_size: structural. */
  changes: FieldChange[];
  /** Layouts of A and B (undefined for a model that was not parsed from bytes). */
  layout_a: FileLayout | undefined;
  layout_b: FileLayout | undefined;
  /** Both files came from bytes and the bytes are equal. */
  bytes_identical: boolean | undefined;
  /**
   * First byte offset outside the checksum field (reported on its own) where the files differ, and the part of A it
   * lies in; undefined when identical, not from bytes, or only the checksum differs.
   */
  first_byte_difference: { offset: number; region: 'fixed header' | 'variable headers' | 'record padding' | 'file data' } | undefined;
}

export interface PlatformDiff {
  change: Change;
  platform: string;
  /** The header in A / B (fields without layout). */
  a: Record<string, DiffValue> | undefined;
  b: Record<string, DiffValue> | undefined;
  /** Changed fields (change 'changed'). */
  fields: FieldChange[];
}

export interface InitializationDiff {
  change: Change;
  type: InitializationHeader['type'];
  compatibility_mask: number;
  /** Index among the initialization headers of A / B. */
  index_a: number | undefined;
  index_b: number | undefined;
  a: Record<string, DiffValue> | undefined;
  b: Record<string, DiffValue> | undefined;
  fields: FieldChange[];
  /** GUEST_POLICY: the decoded policy bits that changed (SEV-SNP, TDX, SEV / SEV-ES layouts). */
  policy_bits: FieldChange[];
  /** CoRIM document / signature payload. */
  data: DataDiff | undefined;
}

/** Offset of the checksum field in the fixed header (FORMAT.md §2). */
const CHECKSUM = 0x14;

function layoutOf(file: IgvmFile): FileLayout | undefined {
  const s = file.source;
  if (!s) return undefined;
  return { total_file_size: s.bytes.length, checksum: s.checksum, variable_header_offset: s.variable_header_offset, variable_header_size: s.variable_header_size };
}

export function diffFixedHeader(a: IgvmFile, b: IgvmFile): FixedHeaderDiff {
  const changes: FieldChange[] = [];
  if (a.revision.format_version !== b.revision.format_version) changes.push({ field: 'format_version', a: a.revision.format_version, b: b.revision.format_version });
  if (a.revision.architecture !== b.revision.architecture) {
    changes.push({ field: 'architecture', a: architectureName(a.revision.architecture), b: architectureName(b.revision.architecture) });
  }
  if (a.revision.page_size !== b.revision.page_size) changes.push({ field: 'page_size', a: a.revision.page_size, b: b.revision.page_size });
  const sa = a.source?.bytes;
  const sb = b.source?.bytes;
  let identical: boolean | undefined;
  let first: FixedHeaderDiff['first_byte_difference'];
  if (sa && sb && a.source) {
    let i = 0;
    const n = Math.min(sa.length, sb.length);
    while (i < n && sa[i] === sb[i]) i++;
    identical = i === n && sa.length === sb.length;
    if (i >= CHECKSUM && i < CHECKSUM + 4) {
      i = CHECKSUM + 4;
      while (i < n && sa[i] === sb[i]) i++;
    }
    if (!identical && (i < n || sa.length !== sb.length)) {
      const vho = a.source.variable_header_offset;
      const inHeaders = i >= vho && i < vho + a.source.variable_header_size;
      const padding = inHeaders && [...a.source.records.values()].some((r) => i >= r.offset + 8 + r.length && i < r.offset + 8 + r.length + r.padding.length);
      first = { offset: i, region: i < vho ? 'fixed header' : padding ? 'record padding' : inHeaders ? 'variable headers' : 'file data' };
    }
  }
  return { changes, layout_a: layoutOf(a), layout_b: layoutOf(b), bytes_identical: identical, first_byte_difference: first };
}

/** Keys "SEV_SNP", "TDX", … (a second header of the same type, which the crate rejects, gets "#2"). */
function platformKeys(ps: readonly SupportedPlatform[]): string[] {
  const seen = new Map<number, number>();
  return ps.map((p) => {
    const n = (seen.get(p.platform_type) ?? 0) + 1;
    seen.set(p.platform_type, n);
    return `${platformTypeName(p.platform_type)}${n > 1 ? `#${n}` : ''}`;
  });
}

export { decodePolicy } from '../spec/policy.js';

export function diffPlatforms(a: IgvmFile, b: IgvmFile): PlatformDiff[] {
  const ka = platformKeys(a.platforms);
  const kb = platformKeys(b.platforms);
  const out: PlatformDiff[] = [];
  for (const op of alignKeys(ka, kb)) {
    if (op.op === 'removed') out.push({ change: 'removed', platform: ka[op.a]!, a: headerFields(a.platforms[op.a]!), b: undefined, fields: [] });
    else if (op.op === 'added') out.push({ change: 'added', platform: kb[op.b]!, a: undefined, b: headerFields(b.platforms[op.b]!), fields: [] });
    else {
      const pa = a.platforms[op.a]!;
      const pb = b.platforms[op.b]!;
      const fields = fieldChanges(pa, pb);
      if (fields.length) out.push({ change: 'changed', platform: ka[op.a]!, a: headerFields(pa), b: headerFields(pb), fields });
    }
  }
  return out;
}

function initKey(h: InitializationHeader): string {
  switch (h.type) {
    case 'RELOCATABLE_REGION':
    case 'PAGE_TABLE_RELOCATION_REGION':
      return `${h.type}/${h.compatibility_mask}/${h.vp_index}/${h.vtl}`;
    default:
      return `${h.type}/${h.compatibility_mask}`;
  }
}

function policyBits(a: IgvmFile, b: IgvmFile, ha: InitializationHeader, hb: InitializationHeader): FieldChange[] {
  if (ha.type !== 'GUEST_POLICY' || hb.type !== 'GUEST_POLICY' || ha.policy === hb.policy) return [];
  const type = (platformForMask(b.platforms, hb.compatibility_mask) ?? platformForMask(a.platforms, ha.compatibility_mask))?.platform_type;
  const da = decodePolicy(type, ha.policy);
  const db = decodePolicy(type, hb.policy);
  return Object.keys(da).filter((k) => da[k] !== db[k]).map((k) => ({ field: `policy.${k}`, a: da[k], b: db[k] }));
}

export function diffInitializations(a: IgvmFile, b: IgvmFile): InitializationDiff[] {
  const ka = a.initializations.map(initKey);
  const kb = b.initializations.map(initKey);
  const out: InitializationDiff[] = [];
  for (const op of alignKeys(ka, kb)) {
    if (op.op === 'removed') {
      const h = a.initializations[op.a]!;
      out.push({ change: 'removed', type: h.type, compatibility_mask: h.compatibility_mask, index_a: op.a, index_b: undefined, a: headerFields(h), b: undefined, fields: [], policy_bits: [], data: undefined });
    } else if (op.op === 'added') {
      const h = b.initializations[op.b]!;
      out.push({ change: 'added', type: h.type, compatibility_mask: h.compatibility_mask, index_a: undefined, index_b: op.b, a: undefined, b: headerFields(h), fields: [], policy_bits: [], data: undefined });
    } else {
      const ha = a.initializations[op.a]!;
      const hb = b.initializations[op.b]!;
      const fields = fieldChanges(ha, hb);
      const data = 'data' in ha && 'data' in hb ? dataDiff(ha.data, hb.data) : undefined;
      if (fields.length || data) {
        out.push({
          change: 'changed', type: ha.type, compatibility_mask: ha.compatibility_mask, index_a: op.a, index_b: op.b, a: headerFields(ha), b: headerFields(hb),
          fields, policy_bits: policyBits(a, b, ha, hb), data,
        });
      }
    }
  }
  return out;
}
