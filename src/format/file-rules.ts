// Whole-file rules the microsoft/igvm crate enforces after reading every record (IgvmFile::new; FORMAT.md §9.2). One rule per function.
import { ARCHITECTURE, PLATFORM_TYPE, architectureName, platformTypeName } from '../spec/constants.js';
import type { AnyHeader, IgvmFile, PageTableRelocation, RelocatableRegion } from '../model.js';
import { isActive, maskBits, platformForMask } from '../model.js';
import type { ProblemSink } from './problems.js';

interface RuleContext {
  file: IgvmFile;
  sink: ProblemSink;
}

function locate(ctx: RuleContext, h: AnyHeader): { offset: number; header_index?: number } {
  const rec = ctx.file.source?.records.get(h);
  return rec ? { offset: rec.offset, header_index: rec.index } : { offset: 0 };
}

function fileError(ctx: RuleContext, h: AnyHeader | undefined, code: string, crate: string, message: string): void {
  ctx.sink.add({ severity: 'error', code, message, crate, ...(h ? locate(ctx, h) : { offset: 0 }) });
}

function platformTypeUnique(ctx: RuleContext): void {
  const seen = new Set<number>();
  for (const p of ctx.file.platforms) {
    if (seen.has(p.platform_type))
      fileError(ctx, p, 'duplicate-platform-type', 'MultiplePlatformHeadersWithSameIsolation', `platform ${platformTypeName(p.platform_type)} is declared more than once`);
    seen.add(p.platform_type);
  }
}

function platformArchitecture(ctx: RuleContext): void {
  const arch = ctx.file.revision.architecture;
  for (const p of ctx.file.platforms) {
    const ok =
      p.platform_type === PLATFORM_TYPE.VSM_ISOLATION ||
      (p.platform_type === PLATFORM_TYPE.CCA ? arch === ARCHITECTURE.AARCH64 : arch === ARCHITECTURE.X64);
    if (!ok && p.platform_type <= PLATFORM_TYPE.CCA)
      fileError(ctx, p, 'platform-arch-unsupported', 'PlatformArchUnsupported', `platform ${platformTypeName(p.platform_type)} is not supported on architecture ${architectureName(arch)}`);
  }
}

function ccaPolicyRules(ctx: RuleContext): void {
  // The crate requires the platform named by 1 << bit (its mask → platform map) to be CCA for every bit of the mask.
  for (const h of ctx.file.initializations) {
    if (h.type !== 'CCA_POLICY' || !isActive(h)) continue;
    if (ctx.file.revision.architecture !== ARCHITECTURE.AARCH64) {
      fileError(ctx, h, 'header-arch', 'InvalidHeaderArch', `CCA_POLICY is only valid in AArch64 files (this file is ${architectureName(ctx.file.revision.architecture)})`);
      continue;
    }
    for (const b of maskBits(h.compatibility_mask))
      if (platformForMask(ctx.file.platforms, (1 << b) >>> 0)?.platform_type !== PLATFORM_TYPE.CCA) fileError(ctx, h, 'cca-policy-mask', `InvalidCcaPolicyCompatibilityMask(${(1 << b) >>> 0})`, `CCA_POLICY mask bit ${b} does not belong to a CCA platform`);
  }
}

function corimRules(ctx: RuleContext): void {
  const docs = new Set<number>();
  const sigs = new Set<number>();
  for (const h of ctx.file.initializations) {
    if ((h.type !== 'CORIM_DOCUMENT' && h.type !== 'CORIM_SIGNATURE') || !isActive(h)) continue;
    for (const b of maskBits(h.compatibility_mask)) {
      if (h.type === 'CORIM_DOCUMENT') {
        if (docs.has(b)) fileError(ctx, h, 'corim-multiple-documents', 'InvalidBinaryInitializationHeader(MultipleCorimDocuments)', `a second CORIM_DOCUMENT for mask bit ${b}`);
        docs.add(b);
      } else {
        if (!docs.has(b)) fileError(ctx, h, 'corim-missing-document', 'InvalidBinaryInitializationHeader(MissingCorimDocument)', `CORIM_SIGNATURE for mask bit ${b} comes before any CORIM_DOCUMENT for that bit`);
        else if (sigs.has(b)) fileError(ctx, h, 'corim-multiple-signatures', 'InvalidBinaryInitializationHeader(MultipleCorimSignatures)', `a second CORIM_SIGNATURE for mask bit ${b}`);
        sigs.add(b);
      }
    }
  }
}

function pageTableRegions(ctx: RuleContext): PageTableRelocation[] {
  return ctx.file.initializations.filter((h): h is PageTableRelocation => h.type === 'PAGE_TABLE_RELOCATION_REGION' && isActive(h));
}

function pageTableRelocationUnique(ctx: RuleContext): void {
  const seen = new Set<number>();
  for (const h of pageTableRegions(ctx)) {
    const bits = maskBits(h.compatibility_mask);
    if (bits.some((b) => seen.has(b)))
      fileError(ctx, h, 'multiple-page-table-regions', 'MultiplePageTableRelocationHeaders', `a second PAGE_TABLE_RELOCATION_REGION for mask ${'0x' + h.compatibility_mask.toString(16)}`);
    for (const b of bits) seen.add(b);
  }
}

