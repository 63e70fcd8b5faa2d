// Spec rules on header contents that the crate does not check: masks, policies, flags, pages, parameters, VP contexts (FORMAT.md §4–§7, §9.3).
import { PLATFORM_TYPE, PAGE_DATA_FLAGS, PAGE_DATA_FLAGS_RESERVED, platformTypeName } from '../spec/constants.js';
import { headerMask, maskBits, isActive, type ParameterArea } from '../model.js';
import { hx, type Rule } from './context.js';

const declaredMask = (ctx: Parameters<Rule>[0]) => ctx.file.platforms.reduce((m, p) => (m | p.compatibility_mask) >>> 0, 0);

export const maskZeroDropped: Rule = (ctx) => {
  for (const h of ctx.headers)
    if (!isActive(h)) ctx.warn('mask-zero-dropped', `${h.type} has compatibility_mask 0: it applies to no platform and the microsoft/igvm crate silently drops it`, h, 'compatibility_mask');
};

export const maskNamesDeclaredPlatforms: Rule = (ctx) => {
  const declared = declaredMask(ctx);
  let count = 0;
  for (const h of ctx.headers) {
    const m = headerMask(h);
    if (m === undefined || m === 0 || (m & ~declared) === 0) continue;
    if (count++ < 10) ctx.warn('mask-undeclared-platform', `${h.type} compatibility_mask ${hx(m)} has bits ${hx((m & ~declared) >>> 0)} that no SUPPORTED_PLATFORM declares`, h, 'compatibility_mask');
  }
  if (count > 10) ctx.warn('mask-undeclared-platform', `${count - 10} more headers have compatibility_mask bits no platform declares`);
};

export const platformMasksDistinct: Rule = (ctx) => {
  const seen = new Map<number, string>();
  for (const p of ctx.file.platforms) {
    const other = seen.get(p.compatibility_mask);
    if (other !== undefined) ctx.warn('duplicate-platform-mask', `platforms ${other} and ${platformTypeName(p.platform_type)} share compatibility_mask ${hx(p.compatibility_mask)}`, p, 'compatibility_mask');
    else seen.set(p.compatibility_mask, platformTypeName(p.platform_type));
  }
};

export const platformVtlAndBoundary: Rule = (ctx) => {
  for (const p of ctx.file.platforms) {
    const t = p.platform_type;
    if (p.highest_vtl === 2 && t !== PLATFORM_TYPE.VSM_ISOLATION && t !== PLATFORM_TYPE.SEV_SNP && t !== PLATFORM_TYPE.TDX)
      ctx.warn('highest-vtl-unsupported', `platform ${platformTypeName(t)} declares highest_vtl 2, but only VSM_ISOLATION, SEV_SNP and TDX can host VTL2`, p, 'highest_vtl');
    const b = p.shared_gpa_boundary;
    if (b !== 0n && (b & (b - 1n)) !== 0n)
      ctx.warn('shared-gpa-boundary-not-power-of-two', `shared_gpa_boundary ${hx(b)} is not a power of two (it is the address bit that selects shared memory)`, p, 'shared_gpa_boundary');
  }
};

const POLICY_PLATFORMS: readonly number[] = [PLATFORM_TYPE.SEV_SNP, PLATFORM_TYPE.TDX, PLATFORM_TYPE.SEV, PLATFORM_TYPE.SEV_ES];

export const guestPolicies: Rule = (ctx) => {
  const policies = ctx.file.initializations.filter((h) => h.type === 'GUEST_POLICY');
  for (const p of ctx.file.platforms) {
    const covering = policies.filter((g) => (g.compatibility_mask & p.compatibility_mask) !== 0);
    if (covering.length === 0 && (p.platform_type === PLATFORM_TYPE.SEV_SNP || p.platform_type === PLATFORM_TYPE.TDX))
      ctx.warn('missing-guest-policy', `platform ${platformTypeName(p.platform_type)} has no GUEST_POLICY (measurement tools such as the crate's require one)`, p);
    if (covering.length > 1) ctx.warn('multiple-guest-policies', `platform ${platformTypeName(p.platform_type)} is covered by ${covering.length} GUEST_POLICY headers`, covering[1]);
    for (const g of covering) {
      if (!POLICY_PLATFORMS.includes(p.platform_type))
        ctx.warn('guest-policy-unused', `GUEST_POLICY applies to platform ${platformTypeName(p.platform_type)}, which has no guest policy`, g, 'compatibility_mask');
      if (p.platform_type === PLATFORM_TYPE.SEV_SNP && ((g.policy >> 17n) & 1n) === 0n)
        ctx.warn('snp-policy-bit17', `SEV-SNP policy ${hx(g.policy)} has bit 17 clear; it must be one or SNP_LAUNCH_START fails`, g, 'policy');
    }
  }
};

