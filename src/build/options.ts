// Checks of `igvm build` options before any layout work (SEV-SNP firmware ABI guest policy, QEMU-LOADER.md §3, ACPI MADT vCPU limit).
import { IgvmError } from '../errors.js';
import { describeCurve } from '../crypto/ec-key.js';
import { MAX_VCPUS } from '../acpi/default.js';
import type { BuildOptions, BuildPlatform } from './index.js';
import type { Machine } from './boot-params.js';

/** SEV-SNP guest policy default: ABI 0.0, SMT allowed (bit 16), reserved bit 17 set. */
export const DEFAULT_SNP_POLICY = 0x30000n;
const POLICY_RESERVED_ONE = 1n << 17n;
const KNOWN: readonly string[] = ['native', 'sev-es', 'sev-snp'];

export interface CheckedOptions {
  platforms: Set<BuildPlatform>;
  policy: bigint;
  machine: Machine;
}

function bad(code: string, path: string, message: string): never {
  throw new IgvmError(code, message, { path });
}

export function checkOptions(o: BuildOptions): CheckedOptions {
  if (!Array.isArray(o.platforms) || o.platforms.length === 0) bad('build-no-platform', '--platform', 'no platform given: expected one or more of native, sev-es, sev-snp');
  const platforms = new Set<BuildPlatform>();
  for (const p of o.platforms) {
    if (!KNOWN.includes(p)) bad('build-unknown-platform', '--platform', `unknown platform '${String(p)}': expected native, sev-es or sev-snp`);
    if (platforms.has(p)) bad('build-duplicate-platform', '--platform', `platform '${p}' is given twice`);
    platforms.add(p);
  }
  if (o.target !== 'qemu' && o.target !== 'cloud-hypervisor') bad('build-bad-target', '--target', `unknown target '${String(o.target)}': expected qemu or cloud-hypervisor`);
  if (o.target === 'cloud-hypervisor' && (platforms.size !== 1 || !platforms.has('sev-snp'))) {
    bad('build-target-platforms', '--platform', 'target cloud-hypervisor takes --platform sev-snp only (it applies the first platform\'s mask to every directive)');
  }
  const machine = o.machine ?? 'q35';
  if (machine !== 'q35' && machine !== 'pc') bad('build-bad-machine', '--machine', `unknown machine '${String(machine)}': expected q35 or pc`);
  if (!Number.isInteger(o.vcpus) || o.vcpus < 1 || o.vcpus > MAX_VCPUS) bad('build-bad-vcpus', '--vcpus', `--vcpus must be an integer in 1..${MAX_VCPUS} (the MADT's local APIC IDs), got ${String(o.vcpus)}`);
  if (typeof o.memory !== 'bigint' || o.memory <= 0n) bad('build-bad-memory', '--memory', `--memory must be a positive byte count, got ${String(o.memory)}`);
  if (typeof o.cmdline !== 'string') bad('cmdline-not-ascii', '--cmdline', 'the command line must be a string');
  for (let i = 0; i < o.cmdline.length; i++) {
    const c = o.cmdline.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) {
      const what = c > 0x7e ? `U+${c.toString(16).toUpperCase().padStart(4, '0')}` : `control character 0x${c.toString(16).padStart(2, '0')}`;
      bad('cmdline-not-ascii', '--cmdline', `the command line must be printable ASCII (0x20–0x7e); ${what} at index ${i} is not`);
    }
  }
  const snp = platforms.has('sev-snp');
  if (o.policy !== undefined) {
    if (!snp) bad('policy-without-snp', '--policy', 'a guest policy applies to SEV-SNP only; add sev-snp to --platform');
    if (typeof o.policy !== 'bigint' || o.policy < 0n || o.policy >= 1n << 64n) bad('policy-bad', '--policy', `the SEV-SNP guest policy is a 64-bit value, got ${String(o.policy)}`);
    if ((o.policy & POLICY_RESERVED_ONE) === 0n) bad('policy-bad', '--policy', `guest policy 0x${o.policy.toString(16)} has bit 17 clear; the SEV-SNP ABI requires it set (e.g. 0x30000)`);
  }
  if (o.signKey !== undefined) {
    if (!snp) bad('sign-key-without-snp', '--sign-key', 'an ID block is for SEV-SNP only; add sev-snp to --platform');
    if (o.signKey.curve !== 'P-384') {
      throw new IgvmError('key-unsupported-curve', `the key is on curve ${describeCurve(o.signKey.curve)}; the SNP ID block needs P-384 (secp384r1, 1.3.132.0.34)`, { path: '--sign-key', ...(o.signKey.file !== undefined ? { file: o.signKey.file } : {}) });
    }
  }
  return { platforms, policy: o.policy ?? DEFAULT_SNP_POLICY, machine };
}
