// The QEMU configuration a load is predicted for: defaults, the SEV object for each platform choice, and -smp limits (QEMU-LOADER.md §1, §3).
import { IgvmError } from '../../errors.js';
import { isActive, type IgvmFile, type SupportedPlatform } from '../../model.js';
import { PLATFORM_TYPE } from '../../spec/constants.js';
import type { QemuConfig, QemuCpu, QemuMachine, ResolvedQemuConfig, SevObject } from '../plan.js';
import { strongestDeclared } from './platform.js';

export const DEFAULT_MEMORY = 512n * 1024n * 1024n;
/** QEMU's default sev-snp-guest policy (SMT allowed, bit 17 reserved-must-be-one). */
export const DEFAULT_SNP_POLICY = 0x30000n;
/** KVM_X86_SEV_VMSA_FEATURES of upstream Linux on an SNP host: DebugSwap. */
export const DEFAULT_KVM_VMSA_FEATURES = 0x20n;
const SEV_POLICY_ES = 0x4;

/** The machine type names -machine pc / q35 resolve to, and their CPU limits. */
export const MACHINE_NAMES: Record<QemuMachine, { name: string; maxCpus: number }> = {
  pc: { name: 'pc-i440fx-10.2', maxCpus: 255 },
  q35: { name: 'pc-q35-10.2', maxCpus: 4096 },
};

/** CPUID(1).EAX of the CPU models: qemu64 family 15 model 107 stepping 1; EPYC-v4 family 23 model 1 stepping 2. */
const CPU_SIGNATURE: Record<QemuCpu, number> = { qemu64: 0x00060fb1, 'EPYC-v4': 0x00800f12, 'host-amd': 0, 'host-intel': 0 };

function configError(message: string): IgvmError {
  return new IgvmError('load-config', message);
}

function sevObjectFor(choice: QemuConfig['platform'], platforms: readonly SupportedPlatform[]): SevObject {
  switch (choice ?? 'auto') {
    case 'auto': return strongestDeclared(platforms);
    case 'native': return 'none';
    case 'sev': return 'sev';
    case 'sev-es': return 'sev-es';
    case 'sev-snp': return 'sev-snp';
    default: throw configError(`platform must be auto, native, sev, sev-es or sev-snp, not '${String(choice)}'`);
  }
}

function positiveInteger(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw configError(`${what} must be a positive integer, got ${value}`);
  return value;
}

function memoryBytes(memory: QemuConfig['memory']): bigint {
  const m = memory === undefined ? DEFAULT_MEMORY : typeof memory === 'bigint' ? memory : Number.isSafeInteger(memory) ? BigInt(memory) : -1n;
  if (m <= 0n) throw configError(`memory must be a positive number of bytes, got ${String(memory)}`);
  return m;
}

/** The sev-guest policy: given, or 0x1 / 0x5; it must agree with the ES choice (that is what makes the object SEV-ES). */
function sevPolicyFor(object: SevObject, given: number | undefined): number | undefined {
  if (object !== 'sev' && object !== 'sev-es') return undefined;
  const policy = given ?? (object === 'sev-es' ? 0x5 : 0x1);
  const es = (policy & SEV_POLICY_ES) !== 0;
  if (es !== (object === 'sev-es')) throw configError(`sev-guest policy 0x${policy.toString(16)} ${es ? 'has' : 'lacks'} the ES bit (0x4), which makes it ${es ? 'SEV-ES' : 'plain SEV'}, not ${object}`);
  return policy;
}

/** The value of the last GUEST_POLICY whose mask intersects the SEV-SNP platform's mask (QEMU's choice). */
export function fileSnpPolicy(file: IgvmFile | undefined): bigint | undefined {
  const snp = file?.platforms.find((p) => p.platform_type === PLATFORM_TYPE.SEV_SNP);
  if (!file || !snp) return undefined;
  let policy: bigint | undefined;
  for (const h of file.initializations) if (h.type === 'GUEST_POLICY' && isActive(h) && (h.compatibility_mask & snp.compatibility_mask) !== 0) policy = h.policy;
  return policy;
}

/** Fill in every default; throws IgvmError('load-config') for values that are not a QEMU configuration at all. */
export function resolveConfig(config: QemuConfig, file: IgvmFile | undefined): ResolvedQemuConfig {
  const platform = config.platform ?? 'auto';
  const sevObject = sevObjectFor(platform, file?.platforms ?? []);
  const accel = config.accel ?? 'tcg';
  const cpu = config.cpu ?? (sevObject === 'none' ? 'qemu64' : 'EPYC-v4');
  if (accel === 'tcg' && cpu.startsWith('host')) throw configError(`-cpu host needs KVM (accel tcg was given)`);
  if (sevObject !== 'none' && cpu === 'host-intel') throw configError('an SEV object needs an AMD host (cpu host-intel was given)');
  return {
    platform,
    sevObject,
    objectType: sevObject === 'none' ? undefined : sevObject === 'sev-snp' ? 'sev-snp-guest' : 'sev-guest',
    memory: memoryBytes(config.memory),
    vcpus: positiveInteger(config.vcpus ?? 1, 'vcpus'),
    machine: config.machine ?? 'q35',
    accel,
    cpu,
    cpuVendor: cpu === 'host-intel' ? 'intel' : 'amd',
    physBits: cpu.startsWith('host') ? 48 : 40,
    cpuSignature: (config.cpuSignature ?? CPU_SIGNATURE[cpu]) >>> 0,
    kvmVmsaFeatures: config.kvmVmsaFeatures ?? DEFAULT_KVM_VMSA_FEATURES,
    snpPolicy: sevObject === 'sev-snp' ? (config.snpPolicy ?? fileSnpPolicy(file) ?? DEFAULT_SNP_POLICY) : undefined,
    sevPolicy: sevPolicyFor(sevObject, config.sevPolicy),
    pflash: config.pflash === true,
    bios: config.bios,
  };
}
