// `igvm build` implementation, loaded when the command runs: options → buildIgvm → atomic write, digest lines (QEMU-LOADER.md §3–§7, MEASUREMENT.md §1, §7).
import { UsageError, numberOption, stringOption, type CommandContext } from '../framework.js';
import { readInput, writeAtomic } from '../../io/files.js';
import { parseEcPrivateKey } from '../../crypto/ec-key.js';
import { buildIgvm, type BuildOptions, type BuildPlatform, type BuildTarget, type Machine } from '../../build/index.js';
import { buildFirmwareIgvm } from '../../build/firmware.js';

const VMM_NAMES: Record<string, string> = { qemu: 'QEMU/KVM', 'clh-kvm': 'Cloud Hypervisor/KVM' };

function required(ctx: CommandContext, name: string): string {
  const v = stringOption(ctx.args, name);
  if (v === undefined || v === '') throw new UsageError(`option '--${name}' is required`);
  return v;
}

function parsePolicy(text: string): bigint {
  if (!/^(0x)?[0-9a-f]{1,16}$/i.test(text)) throw new UsageError(`option '--policy' expects a hexadecimal 64-bit value like 0x30000, got '${text}'`);
  return BigInt(text.toLowerCase().startsWith('0x') ? text : `0x${text}`);
}

export function runBuild(ctx: CommandContext): number {
  const firmwarePath = stringOption(ctx.args, 'firmware');
  if (firmwarePath !== undefined) {
    if (stringOption(ctx.args, 'kernel') !== undefined) throw new UsageError("options '--firmware' and '--kernel' cannot be combined: a firmware image boots from the reset vector and loads its own OS");
    const output = required(ctx, 'output');
    const platforms = required(ctx, 'platform').split(',').map((p) => p.trim()) as BuildPlatform[];
    const r = buildFirmwareIgvm({ name: firmwarePath, bytes: readInput(firmwarePath) }, platforms);
    writeAtomic(output, r.bytes);
    ctx.out(`wrote ${output}: ${r.bytes.length} bytes, firmware at 0x${r.gpa.toString(16)}; platforms native (mask 1)\n`);
    for (const n of r.notes) ctx.out(`note: ${n}\n`);
    return 0;
  }
  const kernelPath = required(ctx, 'kernel');
  const output = required(ctx, 'output');
  const platforms = required(ctx, 'platform').split(',').map((p) => p.trim()) as BuildPlatform[];
  const vcpus = numberOption(ctx.args, 'vcpus') ?? 1;
  const memory = numberOption(ctx.args, 'memory') ?? 512 * 2 ** 20;
  if (!Number.isSafeInteger(memory) || memory <= 0) throw new UsageError(`option '--memory' expects a positive size, got ${memory}`);
  const initrdPath = stringOption(ctx.args, 'initrd');
  const policyText = stringOption(ctx.args, 'policy');
  const keyPath = stringOption(ctx.args, 'sign-key');
  const opts: BuildOptions = {
    kernel: { name: kernelPath, bytes: readInput(kernelPath) },
    cmdline: stringOption(ctx.args, 'cmdline') ?? '',
    platforms,
    memory: BigInt(memory),
    vcpus,
    target: (stringOption(ctx.args, 'target') ?? 'qemu') as BuildTarget,
    machine: (stringOption(ctx.args, 'machine') ?? 'q35') as Machine,
    ...(initrdPath !== undefined ? { initrd: { name: initrdPath, bytes: readInput(initrdPath) } } : {}),
    ...(policyText !== undefined ? { policy: parsePolicy(policyText) } : {}),
    ...(keyPath !== undefined ? { signKey: parseEcPrivateKey(readInput(keyPath), keyPath) } : {}),
  };
  const r = buildIgvm(opts);
  writeAtomic(output, r.bytes);
  const masks = Object.entries(r.masks).map(([p, m]) => `${p} (mask ${m})`).join(', ');
  ctx.out(`wrote ${output}: ${r.bytes.length} bytes, ${r.layout.kernel.format} kernel at 0x${r.layout.kernel.start.toString(16)}, entry 0x${r.layout.kernel.entry.toString(16)}; platforms ${masks}\n`);
  for (const d of r.digests) {
    ctx.out(`${d.platform} launch digest (${VMM_NAMES[d.vmm] ?? d.vmm}, ${vcpus} vCPU${vcpus === 1 ? '' : 's'}): ${d.digest}\n`);
  }
  for (const n of r.notes) ctx.out(`note: ${n}\n`);
  return 0;
}
