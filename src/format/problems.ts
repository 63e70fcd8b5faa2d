// Validation problems: one record per broken rule, with a stable code, file offset, header index and message (FORMAT.md §9).
import { IgvmError } from '../errors.js';

export type Severity = 'error' | 'warning';

export interface Problem {
  severity: Severity;
  /** Stable identifier, e.g. "page-data-unaligned-gpa". */
  code: string;
  message: string;
  /** Absolute file offset of the offending bytes. */
  offset: number;
  /** Index of the variable header (0-based, in file order), when the problem is about one. */
  header_index?: number;
  /** Field path, e.g. "directives[4].gpa". */
  path?: string;
  /** The microsoft/igvm crate error this corresponds to (errors only), e.g. "InvalidChecksum". */
  crate?: string;
}

/** Collects problems; in strict mode the first error is thrown as an IgvmError. */
export class ProblemSink {
  readonly problems: Problem[] = [];
  constructor(private readonly throwOnError: boolean) {}

  add(p: Problem): void {
    if (p.severity === 'error' && this.throwOnError) {
      throw new IgvmError(p.code, p.message, {
        offset: p.offset,
        ...(p.path !== undefined ? { path: p.path } : {}),
        ...(p.crate !== undefined ? { crate: p.crate } : {}),
      });
    }
    this.problems.push(p);
  }

  get errorCount(): number {
    let n = 0;
    for (const p of this.problems) if (p.severity === 'error') n++;
    return n;
  }
}

export function hasErrors(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}
