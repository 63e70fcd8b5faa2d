// Placeholder for `igvm qemu-args` (being written now; replaced wholesale by its implementation).
import type { CommandSpec } from '../framework.js';

export const qemuArgsCommand: CommandSpec = {
  name: 'qemu-args',
  summary: 'not available yet',
  usage: '',
  description: '',
  positionals: [],
  options: [],
  examples: [],
  run(ctx) {
    ctx.err('igvm: error: qemu-args is not available yet\n');
    return 2;
  },
};
