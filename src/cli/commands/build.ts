// `igvm build --kernel FILE … -o out.igvm`: a Linux kernel as a NATIVE / SEV-ES / SEV-SNP IGVM file for QEMU 10.2 (QEMU-LOADER.md §3–§7, LINUX-NATIVE-BOOT.md).
import type { CommandSpec } from '../framework.js';

export const buildCommand: CommandSpec = {
  name: 'build',
  summary: 'build an IGVM file that boots a Linux kernel (bzImage or ELF) natively, under SEV-ES or under SEV-SNP',
  usage: '--kernel FILE|--firmware FILE [--initrd FILE] [--cmdline STR] --platform native[,sev-es][,sev-snp] [--memory 512M] [--vcpus N] [--target qemu|cloud-hypervisor] [--policy HEX] [--sign-key P384.pem] -o out.igvm',
  description:
    'Lays out the kernel (bzImage at pref_address, boot protocol 2.10 or later; or ELF PT_LOAD segments at their physical addresses), ' +
    'a boot_params page with the setup header, e820 (from --memory, as QEMU splits RAM), command line, initrd and ACPI tables with a MADT for --vcpus, ' +
    'and starts the boot CPU in 32-bit protected mode at the kernel entry with rsi = boot_params. One file serves every --platform: ' +
    'SEV-ES and SEV-SNP get a VMSA at 0xFFFFFFFFF000 as QEMU/KVM requires, SEV-SNP also a CPUID page, a secrets page, a cc_blob and its GUEST_POLICY. ' +
    'Prints the SEV-SNP launch digest (QEMU/KVM model for --vcpus; Cloud Hypervisor/KVM with --target cloud-hypervisor); ' +
    'with --sign-key the file carries an SNP_ID_BLOCK signed for that digest. Bad input: one error line, exit 2, no output file.',
  positionals: [],
  options: [
    { name: 'kernel', type: 'string', valueName: 'FILE', description: 'Linux bzImage or ELF kernel (required unless --firmware)' },
    { name: 'initrd', type: 'string', valueName: 'FILE', description: 'initial ramdisk, placed page-aligned at the top of RAM below 4 GiB' },
    { name: 'cmdline', type: 'string', default: '', valueName: 'STR', description: 'kernel command line (printable ASCII)' },
    { name: 'platform', type: 'string', valueName: 'LIST', description: 'comma-separated platforms: native, sev-es, sev-snp (required)' },
    { name: 'memory', type: 'size', default: '512M', description: 'guest RAM the e820 table describes (QEMU -m)' },
    { name: 'vcpus', type: 'number', default: 1, valueName: 'N', description: 'vCPU count: MADT local APICs and the launch digest (-smp)' },
    { name: 'machine', type: 'choice', choices: ['q35', 'pc'], default: 'q35', description: "QEMU machine whose RAM split below 4 GiB the e820 follows (differs from 2.75 GiB up)" },
    { name: 'target', type: 'choice', choices: ['qemu', 'cloud-hypervisor'], default: 'qemu', description: 'VMM the file and the digest are for' },
    { name: 'policy', type: 'string', valueName: 'HEX', description: 'SEV-SNP guest policy (default 0x30000)' },
    { name: 'sign-key', type: 'string', valueName: 'FILE', description: 'P-384 private key (PEM or DER): add a signed SNP_ID_BLOCK' },
    { name: 'firmware', type: 'string', valueName: 'FILE', description: 'instead of --kernel: a firmware volume (e.g. OVMF.fd) mapped to end at 4 GiB, booting from the reset vector (native platform)' },
    { name: 'output', short: 'o', type: 'string', valueName: 'FILE', description: 'IGVM file to write (required)' },
  ],
  examples: [
    { command: "igvm build --kernel bzImage --cmdline 'console=ttyS0 panic=-1' --platform native -o linux.igvm", description: 'a native file for QEMU under TCG' },
    { command: 'igvm build --kernel bzImage --initrd initrd.img --platform native,sev-snp --vcpus 4 -o linux.igvm', description: 'one file for native and SEV-SNP; prints the SNP launch digest for 4 vCPUs' },
    { command: 'igvm build --kernel bzImage --platform sev-snp --sign-key id-p384.pem -o signed.igvm', description: 'with a signed ID block' },
  ],
  mapError: () => 2,
  async run(ctx) {
    // The builder, measurement and signing code is loaded only when the command runs.
    const { runBuild } = await import('./build-run.js');
    return runBuild(ctx);
  },
};
