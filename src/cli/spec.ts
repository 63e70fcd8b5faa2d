// Command-line framework declarations: commands, options and programs as data; exit codes; the usage and I/O error classes.
import type { IgvmError } from '../errors.js';
// ---------------------------------------------------------------------------------------------
// Declarations

export type OptionType = 'boolean' | 'string' | 'number' | 'size' | 'choice';

/** A parsed option value. Repeatable options give arrays (number[] for number/size options). */
export type OptionValue = string | number | boolean | string[] | number[] | undefined;

export interface OptionSpec {
  /** Long name without dashes, e.g. 'json' for --json. */
  name: string;
  /** One-character short name without the dash, e.g. 'o' for -o. */
  short?: string;
  /** 'size' accepts 4096, 0x1000, 512M, 2G (K/M/G/T are powers of 1024) and gives bytes. */
  type: OptionType;
  /** Allowed values of a 'choice' option. */
  choices?: readonly string[];
  /** May be given several times; the value is then an array (empty when never given). */
  repeatable?: boolean;
  /** Value when the option is not given. A string default of a number/size option is parsed. */
  default?: string | number | boolean | readonly string[];
  /** Placeholder in help, e.g. 'FILE'. */
  valueName?: string;
  description: string;
}

export interface PositionalSpec {
  name: string;
  description: string;
  /** Takes all remaining arguments (only the last positional). */
  variadic?: boolean;
  /** May be absent (only trailing positionals). */
  optional?: boolean;
}

export interface ExampleSpec {
  /** The command line as typed, e.g. 'igvm inspect guest.igvm --json' (the program name is prefixed when missing). */
  command: string;
  description: string;
}

export interface ParsedArgs {
  /** Positional arguments, including those after `--`. */
  positionals: string[];
  /** Options by long name. Booleans default to false, repeatables to []. */
  options: Record<string, OptionValue>;
  /** Arguments after `--` (also present at the end of `positionals`), for pass-through. */
  rest: string[];
}

export interface CommandContext {
  args: ParsedArgs;
  /** Buffered stdout: everything is written in one write when the command returns. */
  out(text: string): void;
  /** Stderr, written immediately. */
  err(text: string): void;
  /** Program name, for messages. */
  program: string;
  /** Command name. */
  command: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  /** Usage after `prog name`, e.g. 'FILE [--json]'. */
  usage: string;
  description?: string;
  positionals: readonly PositionalSpec[];
  options: readonly OptionSpec[];
  examples: readonly ExampleSpec[];
  /** Returns the exit code. */
  run(ctx: CommandContext): Promise<number> | number;
  /** Exit code for an IgvmError thrown by run (default 1). The error line is printed either way. */
  mapError?(error: IgvmError): number;
}

export interface ProgramSpec {
  name: string;
  version: string;
  summary: string;
  commands: readonly CommandSpec[];
}

/** Anything with a write(string) method: process.stdout, or a capture in tests. */
export interface Writer {
  write(text: string): unknown;
}

export interface CliIo {
  stdout: Writer;
  stderr: Writer;
}

export const EXIT_OK = 0;
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 3;

/** A mistake in how the command was invoked (exit 2). Thrown by the parser, and by commands. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A file could not be read or written (exit 3). The message is complete, e.g. "cannot read 'x.igvm': no such file". */
export class IoError extends Error {
  readonly file: string;

  constructor(message: string, file: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'IoError';
    this.file = file;
  }
}

