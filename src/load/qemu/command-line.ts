// The qemu-system-x86_64 command line that loads an IGVM file with a given configuration (QEMU-LOADER.md §1, §3, §7.5).
//
// `-machine TYPE,igvm-cfg=igvm0[,confidential-guest-support=sev0]`, `-object igvm-cfg,id=igvm0,file=FILE`, for SEV
// `-object sev-guest,id=sev0,cbitpos=51,reduced-phys-bits=1,policy=0x1|0x5` or `-object sev-snp-guest,…,policy=`
// the file's GUEST_POLICY for the SEV-SNP mask (QEMU's property names; cbitpos 51 is that of EPYC Milan/Genoa),
// then `-accel`, `-cpu` (omitted for qemu64, QEMU's default), `-m`, `-smp` and `-nodefaults -display none
// -serial stdio`. Commas inside QEMU option values are doubled.
import type { ResolvedQemuConfig } from '../plan.js';
import { QEMU_PROGRAM } from './messages.js';

export const SEV_CBITPOS = 51;
export const SEV_REDUCED_PHYS_BITS = 1;

/** `-m` value: the largest binary unit that divides the size (QEMU reads a bare number as MiB, so bytes get `B`). */
export function memoryArgument(bytes: bigint): string {
  const units: [bigint, string][] = [[1n << 40n, 'T'], [1n << 30n, 'G'], [1n << 20n, 'M'], [1n << 10n, 'K']];
  for (const [u, suffix] of units) if (bytes % u === 0n) return `${bytes / u}${suffix}`;
  return `${bytes}B`;
}

/** QEMU option-value escaping: a comma is written twice. */
export function qemuOptionValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** The argument vector (argv[0] = qemu-system-x86_64). */
export function qemuCommandLine(cfg: ResolvedQemuConfig, path: string): string[] {
  const sev = cfg.objectType !== undefined;
  const argv = [QEMU_PROGRAM, '-machine', `${cfg.machine},igvm-cfg=igvm0${sev ? ',confidential-guest-support=sev0' : ''}`];
  argv.push('-object', `igvm-cfg,id=igvm0,file=${qemuOptionValue(path)}`);
  if (cfg.objectType === 'sev-snp-guest') {
    argv.push('-object', `sev-snp-guest,id=sev0,cbitpos=${SEV_CBITPOS},reduced-phys-bits=${SEV_REDUCED_PHYS_BITS},policy=0x${(cfg.snpPolicy ?? 0x30000n).toString(16)}`);
  } else if (cfg.objectType === 'sev-guest') {
    argv.push('-object', `sev-guest,id=sev0,cbitpos=${SEV_CBITPOS},reduced-phys-bits=${SEV_REDUCED_PHYS_BITS},policy=0x${(cfg.sevPolicy ?? 1).toString(16)}`);
  }
  argv.push('-accel', cfg.accel);
  if (cfg.cpu !== 'qemu64') argv.push('-cpu', cfg.cpu.startsWith('host') ? 'host' : cfg.cpu);
  argv.push('-m', memoryArgument(cfg.memory), '-smp', String(cfg.vcpus));
  if (cfg.bios !== undefined) argv.push('-bios', cfg.bios);
  argv.push('-nodefaults', '-display', 'none', '-serial', 'stdio');
  return argv;
}

/** POSIX shell quoting of one argument (single quotes unless it is made of safe characters only). */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg)) return arg;
  return `'${arg.replaceAll("'", `'\\''`)}'`;
}

/** The command for a shell: the program, then each option with its value on its own line, continued with `\`. */
export function renderCommandLine(argv: readonly string[]): string {
  const lines: string[] = [];
  let i = 0;
  lines.push(shellQuote(argv[i++] ?? QEMU_PROGRAM));
  while (i < argv.length) {
    const opt = argv[i++] ?? '';
    const next = argv[i];
    if (next !== undefined && !next.startsWith('-')) {
      lines.push(`  ${shellQuote(opt)} ${shellQuote(next)}`);
      i++;
    } else lines.push(`  ${shellQuote(opt)}`);
  }
  return lines.join(' \\\n') + '\n';
}
