// The SEV / SEV-ES launch digest (GCTX.LD) QEMU 10.2 + KVM produce for an IGVM file, from the loader's launch updates (MEASUREMENT.md §4.2, QEMU-LOADER.md §7).
//
// Modelled: the file is loaded as QEMU does with a sev-guest object under KVM (src/load); LD = SHA-256 over, in order,
// * every KVM_SEV_LAUNCH_UPDATE_DATA range QEMU issues (page regions of NORMAL or ZERO pages, flushed as QEMU merges
//   them; pages without data hash 4096 zero bytes; UNMEASURED pages and parameter inserts are not passed), with the
//   guest memory the loader leaves in those pages;
// * SEV-ES: one LAUNCH_UPDATE_VMSA page per vCPU, the VMSA KVM builds from the registers QEMU loads (src/load/qemu/kvm-vmsa.ts).
// The launch policy is the sev-guest object's (`policy`, default 0x1 / 0x5): QEMU does not use the file's GUEST_POLICY.
import { IgvmError } from '../errors.js';
import type { IgvmFile } from '../model.js';
import { loadIgvmFile } from '../load/index.js';
import type { LoadPlan } from '../load/plan.js';
import { createSha256, sha256 } from '../crypto/hash.js';
import { firstSevPlatform, type SevPlatform } from './sev.js';
import type { MeasureStep } from './trace.js';

export interface SevQemuOptions {
  /** vCPU count: SEV-ES measures one VMSA per vCPU. Default 1. */
  vcpus?: number;
  /** Guest memory in bytes (default 512 MiB) and machine (default q35). */
  memory?: bigint;
  machine?: 'q35' | 'pc';
  /** The sev-guest object's policy (default 0x1 for sev, 0x5 for sev-es). */
  policy?: number;
  trace?: boolean;
}

export interface SevQemuMeasurement {
  /** The 32-byte LD the PSP accumulates (the input of LAUNCH_MEASURE's HMAC). */
  digest: Uint8Array;
  mask: number;
  /** Pages hashed (data pages plus VMSAs). */
  records: number;
  /** The launch policy QEMU starts the guest with. */
  launchPolicy: number;
  steps: MeasureStep[] | undefined;
  notes: string[];
}

const PAGE = 4096n;

/** IgvmFile.directives index of each QEMU directive index, from the plan's memory populations. */
function modelIndexOf(plan: LoadPlan): Map<number, number> {
  const out = new Map<number, number>();
  for (const p of plan.populations) for (let k = 0; k < p.count; k++) out.set(p.directive + k, p.modelIndex + k);
  return out;
}

/** IgvmFile.directives index of the (last) VMSA VP_CONTEXT QEMU applies to vp `vp`. */
function vmsaDirective(file: IgvmFile, mask: number, vp: number): number | undefined {
  let found: number | undefined;
  file.directives.forEach((d, i) => {
    if (d.type === 'VP_CONTEXT' && d.vp_index === vp && (d.compatibility_mask & mask) !== 0 && d.context.kind === 'vmsa') found = i;
  });
  return found;
}

/** GCTX.LD of `file` launched by QEMU 10.2 + KVM as an SEV (`sev`) or SEV-ES (`sev-es`) guest. */
export function measureSevQemu(file: IgvmFile, platform: SevPlatform, opts: SevQemuOptions = {}): SevQemuMeasurement {
  const mask = firstSevPlatform(file, platform).compatibility_mask;
  const result = loadIgvmFile(file, {
    platform, accel: 'kvm', vcpus: opts.vcpus ?? 1,
    ...(opts.memory !== undefined ? { memory: opts.memory } : {}),
    ...(opts.machine !== undefined ? { machine: opts.machine } : {}),
    ...(opts.policy !== undefined ? { sevPolicy: opts.policy } : {}),
  });
  if (!result.ok) throw new IgvmError('measure-qemu-rejected', result.failure.message);
  const plan = result.plan;
  const sev = plan.sev;
  if (sev === undefined) throw new Error('unreachable: an SEV load without an SEV plan');
  const h = createSha256();
  const steps: MeasureStep[] | undefined = opts.trace ? [] : undefined;
  const index = modelIndexOf(plan);
  let records = 0;
  for (const u of sev.launchUpdateData) {
    const pages = Number(u.length / PAGE);
    const perDirective = Math.max(1, pages / u.count);
    for (let i = 0; i < pages; i++) {
      const gpa = u.gpa + BigInt(i) * PAGE;
      const page = plan.memory.readPage(Number(gpa / PAGE));
      h.update(page);
      records++;
      steps?.push({ kind: 'PAGE', gpa, contents: sha256(page), digest: undefined, source: index.get(u.directive + Math.floor(i / perDirective)), detail: 'LAUNCH_UPDATE_DATA' });
    }
  }
  for (const v of plan.vps) {
    if (v.kvmVmsa === undefined) continue;
    const source = v.source === 'igvm-vmsa' ? vmsaDirective(file, mask, v.vp) : undefined;
    h.update(v.kvmVmsa);
    records++;
    steps?.push({
      kind: 'VMSA', gpa: undefined, contents: sha256(v.kvmVmsa), digest: undefined, source,
      detail: `LAUNCH_UPDATE_VMSA vp ${v.vp} (KVM-built from ${source !== undefined ? "the file's VMSA" : 'the reset state'})`,
    });
  }
  const notes = [...plan.notes];
  const zero = plan.populations.filter((p) => p.source === 'zero' && p.measured).reduce((n, p) => n + Number(p.size / PAGE), 0);
  if (zero > 0) notes.push(`${zero} page${zero === 1 ? '' : 's'} without data measured as 4096 zero bytes`);
  if (platform === 'sev-es') notes.push(`${plan.vps.length} KVM-built VMSA${plan.vps.length === 1 ? '' : 's'} measured after the data, one per vCPU`);
  return { digest: h.digest(), mask, records, launchPolicy: sev.launchPolicy, steps, notes };
}