function relocationRegionsDisjoint(ctx: RuleContext): void {
  const byBit = new Map<number, { start: bigint; last: bigint; h: AnyHeader }[]>();
  for (const h of ctx.file.initializations) {
    let start: bigint, size: bigint;
    if (h.type === 'RELOCATABLE_REGION' && isActive(h)) [start, size] = [h.relocation_region_gpa, h.relocation_region_size];
    else if (h.type === 'PAGE_TABLE_RELOCATION_REGION' && isActive(h)) [start, size] = [h.gpa, h.size];
    else continue;
    // The crate inserts `start..=start + size - 1` into a range_map_vec::RangeMap, computed with
    // wrapping u64 arithmetic (release build); RangeMap::insert panics on an empty (inverted) range.
    // So size 0 at gpa 0 becomes [0, u64::MAX], size 0 elsewhere or a range wrapping past 2^64 panics.
    const last = BigInt.asUintN(64, start + size - 1n);
    if (last < start) {
      ctx.sink.add({ severity: 'error', code: 'relocation-region-empty', crate: 'panic', ...locate(ctx, h), message: `${h.type} at 0x${start.toString(16)} with size 0x${size.toString(16)} gives an empty or wrapped range (the microsoft/igvm crate panics in RangeMap::insert)` });
      continue;
    }
    for (const b of maskBits(h.compatibility_mask)) {
      const list = byBit.get(b) ?? [];
      const other = list.find((x) => start <= x.last && x.start <= last);
      if (other) fileError(ctx, h, 'relocation-regions-overlap', 'RelocationRegionsOverlap', `${h.type} [0x${start.toString(16)}, 0x${last.toString(16)}] overlaps another relocation or page-table region for mask bit ${b}`);
      else list.push({ start, last, h });
      byBit.set(b, list);
    }
  }
}

function parameterAreaIndices(ctx: RuleContext): void {
  const declared = new Set<number>();
  const inserted = new Set<number>();
  for (const h of ctx.file.directives) {
    if (!isActive(h)) continue;
    if (h.type === 'PARAMETER_AREA') {
      if (declared.has(h.parameter_area_index))
        fileError(ctx, h, 'parameter-area-redeclared', 'InvalidParameterAreaIndex', `parameter area ${h.parameter_area_index} is declared twice`);
      declared.add(h.parameter_area_index);
    } else if ('parameter_area_index' in h) {
      const i = h.parameter_area_index;
      if (!declared.has(i))
        fileError(ctx, h, 'parameter-area-undeclared', 'InvalidParameterAreaIndex', `${h.type} refers to parameter area ${i}, which is not declared before it`);
      else if (inserted.has(i))
        fileError(ctx, h, 'parameter-area-already-inserted', 'InvalidParameterAreaIndex', `${h.type} refers to parameter area ${i}, which was already inserted`);
      else if (h.type === 'PARAMETER_INSERT') inserted.add(i);
    }
  }
}

function parameterInsertOutsidePageTables(ctx: RuleContext): void {
  const regions = pageTableRegions(ctx);
  if (regions.length === 0) return;
  for (const h of ctx.file.directives) {
    if (h.type !== 'PARAMETER_INSERT' || !isActive(h)) continue;
    // `region.gpa + region.size` wraps in the crate (release build).
    const r = regions.find((p) => (p.compatibility_mask & h.compatibility_mask) !== 0 && h.gpa >= p.gpa && h.gpa < BigInt.asUintN(64, p.gpa + p.size));
    if (r) fileError(ctx, h, 'parameter-insert-in-page-table', 'ParameterInsertInsidePageTableRegion', `PARAMETER_INSERT at 0x${h.gpa.toString(16)} lies inside the page-table relocation region at 0x${r.gpa.toString(16)}`);
  }
}

function vpContextArchitecture(ctx: RuleContext): void {
  const arch = ctx.file.revision.architecture;
  for (const h of ctx.file.directives) {
    if (h.type !== 'VP_CONTEXT') continue;
    const k = h.context.kind;
    if ((k === 'native-x64' && arch !== ARCHITECTURE.X64) || (k === 'cca' && arch !== ARCHITECTURE.AARCH64))
      fileError(ctx, h, 'header-arch', 'InvalidHeaderArch', `a ${k === 'cca' ? 'CCA' : 'native x64'} VP context is not valid in a ${architectureName(arch)} file`);
  }
}

function relocationsHaveVbsContext(ctx: RuleContext): void {
  const pending = ctx.file.initializations.filter(
    (h): h is RelocatableRegion | PageTableRelocation => (h.type === 'RELOCATABLE_REGION' || h.type === 'PAGE_TABLE_RELOCATION_REGION') && isActive(h),
  );
  if (pending.length === 0) return;
  let open = pending;
  for (const d of ctx.file.directives) {
    if (d.type !== 'VP_CONTEXT' || d.context.kind !== 'vbs') continue;
    const vtl = d.context.vtl;
    open = open.filter((r) => !(r.vp_index === 0 && r.vtl === vtl && (r.compatibility_mask & d.compatibility_mask) !== 0));
  }
  for (const r of open)
    fileError(ctx, r, 'no-matching-vp-context', 'NoMatchingVpContext', `${r.type} (mask 0x${r.compatibility_mask.toString(16)}, vp_index ${r.vp_index}, vtl ${r.vtl}) has no matching VBS VP context (only VSM_ISOLATION contexts with vp_index 0 can carry relocations)`);
}

export const FILE_RULES: readonly ((ctx: RuleContext) => void)[] = [
  platformTypeUnique,
  platformArchitecture,
  ccaPolicyRules,
  corimRules,
  pageTableRelocationUnique,
  relocationRegionsDisjoint,
  parameterAreaIndices,
  parameterInsertOutsidePageTables,
  vpContextArchitecture,
  relocationsHaveVbsContext,
];

export function checkFileRules(file: IgvmFile, sink: ProblemSink): void {
  for (const rule of FILE_RULES) rule({ file, sink });
}
