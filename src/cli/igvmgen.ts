#!/usr/bin/env node
// igvmgen: command-line compatible re-implementation of the original Python igvmgen (IGVMGEN.md §1, §12, §13); this version implements only `-d FILE`.
//
// Option syntax follows Python argparse with single-dash long options (§1.1): `-opt value`,
// `-opt=value` (exact names only, as in Python 3.11), an unambiguous prefix of a name
// (`-kern` = `-kernel`), a value glued to a one-letter option (`-dFILE`, `-oout.igvm`), and the
// last of repeated options wins.
//
// Differences from the original, on purpose:
// * Image generation is not implemented yet: any generation option without `-d` is an error (exit 2).
//   With `-d`, the dump wins and the other options are ignored, as in the original — but nothing is
//   opened or truncated (the original truncates the `-o` file even in dump mode).
// * No `./igvm.log` is written; `-l/--log-level` is checked (an unknown level is an error, exit 2,
//   where the original raises ValueError with exit 1) and otherwise ignored.
// * A file the original crashes on (`ValueError: Buffer size too small`) gives a one-line message
//   and exit 2; an unreadable file gives exit 3; `--version` exists (the original has none).
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dumpIgvmgen } from '../igvmgen/dump.js';
import { IgvmError } from '../errors.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Uint8Array;
}

interface OptionSpec {
  /** Option strings, as registered with argparse. */
  readonly names: readonly string[];
  /** Destination key. */
  readonly dest: string;
  /** Takes one value (all but -h/--help and --version). */
  readonly takesValue: boolean;
  readonly metavar?: string;
  readonly help: string;
  /** Options that only matter for image generation. */
  readonly generation: boolean;
}

const gen = (name: string, metavar: string, help: string): OptionSpec => ({
  names: [name], dest: name.slice(1), takesValue: true, metavar, help, generation: true,
});

/** Every igvmgen option (IGVMGEN.md §1.2), in the original's registration order. */
const OPTIONS: readonly OptionSpec[] = [
  { names: ['-h', '--help'], dest: 'help', takesValue: false, help: 'show this help message and exit', generation: false },
  { names: ['--version'], dest: 'version', takesValue: false, help: "show igvmkit's version and exit", generation: false },
  { names: ['-l', '--log-level'], dest: 'log_level', takesValue: true, metavar: 'LOG_LEVEL', help: 'log level (accepted for compatibility; igvmkit writes no igvm.log)', generation: false },
  { names: ['-d'], dest: 'd', takesValue: true, metavar: 'FILE', help: 'print the text dump of an IGVM file', generation: false },
  gen('-inform', '{bzImage,elf,bzImage2}', 'input format (default bzImage)'),
  gen('-arch', '{Intel,AMD}', 'CPU vendor (default Intel)'),
  gen('-o', 'FILE', 'output IGVM file'),
  gen('-kernel', 'FILE', 'bzImage or ELF kernel'),
  gen('-vmpl2_kernel', 'FILE', 'elf only: bzImage loaded for VMPL2'),
  gen('-pgtable_level', 'N', 'elf x64 only: page-table levels, 2 or 4'),
  gen('-symbol_elf', 'FILE', 'vmlinux ELF whose symbols select the pre-validated regions'),
  gen('-append', 'STR', 'kernel command line'),
  gen('-rdinit', 'FILE', 'initrd'),
  gen('-vtl', 'N', 'highest VTL (default 2)'),
  gen('-config_file', 'PATH', 'TEI config file (ignored by the original)'),
  gen('-sign_key', 'FILE', 'PEM EC private key for the SNP ID block'),
  gen('-sign_deterministic', 'BOOL', 'RFC 6979 deterministic ECDSA (default false)'),
  gen('-acpi_dir', 'DIR', 'folder of ACPI DSL sources'),
  gen('-pvalidate_opt', 'BOOL', 'measure only selected regions (default true)'),
  gen('-boot_mode', '{x86,x64}', 'boot mode (default x86)'),
  gen('-start_addr', 'N', 'elf only; no effect'),
  gen('-shared_payload', 'FILE', 'bzImage2 only: host-visible payload'),
  gen('-measurement_file', 'FILE', 'write the measurement JSON'),
  gen('-encrypted_page', 'BOOL', 'x64 only: set the C-bit in page tables (default true)'),
  gen('-svme', 'BOOL', 'set EFER.SVME (default true)'),
  gen('-svn', 'STR', 'SVN copied into the measurement JSON (default 0)'),
];

