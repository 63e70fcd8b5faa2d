// The SEV-SNP launch digest QEMU 10.2 + KVM produces for an IGVM file, from the loader's launch-update list (MEASUREMENT.md §3.4, QEMU-LOADER.md §7).
//
// Modelled (src/load): the file is loaded as QEMU does with a sev-snp-guest object under KVM (`memory`, default
// 512 MiB; `machine`, default q35; `vcpus`, default 1), and the PAGE_INFO chain is computed over the launch updates
// in the order KVM issues them:
// * directives included when `mask & M != 0`; the `shared` page flag is ignored (measured like a private page);
// * page regions as QEMU merges and flushes them — a pending region is launch-updated only when a non-matching page
//   arrives or after the initialization section, so a PARAMETER_INSERT (or any other directive) goes before earlier,
//   still pending pages;
// * pages without data: NORMAL pages of zeros (never the ZERO type); `unmeasured` pages UNMEASURED; SECRETS type 5;
//   CPUID_DATA/CPUID_XF type 6 (QEMU replaces the contents with KVM's table; CPUID contents are not hashed);
// * PARAMETER_INSERT: one UNMEASURED page per 4 KiB of the area; REQUIRED_MEMORY: nothing;
// * NORMAL contents: guest memory when KVM performs the update (after loading; later writes to a GPA win);
// * one VMSA per vCPU at 0xFFFFFFFFF000 after everything else, whatever the VP_CONTEXT positions.
// Assumptions (src/load/qemu/kvm-vmsa.ts): the VMSA bytes are the ones KVM builds from the vCPU registers QEMU loads
// from the file's VMSA (only the fields QEMU synchronises, with KVM's EFER.SVME, CR4.MCE, CR0 CD/NW and RFLAGS bit 1
// adjustments, TR base taken from LDTR as QEMU does, one SEV_FEATURES for the VM from vp 0) — for vCPUs without a
// context the reset state with the CPUID signature of EPYC-v4 in RDX; an SEV-SNP capable host whose KVM reports
// DebugSwap (0x20) as its VMSA features. Everything QEMU rejects raises 'measure-qemu-rejected' with QEMU's message.
import { IgvmError } from '../../errors.js';
import { loadIgvmFile } from '../../load/index.js';
import type { LoadPlan } from '../../load/plan.js';
import { PLATFORM_TYPE } from '../../spec/constants.js';
import { SnpLaunchDigest } from '../snp-digest.js';
import type { SnpMeasureFn, SnpMeasurement } from './types.js';

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

export const measureSnpQemu: SnpMeasureFn = (file, opts = {}) => {
  const platform = file.platforms.find((p) => p.platform_type === PLATFORM_TYPE.SEV_SNP);
  if (platform === undefined) throw new IgvmError('measure-no-snp-platform', 'the file declares no SEV_SNP platform, so QEMU cannot launch it as an SEV-SNP guest');
  const result = loadIgvmFile(file, {
    platform: 'sev-snp',
    accel: 'kvm',
    vcpus: opts.vcpus ?? 1,
    ...(opts.memory !== undefined ? { memory: opts.memory } : {}),
    ...(opts.machine !== undefined ? { machine: opts.machine } : {}),
  });
  if (!result.ok) throw new IgvmError('measure-qemu-rejected', result.failure.message);
  const snp = result.plan.snp;
  if (snp === undefined) throw new Error('unreachable: an SEV-SNP load without an SNP plan');
  const ld = new SnpLaunchDigest({ trace: opts.trace === true });
  for (const u of snp.launchUpdates) ld.addPage(u.gpa, u.pageType, u.contents, u.modelIndex);
  const measurement: SnpMeasurement = {
    vmm: 'qemu',
    digest: ld.digest(),
    mask: result.plan.platform.mask,
    steps: ld.steps,
    notes: notesOf(result.plan, result.config.vcpus),
  };
  return measurement;
};

function notesOf(plan: LoadPlan, vcpus: number): string[] {
  const notes: string[] = [];
  const updates = plan.snp?.launchUpdates ?? [];
  const zero = plan.populations.filter((p) => p.source === 'zero' && p.sevType === 'ZERO').reduce((n, p) => n + Number(p.size / 4096n), 0);
  if (zero > 0) notes.push(`${zero} page${zero === 1 ? '' : 's'} without data measured as NORMAL pages of zeros`);
  const shared = plan.populations.filter((p) => p.flags !== undefined && (p.flags & 4) !== 0).length;
  if (shared > 0) notes.push(`${shared} region${shared === 1 ? '' : 's'} with the shared flag measured like private pages (QEMU ignores the flag)`);
  const reordered = reorderedRegions(plan);
  if (reordered > 0) notes.push(`${reordered} page region${reordered === 1 ? '' : 's'} launch-updated after later directives (QEMU flushes pending regions late)`);
  const vmsas = updates.filter((u) => u.type === 'VMSA').length;
  notes.push(`KVM measures ${vmsas} VMSA${vmsas === 1 ? '' : 's'} (one per vCPU, ${vcpus} vCPU${vcpus === 1 ? '' : 's'}) at ${hex(0xfffffffff000n)} after all pages`);
  for (const v of plan.vps) notes.push(`vp ${v.vp}: ${v.source === 'igvm-vmsa' ? `VMSA from VP_CONTEXT at directive ${v.directive ?? '?'}` : 'reset-state VMSA'}`);
  notes.push(...plan.notes);
  return notes;
}

/** Populations whose directive index is lower than that of an earlier population (i.e. measured out of file order). */
function reorderedRegions(plan: LoadPlan): number {
  let count = 0;
  let maxSeen = -1;
  for (const p of plan.populations) {
    if (p.directive < maxSeen) count++;
    maxSeen = Math.max(maxSeen, p.directive);
  }
  return count;
}
