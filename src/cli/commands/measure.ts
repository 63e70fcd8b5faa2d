// Placeholder for `igvm measure` (being written now; replaced wholesale by its implementation).
import type { CommandSpec } from '../framework.js';

export const measureCommand: CommandSpec = {
  name: 'measure',
  summary: 'not available yet',
  usage: '',
  description: '',
  positionals: [],
  options: [],
  examples: [],
  run(ctx) {
    ctx.err('igvm: error: measure is not available yet\n');
    return 2;
  },
};
