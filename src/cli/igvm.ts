#!/usr/bin/env node
// `igvm`: the igvmkit command line (subcommands declared as data in src/cli/commands).
import { readFileSync } from 'node:fs';
import { runCli, type ProgramSpec } from './framework.js';
import { installNodeHash } from '../io/node-hash.js';
import { installNodeEc } from '../io/node-ec.js';
import { inspectCommand } from './commands/inspect.js';
import { validateCommand } from './commands/validate.js';
import { loadCommand } from './commands/load.js';
import { measureCommand } from './commands/measure.js';
import { qemuArgsCommand } from './commands/qemu-args.js';
import { buildCommand } from './commands/build.js';
import { runCommand } from './commands/run.js';
import { verifyCommand } from './commands/verify.js';
import { signCommand } from './commands/sign.js';
import { diffCommand } from './commands/diff.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

export const program: ProgramSpec = {
  name: 'igvm',
  version: pkg.version,
  summary: 'inspect, validate, load (as QEMU does), measure, sign and diff IGVM (Independent Guest Virtual Machine) files',
  commands: [inspectCommand, validateCommand, loadCommand, measureCommand, qemuArgsCommand, buildCommand, runCommand, verifyCommand, signCommand, diffCommand],
};

installNodeHash();
installNodeEc();
process.exitCode = await runCli(program, process.argv.slice(2));
