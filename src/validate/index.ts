// Validation: the crate's verdict (errors) plus the spec rules it does not check (warnings) (FORMAT.md §9).
import { readIgvm } from '../format/parse.js';
import type { Problem } from '../format/problems.js';
import type { IgvmFile } from '../model.js';
import { makeRuleContext, type Rule } from './context.js';
import { headerOffsetPlacement, recordPaddingZero, unreferencedData } from './layout-rules.js';
import {
  maskZeroDropped, maskNamesDeclaredPlatforms, platformMasksDistinct, platformVtlAndBoundary, guestPolicies, pageDataFlags,
  pageDataTypeForPlatform, reservedBitsDropped, overlappingPages, parameterUsage, vpContextCounts, snpIdBlockFields,
} from './header-rules.js';

/** Every warning rule, in the order they run. */
export const SPEC_RULES: readonly Rule[] = [
  headerOffsetPlacement, recordPaddingZero, unreferencedData, maskZeroDropped, maskNamesDeclaredPlatforms, platformMasksDistinct,
  platformVtlAndBoundary, guestPolicies, pageDataFlags, pageDataTypeForPlatform, reservedBitsDropped, overlappingPages, parameterUsage,
  vpContextCounts, snpIdBlockFields,
];

export interface ValidationResult {
  /** True when the microsoft/igvm crate would accept the file (no errors). */
  valid: boolean;
  errors: number;
  warnings: number;
  problems: Problem[];
  /** The model when the file could be read (possibly partial when there are errors). */
  file: IgvmFile | undefined;
}

/** Validate IGVM bytes: every crate rule as errors, every spec-only rule as warnings. Never throws for malformed input. */
export function validateIgvm(bytes: Uint8Array): ValidationResult {
  const { file, problems } = readIgvm(bytes, false);
  const errorsFound = problems.some((p) => p.severity === 'error');
  if (file && !errorsFound) {
    const ctx = makeRuleContext(file, bytes, problems);
    for (const rule of SPEC_RULES) rule(ctx);
  }
  problems.sort((a, b) => (a.severity === b.severity ? a.offset - b.offset : a.severity === 'error' ? -1 : 1));
  const errors = problems.filter((p) => p.severity === 'error').length;
  return { valid: errors === 0, errors, warnings: problems.length - errors, problems, file };
}
