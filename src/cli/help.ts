// Command-line framework: help text generated from the command declarations.
import type { CommandSpec, OptionSpec, ProgramSpec } from './spec.js';

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