const OPTION_BY_NAME = new Map<string, OptionSpec>();
for (const o of OPTIONS) for (const n of o.names) OPTION_BY_NAME.set(n, o);

/** Python logging's level names (what `logging.setLevel(str)` accepts). */
const LOG_LEVELS = new Set(['CRITICAL', 'FATAL', 'ERROR', 'WARN', 'WARNING', 'INFO', 'DEBUG', 'NOTSET']);

class UsageError extends Error {}

function usageLine(): string {
  const parts = OPTIONS.map((o) => {
    const n = o.names[0] ?? '';
    return o.takesValue ? `[${n} ${o.metavar ?? 'X'}]` : `[${n}]`;
  });
  // Wrapped at 80 columns under the program name, like argparse.
  const head = 'usage: igvmgen ';
  const indent = ' '.repeat(head.length);
  const lines: string[] = [];
  let line = head;
  let fresh = true;
  for (const p of parts) {
    if (!fresh && line.length + 1 + p.length > 80) {
      lines.push(line);
      line = indent;
      fresh = true;
    }
    line += (fresh ? '' : ' ') + p;
    fresh = false;
  }
  lines.push(line);
  return lines.join('\n');
}

function helpText(): string {
  const lines = [
    usageLine(),
    '',
    'Generate or dump IGVM files (igvmkit re-implementation of microsoft/igvm-tooling igvmgen).',
    '',
    'NOTE: image generation is not available yet in this igvmkit version; only -d FILE is',
    'implemented. The generation options below are listed for reference and are rejected',
    'unless -d is given.',
    '',
    'options:',
  ];
  for (const o of OPTIONS) {
    const left = o.names.map((n) => (o.takesValue ? `${n} ${o.metavar ?? 'X'}` : n)).join(', ');
    lines.push(left.length <= 28 ? `  ${left.padEnd(30)}${o.help}` : `  ${left}\n  ${''.padEnd(30)}${o.help}`);
  }
  return lines.join('\n') + '\n';
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

/** argparse's view of whether `arg` is an option string (rather than a value). */
function looksLikeOption(arg: string): boolean {
  if (!arg.startsWith('-') || arg === '-') return false;
  if (NEGATIVE_NUMBER.test(arg)) return false;
  if (OPTION_BY_NAME.has(arg) || OPTION_BY_NAME.has(arg.split('=', 1)[0] ?? '')) return true;
  if (matchPrefix(arg).length > 0) return true;
  return !arg.includes(' ');
}

interface Match {
  readonly option: OptionSpec;
  readonly name: string;
  readonly explicit: string | undefined;
}

/** argparse `_get_option_tuples`: prefix matches and glued one-letter values. */
function matchPrefix(arg: string): Match[] {
  const out: Match[] = [];
  if (arg.startsWith('--')) {
    const eq = arg.indexOf('=');
    const prefix = eq >= 0 ? arg.slice(0, eq) : arg;
    const explicit = eq >= 0 ? arg.slice(eq + 1) : undefined;
    for (const [name, option] of OPTION_BY_NAME) if (name.startsWith(prefix)) out.push({ option, name, explicit });
  } else if (arg.startsWith('-') && arg.length >= 2) {
    const short = arg.slice(0, 2);
    for (const [name, option] of OPTION_BY_NAME) {
      if (name === short) out.push({ option, name, explicit: arg.slice(2) });
      else if (name.startsWith(arg)) out.push({ option, name, explicit: undefined });
    }
  }
  return out;
}

/** argparse `_parse_optional`: which option `arg` names, or undefined for a positional/unknown. */
function resolveOption(arg: string): Match | undefined {
  const exact = OPTION_BY_NAME.get(arg);
  if (exact) return { option: exact, name: arg, explicit: undefined };
  const eq = arg.indexOf('=');
  if (eq >= 0) {
    const name = arg.slice(0, eq);
    const byName = OPTION_BY_NAME.get(name);
    if (byName) return { option: byName, name, explicit: arg.slice(eq + 1) };
  }
  const matches = matchPrefix(arg);
  if (matches.length > 1) {
    throw new UsageError(`ambiguous option: ${arg.split('=', 1)[0]} could match ${matches.map((m) => m.name).join(', ')}`);
  }
  return matches[0];
}

function optionLabel(o: OptionSpec): string {
  return o.names.join('/');
}

interface Parsed {
  values: Map<string, string>;
  flags: Set<string>;
}

function parseArgs(argv: readonly string[]): Parsed {
  const values = new Map<string, string>();
  const flags = new Set<string>();
  const unrecognized: string[] = [];
  let i = 0;
  let positionalOnly = false;
  while (i < argv.length) {
    const arg = argv[i] ?? '';
    i++;
    if (positionalOnly) {
      unrecognized.push(arg);
      continue;
    }
    if (arg === '--') {
      positionalOnly = true;
      continue;
    }
    if (!looksLikeOption(arg)) {
      unrecognized.push(arg);
      continue;
    }
    const m = resolveOption(arg);
    if (m === undefined) {
      unrecognized.push(arg);
      continue;
    }
    const o = m.option;
    if (!o.takesValue) {
      // `-hd`: argparse reads the glued characters as further one-letter options; `-h=x` is an error.
      const glued = m.explicit !== undefined && m.explicit !== '' && !arg.includes('=');
      if (m.explicit !== undefined && m.explicit !== '' && !(glued && OPTION_BY_NAME.has('-' + m.explicit.charAt(0)))) {
        throw new UsageError(`argument ${optionLabel(o)}: ignored explicit argument '${m.explicit}'`);
      }
      // -h and --version act (and end parsing) as soon as they are seen, like argparse's actions.
      flags.add(o.dest);
      return { values, flags };
    }
    if (m.explicit !== undefined) {
      values.set(o.dest, m.explicit);
      continue;
    }
    const next = argv[i];
    if (next === undefined || (next !== '--' && looksLikeOption(next)) || next === '--') {
      throw new UsageError(`argument ${optionLabel(o)}: expected one argument`);
    }
    values.set(o.dest, next);
    i++;
  }
  if (unrecognized.length > 0) throw new UsageError(`unrecognized arguments: ${unrecognized.join(' ')}`);
  return { values, flags };
}

function errnoReason(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  switch (e.code) {
    case 'ENOENT': return 'no such file or directory';
    case 'EACCES': return 'permission denied';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    case 'ELOOP': return 'too many levels of symbolic links';
    case 'ERR_FS_FILE_TOO_LARGE': return 'file is too large';
    default: return typeof e.message === 'string' ? e.message : String(err);
  }
}

/** Run igvmgen with `argv` (without node and script); returns the exit code. */
export function main(argv: readonly string[], io: CliIo): number {
  let parsed: Parsed;
  try {
    parsed = parseArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`igvmgen: error: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const { values, flags } = parsed;
  if (flags.has('help')) {
    io.stdout(helpText());
    return 0;
  }
  if (flags.has('version')) {
    io.stdout(`igvmgen (igvmkit) ${readVersion()}\n`);
    return 0;
  }
  const level = values.get('log_level');
  if (level !== undefined && !LOG_LEVELS.has(level)) {
    io.stderr(`igvmgen: error: argument -l/--log-level: unknown level: '${level}'\n`);
    return 2;
  }
  const file = values.get('d');
  if (file === undefined) {
    if (OPTIONS.some((o) => o.generation && values.has(o.dest))) {
      io.stderr('igvmgen: error: image generation is not implemented yet in this igvmkit version; only -d FILE is available\n');
      return 2;
    }
    io.stdout(helpText());
    return 0;
  }
  let bytes: Uint8Array;
  try {
    bytes = io.readFile(file);
  } catch (err) {
    io.stderr(`igvmgen: error: cannot read ${file}: ${errnoReason(err)}\n`);
    return 3;
  }
  let text: string;
  try {
    text = dumpIgvmgen(bytes);
  } catch (err) {
    if (err instanceof IgvmError) {
      io.stderr(`igvmgen: error: ${file}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  io.stdout(text);
  return 0;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A closed pipe (`igvmgen -d f | head`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`igvmgen: error: cannot write output: ${err.message}\n`);
    process.exitCode = err.code === 'EPIPE' ? (process.exitCode ?? 0) : 1;
  });
  try {
    process.exitCode = main(process.argv.slice(2), {
      stdout: (t) => void process.stdout.write(t),
      stderr: (t) => void process.stderr.write(t),
      readFile: (p) => new Uint8Array(readFileSync(p)),
    });
  } catch (err) {
    // Internal error: still one line, no stack trace unless asked for.
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`igvmgen: internal error: ${msg}\n`);
    if (process.env['IGVMKIT_DEBUG']) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
    process.exitCode = 1;
  }
}
