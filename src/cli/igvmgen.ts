#!/usr/bin/env node
// igvmgen: command-line compatible re-implementation of the original Python igvmgen (IGVMGEN.md §1, §11, §12, §13).
//
// Differences from the original, on purpose (each listed in the README):
// * Nothing is created before it is complete: the outputs of -o and -measurement_file are written all-or-none at the
//   end (the original truncates them while parsing and leaves them empty after a failure); no ./igvm.log unless -l.
// * Inputs the original crashes on (missing -kernel/-append, non-ASCII command line, bad setup header, ...) give one
//   line on stderr and exit 2 instead of a traceback and exit 1. An unknown -l level is a usage error (exit 2).
// * -config_file is honoured; without -acpi_dir igvmkit's own ACPI tables are used (no iasl needed); records are
//   padded with zero bytes, not ASCII '0'; `--version` exists.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { dumpIgvmgen } from '../igvmgen/dump.js';
import { IgvmError } from '../errors.js';
import { IoError } from './framework.js';
import { installNodeHash } from '../io/node-hash.js';
import { installNodeEc } from '../io/node-ec.js';
import { scanArgs, checkValue, helpText, usageText, optionLabel, UsageError, LOG_LEVELS, OPTIONS } from './igvmgen-args.js';
import { runGeneration, InputError, type GenValues } from './igvmgen-run.js';
import type { NamedInput } from '../igvmgen/layout-bzimage.js';

export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  readFile(path: string): Uint8Array;
}

function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Python's strerror text for the errno codes argparse.FileType reports. */
const PY_ERRNO: Record<string, [number, string]> = {
  ENOENT: [2, 'No such file or directory'],
  EACCES: [13, 'Permission denied'],
  EISDIR: [21, 'Is a directory'],
  ENOTDIR: [20, 'Not a directory'],
  ELOOP: [40, 'Too many levels of symbolic links'],
  ENAMETOOLONG: [36, 'File name too long'],
};

function cantOpen(label: string, path: string, err: unknown): string {
  const e = (err as { cause?: unknown }).cause ?? err;
  const code = (e as { code?: unknown }).code;
  const known = typeof code === 'string' ? PY_ERRNO[code] : undefined;
  const why = known ? `[Errno ${known[0]}] ${known[1]}: '${path}'` : e instanceof Error ? e.message : String(e);
  return `argument ${label}: can't open '${path}': ${why}`;
}

/**
 * One line for an input error: "-kernel bzImage: offset 0x202 (setup_header.header): message [code]" — the option that
 * named the file (for files inside an -acpi_dir folder too), the file, where in it, what was expected.
 */
function describeInputError(e: IgvmError, inputs: ReadonlyMap<string, string>): string {
  let who = '';
  if (e.file !== undefined) {
    let option = inputs.get(e.file);
    if (option === undefined) for (const [path, o] of inputs) if (o === '-acpi_dir' && e.file.startsWith(path.replace(/\/+$/, '') + '/')) option = o;
    who = option !== undefined ? `${option} ${e.file}` : e.file;
  }
  const at = [e.offset !== undefined ? `offset 0x${e.offset.toString(16)}` : '', e.path ?? ''].filter((x) => x !== '');
  const message = e.message.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('; ');
  const where = who !== '' ? (at.length ? `${who}: ${at.join(' ')}: ` : `${who}: `) : at.length ? `${at.join(' ')}: ` : '';
  return `${where}${message} [${e.code}]`;
}

/** Run igvmgen with `argv` (without node and script); returns the exit code. */
export function main(argv: readonly string[], io: CliIo): number {
  const usage = (message: string): number => {
    io.stderr(`igvmgen: error: ${message}\n`);
    return 2;
  };
  const strings = new Map<string, string>();
  const files = new Map<string, NamedInput>();
  let flag: string | undefined;
  try {
    for (const { option, value } of scanArgs(argv)) {
      if (option.kind === 'flag') { flag = option.dest; break; }
      if (value === undefined) continue;
      const bad = checkValue(option, value);
      if (bad !== undefined) return usage(bad);
      if (option.kind === 'log-level' && LOG_LEVELS[value] === undefined) {
        return usage(`argument ${optionLabel(option)}: unknown level: '${value}' (expected one of ${Object.keys(LOG_LEVELS).join(', ')})`);
      }
      if (option.kind === 'file-in') {
        // argparse.FileType('rb') opens the file while parsing: an unreadable input is a usage error.
        try {
          files.set(option.dest, { name: value, bytes: io.readFile(value) });
        } catch (err) {
          return usage(cantOpen(optionLabel(option), value, err));
        }
      }
      strings.set(option.dest, value);
    }
  } catch (err) {
    if (err instanceof UsageError) return usage(err.message);
    throw err;
  }
  if (flag === 'help') {
    io.stdout(helpText());
    return 0;
  }
  if (flag === 'version') {
    io.stdout(`igvmgen (igvmkit) ${readVersion()}\n`);
    return 0;
  }
  const dumped = files.get('d');
  if (dumped) {
    try {
      io.stdout(dumpIgvmgen(dumped.bytes));
      return 0;
    } catch (err) {
      if (err instanceof IgvmError) return usage(`${dumped.name}: ${err.message}`);
      throw err;
    }
  }
  const out = strings.get('o');
  if (out === undefined) {
    if (strings.size > 0) io.stderr(usageText() + 'igvmgen: note: no -o FILE given, so nothing is generated (as the original, the help is printed)\n');
    io.stdout(helpText());
    return 0;
  }
  const values: GenValues = { strings, files };
  const inputs = new Map<string, string>();
  for (const o of OPTIONS) {
    const path = strings.get(o.dest);
    if (path !== undefined && (o.kind === 'file-in' || o.dest === 'acpi_dir' || o.dest === 'config_file')) inputs.set(path, o.names[0] ?? '');
  }
  try {
    const r = runGeneration(values, out);
    io.stdout(r.stdout);
    io.stderr(r.stderr);
    return 0;
  } catch (err) {
    if (err instanceof InputError) return usage(err.message);
    if (err instanceof IgvmError) return usage(describeInputError(err, inputs));
    if (err instanceof IoError) {
      io.stderr(`igvmgen: error: ${err.message}\n`);
      return 3;
    }
    throw err;
  }
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
  installNodeHash();
  installNodeEc();
  // A closed pipe (`igvmgen -d f | head`) is not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') process.stderr.write(`igvmgen: error: cannot write output: ${err.message}\n`);
    process.exitCode = err.code === 'EPIPE' ? (process.exitCode ?? 0) : 3;
  });
  try {
    process.exitCode = main(process.argv.slice(2), {
      stdout: (t) => void (t && process.stdout.write(t)),
      stderr: (t) => void (t && process.stderr.write(t)),
      readFile: (p) => {
        const b = readFileSync(p === '-' ? 0 : p);
        return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      },
    });
  } catch (err) {
    // Internal error: still one line, no stack trace unless asked for.
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`igvmgen: internal error: ${msg}\n`);
    if (process.env['IGVMKIT_DEBUG']) process.stderr.write(`${err instanceof Error ? err.stack : ''}\n`);
    process.exitCode = 3;
  }
}
