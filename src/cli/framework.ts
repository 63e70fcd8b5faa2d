// Command-line framework: commands declared as data, generated help, exit codes.
//
// A program is a list of CommandSpec objects. runCli() parses `prog COMMAND [args]`, prints the
// generated help, and maps what a command throws to one line on stderr and an exit code:
//   0 ok, 1 problems found (IgvmError), 2 usage error, 3 I/O or internal failure.
// runCli() never calls process.exit(): the bin script does `process.exitCode = await runCli(...)`,
// so large piped output is fully flushed before Node exits.
import { IgvmError } from '../errors.js';
import { closest, parseArgs } from './parse-args.js';
import { commandHelp, programHelp } from './help.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, IoError, UsageError, type CliIo, type CommandContext, type CommandSpec, type ParsedArgs, type ProgramSpec, type Writer } from './spec.js';

export * from './spec.js';
export { parseArgs, parseSize, parseNumber } from './parse-args.js';
export { commandHelp, programHelp } from './help.js';


// ---------------------------------------------------------------------------------------------
// Running

let epipeGuard = false;

/** Writers for process.stdout/stderr; a closed pipe (`igvm dump x | head`) is not an error. */
export function nodeIo(): CliIo {
  if (!epipeGuard) {
    epipeGuard = true;
    for (const stream of [process.stdout, process.stderr]) {
      stream.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EPIPE') throw e;
      });
    }
  }
  return { stdout: process.stdout, stderr: process.stderr };
}

/** Writes `text` in a single write (no-op for empty text). */
export function writeOutput(writer: Writer, text: string): void {
  if (text !== '') writer.write(text);
}

function isHelpFlag(arg: string): boolean {
  return arg === '--help' || arg === '-h';
}

/**
 * Runs `prog COMMAND [args]`. `argv` excludes node and the script (process.argv.slice(2)).
 * Returns the exit code; the caller sets process.exitCode (never process.exit, which could cut off piped output).
 */
export async function runCli(program: ProgramSpec, argv: readonly string[], io: CliIo = nodeIo()): Promise<number> {
  const p = program.name;
  const fail = (message: string, hint: string): number => {
    io.stderr.write(`${p}: error: ${message} (run '${hint}')\n`);
    return EXIT_USAGE;
  };
  const find = (name: string): CommandSpec | undefined => program.commands.find((c) => c.name === name);
  const unknownCommand = (name: string): number => {
    const guess = closest(name, program.commands.map((c) => c.name));
    return fail(`unknown command '${name}'${guess ? `; did you mean '${guess}'?` : ''}`, `${p} --help`);
  };

  const first = argv[0];
  if (first === undefined) return fail('no command given', `${p} --help`);
  if (isHelpFlag(first)) {
    writeOutput(io.stdout, programHelp(program));
    return EXIT_OK;
  }
  if (first === '--version') {
    writeOutput(io.stdout, `${p} ${program.version}\n`);
    return EXIT_OK;
  }
  if (first === 'help') {
    const topic = argv[1];
    if (topic === undefined || isHelpFlag(topic)) {
      writeOutput(io.stdout, programHelp(program));
      return EXIT_OK;
    }
    const c = find(topic);
    if (c === undefined) return unknownCommand(topic);
    writeOutput(io.stdout, commandHelp(program, c));
    return EXIT_OK;
  }
  if (first.startsWith('-') && first !== '-') return fail(`expected a command before option '${first}'`, `${p} --help`);
  const command = find(first);
  if (command === undefined) return unknownCommand(first);

  const args = argv.slice(1);
  const dashdash = args.indexOf('--');
  if ((dashdash < 0 ? args : args.slice(0, dashdash)).some(isHelpFlag)) {
    writeOutput(io.stdout, commandHelp(program, command));
    return EXIT_OK;
  }
  const hint = `${p} ${command.name} --help`;

  const chunks: string[] = [];
  const flush = (): void => {
    writeOutput(io.stdout, chunks.join(''));
    chunks.length = 0;
  };
  try {
    const ctx: CommandContext = {
      args: parseArgs(command, args),
      out: (text) => {
        chunks.push(text);
      },
      err: (text) => {
        io.stderr.write(text);
      },
      program: p,
      command: command.name,
    };
    const code = await command.run(ctx);
    flush();
    return Number.isInteger(code) ? code : EXIT_FAILURE;
  } catch (e) {
    flush();
    return report(e);
  }

  function report(e: unknown): number {
    if (e instanceof UsageError) return fail(e.message, hint);
    if (e instanceof IoError) {
      io.stderr.write(`${p}: error: ${e.message}\n`);
      return EXIT_FAILURE;
    }
    if (e instanceof IgvmError) {
      io.stderr.write(`${p}: error: ${e.describe()}\n`);
      return command?.mapError ? command.mapError(e) : EXIT_PROBLEMS;
    }
    const message = e instanceof Error ? e.message : String(e);
    io.stderr.write(`${p}: internal error: ${message}\n`);
    const debug = process.env['IGVMKIT_DEBUG'];
    if (debug !== undefined && debug !== '' && e instanceof Error && e.stack !== undefined) io.stderr.write(`${e.stack}\n`);
    return EXIT_FAILURE;
  }
}

// ---------------------------------------------------------------------------------------------
// Typed access to parsed options (for strict TypeScript in commands)

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const v = args.options[name];
  return typeof v === 'string' ? v : undefined;
}

export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const v = args.options[name];
  return typeof v === 'number' ? v : undefined;
}

export function booleanOption(args: ParsedArgs, name: string): boolean {
  return args.options[name] === true;
}

export function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.options[name];
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : [];
}
