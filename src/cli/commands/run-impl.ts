// `igvm run` implementation: QEMU detection, the igvm-cfg command line or the polyfill files, and running QEMU.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError, booleanOption, numberOption, stringOption, type CommandContext } from '../framework.js';
import { IoError, readInput } from '../../io/files.js';
import { loadIgvm, resolveConfig } from '../../load/index.js';
import { renderFailure } from '../../load/render.js';
import { qemuCommandLine, renderCommandLine } from '../../load/qemu/command-line.js';
import { parseIgvm } from '../../format/index.js';
import { buildPolyfill } from '../../run/polyfill.js';
import { parseQemuVersion, supportsIgvm, type QemuVersion } from '../../run/qemu-version.js';
import type { QemuMachine } from '../../load/plan.js';

function detect(qemu: string): QemuVersion {
  const r = spawnSync(qemu, ['--version'], { encoding: 'utf8' });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    throw new IoError(`cannot run '${qemu}': ${code === 'ENOENT' ? 'not found (install qemu-system-x86 or pass --qemu PATH)' : r.error.message}`, qemu);
  }
  const v = parseQemuVersion(r.stdout);
  if (!v) throw new IoError(`'${qemu} --version' did not print a QEMU version: ${JSON.stringify(r.stdout.trim().slice(0, 80))}`, qemu);
  return v;
}

export function runRun(ctx: CommandContext): number {
  const path = ctx.args.positionals[0]!;
  const extra = ctx.args.rest;
  const qemu = stringOption(ctx.args, 'qemu') ?? 'qemu-system-x86_64';
  const vcpus = numberOption(ctx.args, 'vcpus') ?? 1;
  if (!Number.isInteger(vcpus) || vcpus < 1) throw new UsageError(`option '--vcpus' expects a positive integer, got ${vcpus}`);
  const memory = BigInt(numberOption(ctx.args, 'memory') ?? 512 * 2 ** 20);
  const machine = (stringOption(ctx.args, 'machine') ?? 'q35') as QemuMachine;
  const dry = booleanOption(ctx.args, 'dry-run');
  const bytes = readInput(path);
  const version = detect(qemu);
  const config = { platform: 'native' as const, memory, vcpus, machine, accel: 'tcg' as const };
  let argv: string[];
  let cleanup: string | undefined;
  if (supportsIgvm(version) && !booleanOption(ctx.args, 'polyfill')) {
    argv = qemuCommandLine(resolveConfig(config, parseIgvm(bytes)), path).slice(1);
  } else {
    const result = loadIgvm(bytes, config, path);
    if (!result.ok) {
      ctx.err(renderFailure(result.failure));
      return 1;
    }
    const pf = buildPolyfill(result.plan);
    const dir = mkdtempSync(join(tmpdir(), 'igvmkit-run-'));
    if (!dry) cleanup = dir;
    const rom = join(dir, 'rom.bin');
    writeFileSync(rom, pf.rom);
    argv = ['-machine', machine, '-accel', 'tcg', '-m', `${memory / 1024n}K`, '-smp', String(vcpus), '-nodefaults', '-display', 'none', '-serial', 'stdio', '-bios', rom];
    for (const r of pf.regions) {
      const file = join(dir, r.name);
      writeFileSync(file, r.bytes);
      argv.push('-device', `loader,file=${file},addr=0x${r.gpa.toString(16)},force-raw=on`);
    }
    argv.push('-global', 'apic-common.vapic=off');
    for (const n of pf.notes) ctx.err(`${ctx.program}: note: ${n}\n`);
    ctx.err(`${ctx.program}: note: QEMU ${version.major}.${version.minor}.${version.micro} has no IGVM support: booting the native platform through the polyfill${dry ? ` (files kept in ${dir})` : ''}\n`);
  }
  argv.push(...extra);
  if (dry) {
    ctx.out(renderCommandLine([qemu, ...argv]));
    return 0;
  }
  try {
    const r = spawnSync(qemu, argv, { stdio: 'inherit' });
    if (r.error) throw new IoError(`cannot run '${qemu}': ${r.error.message}`, qemu);
    return r.status ?? 1;
  } finally {
    if (cleanup !== undefined) rmSync(cleanup, { recursive: true, force: true });
  }
}
