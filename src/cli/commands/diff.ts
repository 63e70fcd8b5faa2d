// `igvm diff`: placeholder, being implemented (issue 6).
import type { CommandSpec } from '../framework.js';

export const diffCommand: CommandSpec = {
  name: 'diff',
  summary: 'not implemented yet',
  usage: 'FILE',
  description: 'Not implemented yet.',
  positionals: [{ name: 'FILE', description: 'IGVM file' }],
  options: [],
  examples: [],
  async run(ctx) {
    ctx.err('igvm diff: not implemented yet\n');
    return 3;
  },
};
