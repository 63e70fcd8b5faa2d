// Shared context for validation rules: the parsed file, where each header sits, and warning helpers (FORMAT.md §9.3).
import type { AnyHeader, IgvmFile } from '../model.js';
import type { Problem } from '../format/problems.js';

export interface RuleContext {
  file: IgvmFile;
  bytes: Uint8Array;
  /** Every header in file order (platforms, initializations, directives), computed once for all rules. */
  headers: readonly AnyHeader[];
  /** Report a warning about header `at` (or at a file offset); `offset` overrides the header's record offset. */
  warn(code: string, message: string, at?: AnyHeader | number, field?: string, offset?: number): void;
}

export type Rule = (ctx: RuleContext) => void;

export function makeRuleContext(file: IgvmFile, bytes: Uint8Array, out: Problem[]): RuleContext {
  const lists: [string, AnyHeader[]][] = [
    ['platforms', file.platforms],
    ['initializations', file.initializations],
    ['directives', file.directives],
  ];
  const pathOf = new Map<AnyHeader, string>();
  for (const [name, list] of lists) list.forEach((h, i) => pathOf.set(h, `${name}[${i}]`));
  return {
    file,
    bytes,
    headers: lists.flatMap(([, list]) => list),
    warn(code, message, at, field, offset) {
      const p: Problem = { severity: 'warning', code, message, offset: 0 };
      if (typeof at === 'number') p.offset = at;
      else if (at) {
        const rec = file.source?.records.get(at);
        if (rec) {
          p.offset = rec.offset;
          p.header_index = rec.index;
        }
        const path = pathOf.get(at);
        if (path !== undefined) p.path = field ? `${path}.${field}` : path;
      }
      if (offset !== undefined) p.offset = offset;
      out.push(p);
    },
  };
}

export const hx = (v: number | bigint): string => '0x' + v.toString(16);
