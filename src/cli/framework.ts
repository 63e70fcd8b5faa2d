// Command-line framework: commands declared as data, generated help, exit codes.
//
// A program is a list of CommandSpec objects. runCli() parses `prog COMMAND [args]`, prints the
// generated help, and maps what a command throws to one line on stderr and an exit code:
//   0 ok, 1 problems found (IgvmError), 2 usage error, 3 I/O or internal failure.
// runCli() never calls process.exit(): the bin script does `process.exitCode = await runCli(...)`,
// so large piped output is fully flushed before Node exits.
import { IgvmError } from '../errors.js';

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

// ---------------------------------------------------------------------------------------------
// Value parsing

const SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40 };

/** Parses 4096, 0x1000, 512M, 2G, 4KiB, 1T (binary units) into bytes; undefined when malformed or unsafe. */
export function parseSize(text: string): number | undefined {
  const hex = /^0x([0-9a-f]+)$/i.exec(text);
  if (hex) {
    const n = Number.parseInt(hex[1] ?? '', 16);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const m = /^(\d+)(?:([KMGT])(?:i?B)?|B)?$/i.exec(text);
  if (!m) return undefined;
  const n = Number(m[1]) * (SIZE_UNITS[(m[2] ?? '').toUpperCase()] ?? Number.NaN);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses a decimal (optionally signed, fractional) or 0x-hex number; undefined when malformed. */
export function parseNumber(text: string): number | undefined {
  if (/^0x[0-9a-f]+$/i.test(text)) {
    const n = Number.parseInt(text.slice(2), 16);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

function convert(spec: OptionSpec, shown: string, text: string): string | number {
  switch (spec.type) {
    case 'number': {
      const n = parseNumber(text);
      if (n === undefined) throw new UsageError(`option '${shown}' expects a number, got '${text}'`);
      return n;
    }
    case 'size': {
      const n = parseSize(text);
      if (n === undefined) throw new UsageError(`option '${shown}' expects a size like 4096, 0x1000, 512M or 2G, got '${text}'`);
      return n;
    }
    case 'choice': {
      const choices = spec.choices ?? [];
      if (!choices.includes(text)) throw new UsageError(`option '${shown}' expects one of ${choices.join(', ')}; got '${text}'`);
      return text;
    }
    default:
      return text;
  }
}

function defaultValue(spec: OptionSpec): OptionValue {
  const d = spec.default;
  if (d === undefined) return spec.repeatable ? [] : spec.type === 'boolean' ? false : undefined;
  if (typeof d === 'string' && (spec.type === 'number' || spec.type === 'size')) {
    const n = spec.type === 'size' ? parseSize(d) : parseNumber(d);
    if (n === undefined) throw new Error(`bad default '${d}' for option --${spec.name}`);
    return spec.repeatable ? [n] : n;
  }
  if (Array.isArray(d)) return [...(d as readonly string[])];
  return d as string | number | boolean;
}

// ---------------------------------------------------------------------------------------------
// Argument parsing

/** Looks like a value rather than an option: '-' (stdin/stdout) or a negative number. */
function isValueLike(arg: string): boolean {
  return !arg.startsWith('-') || arg === '-' || /^-\.?\d/.test(arg);
}

/** Parses a command's arguments (argv after the command name). Throws UsageError. */
export function parseArgs(command: CommandSpec, argv: readonly string[]): ParsedArgs {
  const byLong = new Map<string, OptionSpec>();
  const byShort = new Map<string, OptionSpec>();
  for (const o of command.options) {
    byLong.set(o.name, o);
    if (o.short !== undefined) byShort.set(o.short, o);
  }
  const options: Record<string, OptionValue> = {};
  const given = new Set<string>();
  const positionals: string[] = [];
  const rest: string[] = [];

  const set = (spec: OptionSpec, value: string | number | boolean): void => {
    if (spec.repeatable && typeof value !== 'boolean') {
      const prev = given.has(spec.name) ? options[spec.name] : undefined;
      options[spec.name] = (Array.isArray(prev) ? [...prev, value] : [value]) as string[] | number[];
    } else {
      options[spec.name] = value;
    }
    given.add(spec.name);
  };

  let i = 0;
  const takeValue = (shown: string): string => {
    const next = argv[i + 1];
    if (next === undefined || !isValueLike(next)) throw new UsageError(`option '${shown}' requires a value`);
    i++;
    return next;
  };

  for (; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      rest.push(...argv.slice(i + 1));
      positionals.push(...rest);
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      const inline = eq < 0 ? undefined : arg.slice(eq + 1);
      let spec = byLong.get(name);
      let negated = false;
      if (spec === undefined && name.startsWith('no-')) {
        const positive = byLong.get(name.slice(3));
        if (positive?.type === 'boolean') {
          spec = positive;
          negated = true;
        }
      }
      const shown = `--${name}`;
      if (spec === undefined) throw unknownOption(shown, [...byLong.keys()].map((n) => `--${n}`));
      if (spec.type === 'boolean') {
        if (inline !== undefined) throw new UsageError(`option '${shown}' does not take a value`);
        set(spec, !negated);
      } else {
        set(spec, convert(spec, shown, inline ?? takeValue(shown)));
      }
      continue;
    }
    if (arg.length > 1 && !isValueLike(arg)) {
      // Short options: -j, -o FILE, -oFILE, clusters of booleans like -jv.
      for (let j = 1; j < arg.length; j++) {
        const ch = arg[j] as string;
        const shown = `-${ch}`;
        const spec = byShort.get(ch);
        if (spec === undefined) throw unknownOption(shown, []);
        if (spec.type === 'boolean') {
          set(spec, true);
          continue;
        }
        const attached = arg.slice(j + 1);
        set(spec, convert(spec, shown, attached !== '' ? attached : takeValue(shown)));
        break;
      }
      continue;
    }
    positionals.push(arg);
  }

  for (const o of command.options) if (!given.has(o.name)) {
    const d = defaultValue(o);
    if (d !== undefined) options[o.name] = d;
  }
  checkPositionals(command.positionals, positionals);
  return { positionals, options, rest };
}

function checkPositionals(specs: readonly PositionalSpec[], got: readonly string[]): void {
  const last = specs[specs.length - 1];
  const variadic = last?.variadic === true;
  const required = specs.filter((p) => !p.optional).length;
  const max = variadic ? Infinity : specs.length;
  if (got.length < required) {
    const missing = specs[got.length];
    throw new UsageError(`missing argument ${missing?.name ?? ''}`.trimEnd());
  }
  if (got.length > max) {
    throw new UsageError(`unexpected argument '${got[max] ?? ''}'`);
  }
}

function unknownOption(shown: string, known: string[]): UsageError {
  const guess = closest(shown, known);
  return new UsageError(`unknown option '${shown}'${guess ? `; did you mean '${guess}'?` : ''}`);
}

/** The candidate within edit distance 2 (and less than half the word), if any. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDist = Math.min(2, Math.floor(word.length / 2));
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d <= bestDist && (best === undefined || d < bestDist)) {
      best = c;
      bestDist = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, k) => k);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

// ---------------------------------------------------------------------------------------------
// Help

const WIDTH = 80;

/** Wraps text to WIDTH with `indent` spaces before continuation lines; blank lines separate paragraphs. */
function wrap(text: string, indent: number, first = indent): string {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    let col = lines.length === 0 ? first : indent;
    for (const word of para.split(/\s+/).filter((w) => w !== '')) {
      if (line !== '' && col + line.length + 1 + word.length > WIDTH) {
        lines.push(line);
        line = word;
        col = indent;
      } else {
        line = line === '' ? word : `${line} ${word}`;
      }
    }
    lines.push(line);
  }
  return lines.map((l, k) => (k === 0 || l === '' ? l : ' '.repeat(indent) + l)).join('\n');
}

function table(rows: readonly [string, string][]): string {
  const w = Math.min(Math.max(...rows.map(([l]) => l.length)), 32);
  return rows
    .map(([left, right]) => {
      const cell = `  ${left}`;
      if (right === '') return cell;
      if (left.length > w) return `${cell}\n${' '.repeat(w + 4)}${wrap(right, w + 4)}`;
      return `${cell.padEnd(w + 4)}${wrap(right, w + 4)}`;
    })
    .join('\n');
}

function valueName(o: OptionSpec): string {
  if (o.valueName !== undefined) return o.valueName;
  switch (o.type) {
    case 'number':
      return 'N';
    case 'size':
      return 'SIZE';
    case 'choice':
      return (o.choices ?? []).join('|');
    default:
      return 'VALUE';
  }
}

function optionRow(o: OptionSpec): [string, string] {
  const negatable = o.type === 'boolean' && o.default === true;
  const long = `--${negatable ? '[no-]' : ''}${o.name}${o.type === 'boolean' ? '' : ` ${valueName(o)}`}`;
  const left = `${o.short !== undefined ? `-${o.short}, ` : '    '}${long}`;
  const notes: string[] = [];
  if (o.type === 'number') notes.push('number');
  if (o.type === 'size') notes.push('size: bytes, 0x hex or K/M/G/T suffix');
  if (o.type === 'choice') notes.push(`one of: ${(o.choices ?? []).join(', ')}`);
  if (o.repeatable) notes.push('repeatable');
  if (o.default !== undefined && !(o.type === 'boolean' && o.default === false)) {
    const d = o.default;
    const shown = typeof d === 'boolean' ? (d ? 'on' : 'off') : Array.isArray(d) ? d.join(', ') : String(d);
    if (shown !== '') notes.push(`default: ${shown}`);
  }
  return [left, notes.length ? `${o.description} (${notes.join('; ')})` : o.description];
}

/** `prog --help`: the command list. */
export function programHelp(program: ProgramSpec): string {
  const p = program.name;
  const parts = [
    `${p} ${program.version}: ${program.summary}`,
    `Usage: ${p} COMMAND [ARGS...] [OPTIONS]\n       ${p} help COMMAND\n       ${p} --version`,
    `Commands:\n${table(program.commands.map((c) => [c.name, c.summary]))}`,
    `Options:\n${table([
      ['-h, --help', `Show help (also '${p} COMMAND --help')`],
      ['    --version', 'Print the version'],
    ])}`,
    'Exit codes: 0 ok, 1 problems found, 2 usage error, 3 I/O or internal failure.',
    `Run '${p} COMMAND --help' for a command's arguments, options and examples.`,
  ];
  return parts.join('\n\n') + '\n';
}

/** `prog COMMAND --help`: usage, description, arguments, options, examples. */
export function commandHelp(program: ProgramSpec, command: CommandSpec): string {
  const p = program.name;
  const parts = [`Usage: ${p} ${command.name}${command.usage ? ` ${command.usage}` : ''}`, wrap(command.summary, 0)];
  if (command.description !== undefined) parts.push(wrap(command.description, 0));
  if (command.positionals.length) {
    parts.push(
      `Arguments:\n${table(
        command.positionals.map((a) => [
          `${a.name}${a.variadic ? '...' : ''}`,
          `${a.description}${a.optional ? ' (optional)' : ''}`,
        ]),
      )}`,
    );
  }
  parts.push(`Options:\n${table([...command.options.map(optionRow), ['-h, --help', 'Show this help']])}`);
  if (command.examples.length) {
    const lines = command.examples.map((e) => {
      const cmd = e.command.startsWith(`${p} `) ? e.command : `${p} ${e.command}`;
      return `  ${cmd}\n      ${wrap(e.description, 6)}`;
    });
    parts.push(`Examples:\n${lines.join('\n')}`);
  }
  return parts.join('\n\n') + '\n';
}

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