export const pageDataFlags: Rule = (ctx) => {
  let reserved = 0;
  let large = 0;
  let first: (typeof ctx.file.directives)[number] | undefined;
  let firstLarge: typeof first;
  for (const h of ctx.file.directives) {
    if (h.type !== 'PAGE_DATA') continue;
    if (h.flags & PAGE_DATA_FLAGS_RESERVED) { reserved++; first ??= h; }
    if (h.flags & PAGE_DATA_FLAGS.IS_2MB_PAGE) { large++; firstLarge ??= h; }
  }
  if (reserved) ctx.warn('page-flags-reserved', `${reserved} PAGE_DATA header(s) set reserved flag bits 3–31`, first, 'flags');
  if (large) ctx.warn('page-2mb-unsupported', `${large} PAGE_DATA header(s) set IS_2MB_PAGE; the crate and loaders only read 4 KiB of data per page`, firstLarge, 'flags');
};

export const pageDataTypeForPlatform: Rule = (ctx) => {
  const snpMask = ctx.file.platforms.filter((p) => p.platform_type === PLATFORM_TYPE.SEV_SNP).reduce((m, p) => m | p.compatibility_mask, 0);
  for (const h of ctx.file.directives) {
    if (h.type !== 'PAGE_DATA' || h.data_type === 0 || h.data_type > 3) continue;
    const others = h.compatibility_mask & ~snpMask;
    if (others !== 0) ctx.warn('page-data-type-platform', `PAGE_DATA at ${hx(h.gpa)} has data_type ${h.data_type} (SNP-only) but its mask covers non-SNP platforms ${hx(others >>> 0)}`, h, 'data_type');
  }
};

export const reservedBitsDropped: Rule = (ctx) => {
  for (const h of ctx.headers) {
    if (h.type === 'REQUIRED_MEMORY' && h.flags & ~1)
      ctx.warn('reserved-flags-dropped', `REQUIRED_MEMORY flags ${hx(h.flags)} set reserved bits; the crate drops them`, h, 'flags');
    if (h.type === 'RELOCATABLE_REGION' && h.flags & ~7)
      ctx.warn('reserved-flags-dropped', `RELOCATABLE_REGION flags ${hx(h.flags)} set reserved bits; the crate drops them`, h, 'flags');
    if (h.type === 'VP_CONTEXT' && h.reserved !== 0) ctx.warn('reserved-field-ignored', `VP_CONTEXT reserved is ${hx(h.reserved)}, should be zero`, h, 'reserved');
    if (h.type === 'CCA_POLICY' && (h.hash_algorithm > 2 || h.lfa_policy > 1))
      ctx.warn('cca-policy-values', `CCA_POLICY hash_algorithm ${h.hash_algorithm} / lfa_policy ${h.lfa_policy} are not defined values`, h);
    if (h.type === 'ERROR_RANGE') ctx.warn('error-range-not-serializable', 'ERROR_RANGE is parsed by the crate but its serializer cannot write it (todo!)', h);
  }
};

