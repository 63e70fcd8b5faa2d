// QEMU's SEV code as the IGVM loader drives it: cgs_set_guest_state per page type, under SEV, SEV-ES and SEV-SNP (QEMU-LOADER.md §7.1–§7.3).
//
// In the `uninit` phase (the pre-pass during KVM initialisation, or any pass when no KVM initialised the object)
// cgs_set_guest_state does nothing except check vp 0's SEV_FEATURES and remember them for KVM_SEV_INIT2.
import type { CgsPageType, MemoryPopulation } from '../plan.js';
import { stageOf, type LoaderContext, type SevState } from './context.js';
import { QemuFailure } from './failure.js';
import { MSG } from './messages.js';
import { checkSevFeatures, checkVmsaSupported, firstUnsynchronisedByte, sevFeaturesOf, vmsaFieldAt, vmsaPage } from './vmsa-check.js';

export interface GuestStateResult {
  measured: boolean;
  replaced: MemoryPopulation['replaced'];
}

const NOTHING: GuestStateResult = { measured: false, replaced: undefined };

/** A new SEV object state for `object`, with KVM's supported SEV_FEATURES when KVM initialised it. */
export function sevState(object: SevState['object'], phase: SevState['phase'], kvmFeatures: bigint | undefined): SevState {
  const snp = object === 'sev-snp';
  const es = snp || object === 'sev-es';
  // sev_init_supported_features: KVM's set (legacy KVM_SEV_INIT VMs: none), plus SNP_ACTIVE under SNP.
  const supported = kvmFeatures === undefined ? 0n : kvmFeatures | (snp ? 1n : 0n);
  return { object, phase, snp, es, supported, vmFeatures: 0n, snpQueue: [], launchData: [], vmsas: new Map() };
}

/** cgs_set_guest_state for a memory range (every type except VMSA). */
export function setGuestMemory(
  ctx: LoaderContext, gpa: bigint, size: bigint, type: Exclude<CgsPageType, 'VMSA'>, directive: number, count: number,
): GuestStateResult {
  const sev = ctx.sev;
  if (sev === undefined || sev.phase === 'uninit') return NOTHING;
  switch (type) {
    case 'NORMAL':
    case 'ZERO':
      if (sev.snp) {
        sev.snpQueue.push({ gpa, length: size, type: 'NORMAL', directive, count });
      } else {
        sev.launchData.push({ gpa, length: size, directive, count });
      }
      return { measured: true, replaced: undefined };
    case 'UNMEASURED':
      if (sev.snp) sev.snpQueue.push({ gpa, length: size, type: 'UNMEASURED', directive, count });
      return NOTHING;
    case 'SECRETS':
      if (!sev.snp) throw new QemuFailure(MSG.secretsWithoutSnp(), stageOf(ctx), { directive });
      sev.snpQueue.push({ gpa, length: size, type: 'SECRETS', directive, count });
      return { measured: false, replaced: 'psp-secrets' };
    case 'CPUID':
      if (!sev.snp) throw new QemuFailure(MSG.cpuidWithoutSnp(), stageOf(ctx), { directive });
      sev.snpQueue.push({ gpa, length: size, type: 'CPUID', directive, count });
      return { measured: false, replaced: 'kvm-cpuid-table' };
    case 'REQUIRED_MEMORY':
      return convertToPrivate(ctx, sev, gpa, size, directive);
  }
}

/** kvm_convert_memory(gpa, size, private): only guest_memfd memory (sev-snp-guest) can be converted. */
function convertToPrivate(ctx: LoaderContext, sev: SevState, gpa: bigint, size: bigint, directive: number): GuestStateResult {
  if (sev.snp) return NOTHING;
  throw new QemuFailure(MSG.requiredMemory(gpa), stageOf(ctx), {
    directive,
    before: [{ level: 'error', text: MSG.convertNonMemfd(gpa, size) }],
  });
}

/** cgs_set_guest_state(…, CGS_PAGE_TYPE_VMSA, vp_index) for a VP_CONTEXT. */
export function setGuestVmsa(ctx: LoaderContext, gpa: bigint, data: Uint8Array, vpIndex: number, directive: number): void {
  const sev = ctx.sev;
  if (sev === undefined) throw new Error('unreachable: VMSA without an SEV object');
  const page = vmsaPage(data);
  if (sev.phase === 'uninit') {
    if (vpIndex !== 0) return;
    const features = sevFeaturesOf(page);
    const error = checkSevFeatures(features, sev.snp, sev.supported);
    if (error !== undefined) throw new QemuFailure(error, stageOf(ctx), { directive });
    sev.vmFeatures = features;
    return;
  }
  if (!sev.es) throw new QemuFailure(MSG.vmsaWithoutEs(), stageOf(ctx), { directive });
  const error = checkVmsaSupported(gpa, page, sev.snp, sev.supported);
  if (error !== undefined) {
    const at = firstUnsynchronisedByte(page);
    const detail = error === MSG.vmsaUnsynchronised() ? `the first unsynchronised non-zero field is ${vmsaFieldAt(at)} (page offset 0x${at.toString(16)})` : undefined;
    throw new QemuFailure(error, stageOf(ctx), { directive, ...(detail !== undefined ? { detail } : {}) });
  }
  if (vpIndex >= ctx.cfg.vcpus) throw new QemuFailure(MSG.cpuOutOfBounds(vpIndex), stageOf(ctx), { directive });
  // sev_set_cpu_context: a second context for the same vCPU replaces the first.
  sev.vmsas.set(vpIndex, { page, gpa, directive });
}

/** qigvm_type_to_cgs_type: the page type of a PAGE_DATA region, or undefined for a data type QEMU does not know. */
export function pageDataCgsType(dataType: number, unmeasured: boolean, zero: boolean): Exclude<CgsPageType, 'VMSA' | 'REQUIRED_MEMORY'> | undefined {
  switch (dataType) {
    case 0:
      return unmeasured ? 'UNMEASURED' : zero ? 'ZERO' : 'NORMAL';
    case 1:
      return 'SECRETS';
    case 2:
    case 3:
      return 'CPUID';
    default:
      return undefined;
  }
}
