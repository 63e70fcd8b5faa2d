// `igvm validate FILE... [--json] [--strict]`: the crate's verdict plus spec-only warnings, as exit codes (FORMAT.md §9).
import { IoError, type CommandSpec } from '../framework.js';
import type { Problem } from '../../format/problems.js';

export const validateCommand: CommandSpec = {
  name: 'validate',
  summary: 'check files against every rule of the format; exit 1 if any has errors',
  usage: 'FILE... [--json] [--strict]',
  description:
    'Errors are the rules the microsoft/igvm crate enforces when it parses a file (a file with errors is one the crate rejects); ' +
    'warnings are spec rules the crate does not check (non-zero padding, overlapping pages, unreferenced data, …). ' +
    'Exit 0 when every file is valid, 1 when any file has errors (with --strict: errors or warnings), 2 usage, 3 when a file cannot be read (the others are still validated and reported).',
  positionals: [{ name: 'FILE', description: 'IGVM files', variadic: true }],
  options: [
    { name: 'json', type: 'boolean', description: 'print one result object per file: {file, valid, errors, warnings, problems}' },
    { name: 'strict', type: 'boolean', description: 'count warnings as failures' },
    { name: 'quiet', short: 'q', type: 'boolean', description: 'print only files with problems' },
  ],
  examples: [
    { command: 'igvm validate guest.igvm', description: 'validate one file' },
    { command: 'igvm validate --strict --json a.igvm b.igvm', description: 'machine-readable results; warnings fail too' },
  ],
  async run(ctx) {
    // Loaded when the command runs, so the other commands start without these modules.
    const [{ readInput }, { validateIgvm }, { toJson }] = await Promise.all([
      import('../../io/files.js'), import('../../validate/index.js'), import('../json.js'),
    ]);
    const strict = ctx.args.options['strict'] === true;
    const results: ValidateFileResult[] = [];
    let unreadable = 0;
    for (const path of ctx.args.positionals) {
      let bytes: Uint8Array;
      try {
        bytes = readInput(path);
      } catch (e) {
        if (!(e instanceof IoError)) throw e;
        unreadable++;
        ctx.err(`${ctx.program}: error: ${e.message}\n`);
        continue;
      }
      const r = validateIgvm(bytes);
      results.push({ file: path, valid: r.valid, errors: r.errors, warnings: r.warnings, problems: r.problems });
    }
    if (ctx.args.options['json']) ctx.out(toJson(results));
    else {
      const lines: string[] = [];
      for (const r of results) {
        if (ctx.args.options['quiet'] && r.problems.length === 0) continue;
        const verdict = r.errors > 0 ? 'INVALID' : r.warnings > 0 ? 'valid with warnings' : 'valid';
        lines.push(`${r.file}: ${verdict} (${r.errors} error${r.errors === 1 ? '' : 's'}, ${r.warnings} warning${r.warnings === 1 ? '' : 's'})`);
        for (const p of r.problems) {
          const where = [`0x${p.offset.toString(16)}`, p.header_index !== undefined ? `header ${p.header_index}` : '', p.path ?? ''].filter(Boolean).join(' ');
          lines.push(`  ${p.severity}[${p.code}] at ${where}: ${p.message}${p.crate && p.crate !== 'panic' ? ` (crate: ${p.crate})` : ''}`);
        }
      }
      ctx.out(lines.length ? lines.join('\n') + '\n' : '');
    }
    if (unreadable > 0) return 3;
    const failed = results.some((r) => r.errors > 0 || (strict && r.warnings > 0));
    return failed ? 1 : 0;
  },
};

export interface ValidateFileResult {
  file: string;
  valid: boolean;
  errors: number;
  warnings: number;
  problems: Problem[];
}
