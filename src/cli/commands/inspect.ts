// `igvm inspect FILE [--json]`: what a person wants to see first in an IGVM file (FORMAT.md §2–§7).
import type { CommandSpec } from '../framework.js';
import { namingFile } from '../../errors.js';

export const inspectCommand: CommandSpec = {
  name: 'inspect',
  summary: 'show the fixed header, platforms, page ranges, parameters, VP contexts and ID block',
  usage: 'FILE [--json]',
  description:
    'Parses FILE as the microsoft/igvm crate does (an invalid file is an error, exit 1; use `igvm validate` to list every problem) and prints a summary. ' +
    'Page data is collapsed into GPA ranges per compatibility mask, data type and flags. With --json, prints {report, model}: the same summary plus every header field, with file data given as {file_offset, size}.',
  positionals: [{ name: 'FILE', description: 'IGVM file (- for standard input)' }],
  options: [{ name: 'json', type: 'boolean', description: 'print the report and the full model as JSON' }],
  examples: [
    { command: 'igvm inspect guest.igvm', description: 'summary of a file' },
    { command: 'igvm inspect guest.igvm --json | jq .report.vp_contexts', description: 'VP contexts as JSON' },
  ],
  async run(ctx) {
    // Loaded when the command runs, so the other commands start without these modules.
    const [{ readInput }, { parseIgvm }, { inspectIgvm }, { renderInspect }, { modelToJson }, { toJson }] = await Promise.all([
      import('../../io/files.js'), import('../../format/index.js'), import('../../inspect/report.js'),
      import('../../inspect/render.js'), import('../../inspect/model-json.js'), import('../json.js'),
    ]);
    const path = ctx.args.positionals[0]!;
    const bytes = readInput(path);
    const file = namingFile(path, () => parseIgvm(bytes));
    const report = inspectIgvm(file);
    ctx.out(ctx.args.options['json'] ? toJson({ report, model: modelToJson(file) }) : renderInspect(report, path));
    return 0;
  },
};
