// Command-line framework: option value parsing (sizes, numbers, choices) and a command's argument parsing.
import { UsageError, type CommandSpec, type OptionSpec, type OptionValue, type ParsedArgs, type PositionalSpec } from './spec.js';

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
export function closest(word: string, candidates: readonly string[]): string | undefined {
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

