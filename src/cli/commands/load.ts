// Placeholder for `igvm load` (being written now; replaced wholesale by its implementation).
import type { CommandSpec } from '../framework.js';

export const loadCommand: CommandSpec = {
  name: 'load',
  summary: 'not available yet',
  usage: '',
  description: '',
  positionals: [],
  options: [],
  examples: [],
  run(ctx) {
    ctx.err('igvm: error: load is not available yet\n');
    return 2;
  },
};
