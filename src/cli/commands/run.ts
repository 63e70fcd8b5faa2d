// `igvm run FILE [--qemu PATH] [--memory SIZE] [--vcpus N] [--machine q35|pc] [--polyfill] [--dry-run] [-- QEMU ARGS]`: boot a file with QEMU (QEMU-LOADER.md §1, §6).
import type { CommandSpec } from '../framework.js';

export const runCommand: CommandSpec = {
  name: 'run',
  summary: 'boot a file with QEMU: igvm-cfg on QEMU ≥ 10.2, a generated ROM + memory loaders on older QEMU',
  usage: 'FILE [--qemu PATH] [--memory 512M] [--vcpus N] [--machine q35|pc] [--polyfill] [--dry-run] [-- QEMU_ARGS...]',
  description:
    'With a QEMU that supports IGVM (10.2 or later, detected from --version) the file is passed with -object igvm-cfg. ' +
    'With an older QEMU (Debian 12 ships 7.2) the NATIVE platform is booted through a polyfill: the load plan of our QEMU 10.2 model ' +
    '(igvm load) gives every memory region with its contents (page data and parameter areas as QEMU 10.2 would fill them), loaded with ' +
    '-device loader; a 64 KiB reset-vector ROM (stub/reset-vector.asm), passed with -bios, puts the CPU into the file\'s native VP context ' +
    '(32-bit protected mode, or long mode when the guest page tables identity-map the ROM: CR0/CR3/CR4, EFER, segments, general registers, RIP) ' +
    'and jumps to it; a file without a VP context (a firmware volume) is passed as the ROM. Runs TCG with -nodefaults -display none ' +
    '-serial stdio; arguments after -- go to QEMU. The exit status is QEMU\'s. Exit 1 when the file cannot be loaded (QEMU\'s message), ' +
    '2 usage or an unsupported context, 3 when QEMU cannot be started.',
  positionals: [
    { name: 'FILE', description: 'IGVM file' },
    { name: 'QEMU_ARGS', description: 'extra QEMU arguments (after --)', variadic: true, optional: true },
  ],
  options: [
    { name: 'qemu', type: 'string', default: 'qemu-system-x86_64', valueName: 'PATH', description: 'QEMU binary' },
    { name: 'memory', type: 'size', default: '512M', description: 'guest RAM (-m)' },
    { name: 'vcpus', type: 'number', default: 1, valueName: 'N', description: 'vCPU count (-smp)' },
    { name: 'machine', type: 'choice', choices: ['q35', 'pc'], default: 'q35', description: 'machine type' },
    { name: 'polyfill', type: 'boolean', description: 'use the ROM + loader polyfill even when QEMU supports IGVM' },
    { name: 'dry-run', type: 'boolean', description: 'print the QEMU command line (and keep the polyfill files in a printed directory) instead of running it' },
  ],
  examples: [
    { command: 'igvm run guest.igvm', description: 'boot on the installed QEMU (any version)' },
    { command: 'igvm run guest.igvm --memory 1G --vcpus 2 -- -no-reboot', description: 'with more memory and CPUs, and an extra QEMU option' },
    { command: 'igvm run guest.igvm --dry-run', description: 'show the command line' },
  ],
  async run(ctx) {
    const { runRun } = await import('./run-impl.js');
    return runRun(ctx);
  },
};
