// igvmgen's command line, parsed the way the original's Python argparse does (IGVMGEN.md §1.1, §1.2).
//
// Syntax: single-dash long options, `-opt value` or `-opt=value` (exact names only, as in Python 3.11), an
// unambiguous prefix of a name (`-kern` = `-kernel`), a value glued to a one-letter option (`-dFILE`, `-oout.igvm`),
// the last of repeated options wins. Values are converted in command-line order, as argparse does, so the first bad
// value is the one reported.

export type OptionKind = 'flag' | 'file-in' | 'file-out' | 'str' | 'int' | 'bool' | 'enum' | 'log-level';

export interface OptionSpec {
  /** Option strings, as registered with argparse. */
  readonly names: readonly string[];
  readonly dest: string;
  readonly kind: OptionKind;
  readonly metavar?: string;
  /** Type name argparse prints for a bad enum value ("invalid ARCH value"). */
  readonly typeName?: string;
  readonly choices?: readonly string[];
  readonly help: string;
}

const opt = (name: string, kind: OptionKind, help: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({
  names: [name], dest: name.replace(/^-+/, '').replace(/-/g, '_'), kind, help, metavar: name.slice(1).toUpperCase(), ...extra,
});

/** Every option, in the original's registration order, with its help text. */
export const OPTIONS: readonly OptionSpec[] = [
  { names: ['-h', '--help'], dest: 'help', kind: 'flag', help: 'show this help message and exit' },
  { names: ['-l', '--log-level'], dest: 'log_level', kind: 'log-level', metavar: 'LOG_LEVEL', help: 'set log level; igvmkit writes ./igvm.log only when this option is given' },
  { names: ['--version'], dest: 'version', kind: 'flag', help: "show igvmkit's version and exit (igvmkit addition)" },
  opt('-d', 'file-in', 'igvmfile for inspection', { metavar: 'igvmfile.bin' }),
  opt('-inform', 'enum', 'igvm input format: bzImage (default), bzImage2 or elf', { typeName: 'INFORM', choices: ['bzImage', 'elf', 'bzImage2'] }),
  opt('-arch', 'enum', 'hardware architecture: Intel (default) or AMD', { typeName: 'Arch', choices: ['Intel', 'AMD'] }),
  opt('-o', 'file-out', 'igvmfile to output', { metavar: 'igvmfile.bin' }),
  opt('-kernel', 'file-in', 'Input image. bzImage or ELF depends on inform'),
  opt('-vmpl2_kernel', 'file-in', 'elf only: bzImage loaded at 0x3D00000 for VMPL2'),
  opt('-pgtable_level', 'int', 'elf -boot_mode x64 only: 2-level or 4-level paging'),
  opt('-symbol_elf', 'file-in', 'arch/x86/boot/compressed/vmlinux (selects the pre-validated regions)'),
  opt('-append', 'str', 'kernel command line (ASCII)', { metavar: 'cmdline' }),
  opt('-rdinit', 'file-in', 'initrd', { metavar: 'ramdisk' }),
  opt('-vtl', 'int', 'highest vtl (default 2; stored as a byte)', { metavar: '2' }),
  opt('-config_file', 'str', 'TEI config JSON for the SNP ID block and guest policy (honoured by igvmkit; ignored by the original)'),
  opt('-sign_key', 'file-in', 'private signing key: PEM EC P-384 (SEC1 or PKCS#8); default a fresh random key'),
  opt('-sign_deterministic', 'bool', 'deterministic id block signing using RFC6979 instead of a random k value (default false)'),
  opt('-acpi_dir', 'str', "ACPI folder of DSL sources (compiled with iasl), or the original's acpi.zip snapshot; default: igvmkit's own tables"),
  opt('-pvalidate_opt', 'bool', 'pvalidate optimization: measure only the regions early boot code touches (default true)'),
  opt('-boot_mode', 'enum', 'boot mode: x86 (default) or x64', { typeName: 'ARCH', choices: ['x86', 'x64'] }),
  opt('-start_addr', 'int', 'start gpa for the image (no effect, as in the original)'),
  opt('-shared_payload', 'file-in', 'bzImage2: content placed in guest-invalid (shared, unmeasured) memory at 0x10000000'),
  opt('-measurement_file', 'file-out', 'write the launch measurement JSON (and print it)'),
  opt('-encrypted_page', 'bool', 'x64: set the C-bit in page tables and CR3 (default true)'),
  opt('-svme', 'bool', 'expose SVME in EFER (default true)'),
  opt('-svn', 'str', 'SVN copied into the measurement JSON (default 0)'),
];

const OPTION_BY_NAME = new Map<string, OptionSpec>();
for (const o of OPTIONS) for (const n of o.names) OPTION_BY_NAME.set(n, o);

/** Python logging's level names. */
export const LOG_LEVELS: Readonly<Record<string, number>> = {
  CRITICAL: 50, FATAL: 50, ERROR: 40, WARN: 30, WARNING: 30, INFO: 20, DEBUG: 10, NOTSET: 0,
};

export class UsageError extends Error {}

/** One option occurrence, in command-line order. */
export interface Occurrence {
  readonly option: OptionSpec;
  readonly value: string | undefined;
}

const NEGATIVE_NUMBER = /^-\d+$|^-\d*\.\d+$/;

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

export function optionLabel(o: OptionSpec): string {
  return o.names.join('/');
}

/**
 * Split argv into option occurrences. `-h` and `--version` end parsing as soon as they are seen (argparse actions);
 * errors are UsageError with argparse's wording.
 */
export function scanArgs(argv: readonly string[]): Occurrence[] {
  const out: Occurrence[] = [];
  const unrecognized: string[] = [];
  let i = 0;
  let positionalOnly = false;
  while (i < argv.length) {
    const arg = argv[i] ?? '';
    i++;
    if (positionalOnly) { unrecognized.push(arg); continue; }
    if (arg === '--') { positionalOnly = true; continue; }
    if (!looksLikeOption(arg)) { unrecognized.push(arg); continue; }
    const m = resolveOption(arg);
    if (m === undefined) { unrecognized.push(arg); continue; }
    const o = m.option;
    if (o.kind === 'flag') {
      // `-hd`: argparse reads the glued characters as further one-letter options; `-h=x` is an error.
      const glued = m.explicit !== undefined && m.explicit !== '' && !arg.includes('=');
      if (m.explicit !== undefined && m.explicit !== '' && !(glued && OPTION_BY_NAME.has('-' + m.explicit.charAt(0)))) {
        throw new UsageError(`argument ${optionLabel(o)}: ignored explicit argument '${m.explicit}'`);
      }
      out.push({ option: o, value: undefined });
      return out;
    }
    if (m.explicit !== undefined) { out.push({ option: o, value: m.explicit }); continue; }
    const next = argv[i];
    if (next === undefined || next === '--' || looksLikeOption(next)) {
      throw new UsageError(`argument ${optionLabel(o)}: expected one argument`);
    }
    out.push({ option: o, value: next });
    i++;
  }
  if (unrecognized.length > 0) throw new UsageError(`unrecognized arguments: ${unrecognized.join(' ')}`);
  return out;
}

/** Python `int(str)`: optional whitespace and sign, decimal digits with single underscores between them. */
export function pythonInt(text: string): bigint | undefined {
  const m = /^[\s]*([+-]?)(\d+(?:_\d+)*)[\s]*$/.exec(text);
  if (!m) return undefined;
  const digits = (m[2] ?? '').replace(/_/g, '');
  return m[1] === '-' ? -BigInt(digits) : BigInt(digits);
}

/** The original's str2bool: only "true", "1" and "True" are true. */
export function str2bool(text: string): boolean {
  return text === 'true' || text === '1' || text === 'True';
}

/** Check one value the way argparse's `type=` callable would; returns the error text or undefined. */
export function checkValue(o: OptionSpec, value: string): string | undefined {
  const label = `argument ${optionLabel(o)}`;
  if (o.kind === 'int' && pythonInt(value) === undefined) return `${label}: invalid int value: '${value}'`;
  if (o.kind === 'enum' && !(o.choices ?? []).includes(value)) return `${label}: invalid ${o.typeName ?? 'choice'} value: '${value}'`;
  return undefined;
}

function usageLine(): string {
  const parts = OPTIONS.map((o) => {
    const n = o.names[0] ?? '';
    return o.kind === 'flag' ? `[${n}]` : `[${n} ${o.metavar ?? 'X'}]`;
  });
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

export function usageText(): string {
  return usageLine() + '\n';
}

export function helpText(): string {
  const lines = [
    usageLine(),
    '',
    'Generate or dump IGVM files (igvmkit re-implementation of microsoft/igvm-tooling igvmgen:',
    'same options, same images and launch digests; see the README for the documented differences).',
    '',
    'options:',
  ];
  for (const o of OPTIONS) {
    const left = o.names.map((n) => (o.kind === 'flag' ? n : `${n} ${o.metavar ?? 'X'}`)).join(', ');
    lines.push(left.length <= 28 ? `  ${left.padEnd(30)}${o.help}` : `  ${left}\n  ${''.padEnd(30)}${o.help}`);
  }
  lines.push('', 'Exit codes: 0 ok, 2 usage or input error (one line on stderr), 3 I/O failure writing the outputs.');
  return lines.join('\n') + '\n';
}
