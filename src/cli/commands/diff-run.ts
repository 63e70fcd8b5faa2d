// `igvm diff` implementation, loaded when the command runs (FORMAT.md §2–§8, MEASUREMENT.md).
import { UsageError, booleanOption, numberOption, stringOption, type CommandContext } from '../framework.js';
import type { SnpVmm } from '../../measure/snp/types.js';
import { readInputShared } from '../../io/files.js';
import { installParallelNodeHash } from '../../io/parallel-hash.js';
import { parseIgvm } from '../../format/index.js';
import { namingFile } from '../../errors.js';
import type { IgvmFile } from '../../model.js';
import { diffIgvm } from '../../diff/index.js';
import { renderDiff } from '../../diff/render.js';
import { toJson } from '../json.js';

function read(path: string): IgvmFile {
  const bytes = readInputShared(path);
  return namingFile(path, () => parseIgvm(bytes));
}

/** The command's body (see diff.ts for its options). */
export function runDiff(ctx: CommandContext): number {
  const [pathA, pathB] = ctx.args.positionals;
  if (pathA === undefined || pathB === undefined) throw new UsageError('expected two files: A B');
  if (pathA === '-' && pathB === '-') throw new UsageError('only one of A and B can be standard input');
  const limit = numberOption(ctx.args, 'limit') ?? 8;
  if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit ${limit}: expected a whole number ≥ 0`);
  const measure = booleanOption(ctx.args, 'measure');
  const vmm = (stringOption(ctx.args, 'vmm') ?? 'igvm') as SnpVmm;
  const vcpus = numberOption(ctx.args, 'vcpus') ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1 || vcpus > 0x10000) throw new UsageError(`option '--vcpus' expects a whole number from 1 to 65536, got ${vcpus}`);
  if (measure) installParallelNodeHash();
  const a = read(pathA);
  const b = read(pathB);
  const diff = diffIgvm(a, b, { limit, measure, vmm, vcpus });
  ctx.out(booleanOption(ctx.args, 'json') ? toJson(diff) : renderDiff(diff, pathA, pathB) + '\n');
  return diff.equal ? 0 : 1;
}