/** Pages the same platform would receive twice: PAGE_DATA pages, parameter-insert areas and VMSA pages per mask bit. */
export const overlappingPages: Rule = (ctx) => {
  const areaSize = new Map<number, bigint>();
  for (const h of ctx.file.directives) if (h.type === 'PARAMETER_AREA') areaSize.set(h.parameter_area_index, h.number_of_bytes);
  const byBit = new Map<number, { start: bigint; end: bigint; h: (typeof ctx.file.directives)[number] }[]>();
  const add = (mask: number, start: bigint, size: bigint, h: (typeof ctx.file.directives)[number]) => {
    for (const b of maskBits(mask)) {
      let l = byBit.get(b);
      if (!l) byBit.set(b, (l = []));
      l.push({ start, end: start + size, h });
    }
  };
  for (const h of ctx.file.directives) {
    if (h.type === 'PAGE_DATA') add(h.compatibility_mask, h.gpa, 0x1000n, h);
    else if (h.type === 'PARAMETER_INSERT') add(h.compatibility_mask, h.gpa, areaSize.get(h.parameter_area_index) ?? 0x1000n, h);
    else if (h.type === 'VP_CONTEXT' && h.context.kind === 'vmsa') add(h.compatibility_mask, h.gpa, 0x1000n, h);
  }
  const names = new Map(ctx.file.platforms.flatMap((p) => maskBits(p.compatibility_mask).map((b) => [b, platformTypeName(p.platform_type)] as const)));
  for (const [bit, list] of byBit) {
    list.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
    let count = 0;
    let example = '';
    let exampleHeader: (typeof list)[number]['h'] | undefined;
    let maxEnd = -1n;
    let prev: (typeof list)[number] | undefined;
    for (const x of list) {
      if (prev && x.start < maxEnd) {
        if (count++ === 0) {
          example = `${x.h.type} at ${hx(x.start)} overlaps ${prev.h.type} at ${hx(prev.start)}`;
          exampleHeader = x.h;
        }
      }
      if (x.end > maxEnd) { maxEnd = x.end; prev = x; }
    }
    if (count) ctx.warn('overlapping-pages', `${count} overlapping page range(s) for mask bit ${bit} (${names.get(bit) ?? 'undeclared platform'}): ${example}`, exampleHeader);
  }
};

const PARAMETER_MIN_SIZE: Record<string, number> = { VP_COUNT_PARAMETER: 4, ENVIRONMENT_INFO_PARAMETER: 4, MEMORY_MAP: 24, MMIO_RANGES: 32 };

export const parameterUsage: Rule = (ctx) => {
  const areas = new Map<number, ParameterArea>();
  const inserted = new Set<number>();
  for (const h of ctx.file.directives) {
    if (h.type === 'PARAMETER_AREA') areas.set(h.parameter_area_index, h);
    else if (h.type === 'PARAMETER_INSERT') inserted.add(h.parameter_area_index);
    else if ('byte_offset' in h) {
      const area = areas.get(h.parameter_area_index);
      if (!area) continue;
      const need = BigInt(h.byte_offset) + BigInt(PARAMETER_MIN_SIZE[h.type] ?? 1);
      if (need > area.number_of_bytes)
        ctx.warn('parameter-offset-beyond-area', `${h.type} byte_offset ${hx(h.byte_offset)} does not leave room inside parameter area ${h.parameter_area_index} (${hx(area.number_of_bytes)} bytes)`, h, 'byte_offset');
    }
  }
  for (const [i, a] of areas) if (!inserted.has(i)) ctx.warn('parameter-area-not-inserted', `parameter area ${i} is declared but never inserted`, a);
};

export const vpContextCounts: Rule = (ctx) => {
  for (const p of ctx.file.platforms) {
    const contexts = ctx.file.directives.filter((h) => h.type === 'VP_CONTEXT' && h.compatibility_mask === p.compatibility_mask);
    const seen = new Set<number>();
    for (const c of contexts) {
      if (c.type !== 'VP_CONTEXT') continue;
      if (seen.has(c.vp_index)) ctx.warn('duplicate-vp-context', `platform ${platformTypeName(p.platform_type)} has more than one VP context for vp_index ${c.vp_index}`, c);
      seen.add(c.vp_index);
    }
    if (contexts.length === 0 && (p.platform_type === PLATFORM_TYPE.SEV_SNP || p.platform_type === PLATFORM_TYPE.SEV_ES))
      ctx.warn('missing-vp-context', `platform ${platformTypeName(p.platform_type)} has no VP context (a VMSA is needed to start the guest)`, p);
  }
};

export const snpIdBlockFields: Rule = (ctx) => {
  for (const h of ctx.file.directives) {
    if (h.type !== 'SNP_ID_BLOCK') continue;
    if (h.reserved.some((b) => b !== 0)) ctx.warn('reserved-field-ignored', 'SNP_ID_BLOCK reserved bytes are not zero', h, 'reserved');
    if (h.id_key_algorithm !== 1) ctx.warn('snp-id-block-algorithm', `SNP_ID_BLOCK id_key_algorithm is ${h.id_key_algorithm}; only 1 (ECDSA P-384 with SHA-384) is defined`, h, 'id_key_algorithm');
    if (h.author_key_enabled > 1) ctx.warn('snp-id-block-author-flag', `SNP_ID_BLOCK author_key_enabled is ${h.author_key_enabled}, expected 0 or 1`, h, 'author_key_enabled');
  }
};
