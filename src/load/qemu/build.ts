// The load plan from the loader state: vCPU state, SEV-SNP launch updates (queued pages then one VMSA per vCPU), SEV data, policy (QEMU-LOADER.md §6, §7, §7.5).
import { SNP_PAGE, type SnpPageType } from '../../measure/snp-digest.js';
import type { RamLayout } from '../e820.js';
import type { LoadPlan, ParameterAreaPlan, SevPlan, SnpIdBlockPlan, SnpLaunchUpdate, SnpPlan, SnpUpdateType, VpState } from '../plan.js';
import type { AreaState, LoaderContext, SevState } from './context.js';
import { pageNumber } from './guest-memory.js';
import { authorKeyEnabled, idAuthBytes, idBlockBytes } from './id-block.js';
import { applyVmsa, kvmStateNotes, kvmVmsa } from './kvm-vmsa.js';
import { nativeBspState } from './native-context.js';
import { resetState } from './cpu-state.js';
import { KVM_VMSA_GPA, SEV_FEAT_SNP_ACTIVE } from './vmsa-check.js';

const PAGE_TYPE: Record<SnpUpdateType, SnpPageType> = {
  NORMAL: SNP_PAGE.NORMAL, UNMEASURED: SNP_PAGE.UNMEASURED, SECRETS: SNP_PAGE.SECRETS, CPUID: SNP_PAGE.CPUID, VMSA: SNP_PAGE.VMSA,
};

/** The plan of what QEMU did (complete after a successful pass, partial after a failure). */
export function buildPlan(ctx: LoaderContext, ram: RamLayout): LoadPlan {
  const vps = vpStates(ctx);
  const snp = ctx.sev?.snp === true ? snpPlan(ctx, ctx.sev, vps) : undefined;
  const sev = ctx.sev !== undefined && !ctx.sev.snp ? sevPlan(ctx, ctx.sev) : undefined;
  const notes = [...ctx.notes];
  for (const v of vps) if (v.kvmVmsa !== undefined) notes.push(...kvmStateNotes(v.vp, v.registers));
  return {
    platform: ctx.platform,
    ram,
    e820: ctx.e820,
    addressSpace: ctx.space.view(),
    populations: ctx.populations,
    parameterAreas: [...ctx.areas.values()].map(areaPlan),
    vps,
    snp,
    sev,
    guestPolicy: ctx.sevPolicy,
    warnings: ctx.warnings,
    notes,
    memory: ctx.memory,
  };
}

function areaPlan(a: AreaState): ParameterAreaPlan {
  return {
    index: a.index, size: a.size, directive: a.directive, fileDataIgnored: a.fileDataIgnored,
    bytes: a.snapshot ?? a.data ?? new Uint8Array(0), writes: a.writes, insertedAt: a.insertedAt,
  };
}

/** Native: the BSP from its context (or reset), APs in reset state. SEV-ES/SNP: every vCPU from its VMSA or reset. */
function vpStates(ctx: LoaderContext): VpState[] {
  const { cpu, cpuSignature, vcpus } = ctx.cfg;
  const out: VpState[] = [];
  const sev = ctx.sev;
  for (let vp = 0; vp < vcpus; vp++) {
    if (sev === undefined) {
      const bsp = vp === 0 ? ctx.nativeBsp : undefined;
      out.push({
        vp, source: bsp ? 'igvm-native' : 'reset', directive: bsp?.directive,
        registers: bsp ? nativeBspState(bsp, cpu, cpuSignature) : resetState(cpuSignature), fileVmsa: undefined, kvmVmsa: undefined,
      });
      continue;
    }
    const launch = sev.vmsas.get(vp);
    const registers = launch ? applyVmsa(launch.page, cpu, cpuSignature) : resetState(cpuSignature);
    out.push({
      vp, source: launch ? 'igvm-vmsa' : 'reset', directive: launch?.directive, registers,
      fileVmsa: launch?.page, kvmVmsa: sev.es ? kvmVmsa(registers, vmFeatures(sev)) : undefined,
    });
  }
  return out;
}

/** The SEV_FEATURES KVM puts in every VMSA: vp 0's (from the pre-pass) without SNP_ACTIVE, plus SNP_ACTIVE under SNP. */
export function vmFeatures(sev: SevState): bigint {
  return (sev.vmFeatures & ~SEV_FEAT_SNP_ACTIVE) | (sev.snp ? SEV_FEAT_SNP_ACTIVE : 0n);
}

/** KVM_SEV_SNP_LAUNCH_UPDATE page by page in queue order (contents: guest memory at launch), then the VMSAs at LAUNCH_FINISH. */
function snpLaunchUpdates(ctx: LoaderContext, sev: SevState, vps: readonly VpState[]): SnpLaunchUpdate[] {
  const out: SnpLaunchUpdate[] = [];
  for (const q of sev.snpQueue) {
    const first = pageNumber(q.gpa);
    const pages = Number(q.length / 4096n);
    const pagesPerDirective = Math.max(1, pages / q.count);
    for (let i = 0; i < pages; i++) {
      const directive = q.directive + Math.floor(i / pagesPerDirective);
      out.push({
        gpa: q.gpa + BigInt(i) * 4096n, type: q.type, pageType: PAGE_TYPE[q.type],
        contents: q.type === 'NORMAL' ? ctx.memory.readPage(first + i) : undefined,
        directive, modelIndex: ctx.view.directives[directive]?.modelIndex, vcpu: undefined,
      });
    }
  }
  for (const v of vps) {
    out.push({ gpa: KVM_VMSA_GPA, type: 'VMSA', pageType: SNP_PAGE.VMSA, contents: v.kvmVmsa, directive: undefined, modelIndex: undefined, vcpu: v.vp });
  }
  return out;
}

function snpPlan(ctx: LoaderContext, sev: SevState, vps: readonly VpState[]): SnpPlan {
  const guestPolicy = ctx.sevPolicy ?? 0n;
  const launchPolicy = ctx.cfg.snpPolicy ?? 0x30000n;
  let idBlock: SnpIdBlockPlan | undefined;
  if (ctx.platform.type === 'SEV_SNP' && ctx.idBlock !== undefined) {
    const idAuth = idAuthBytes(ctx.idBlock.h);
    idBlock = { directive: ctx.idBlock.directive, idBlock: idBlockBytes(ctx.idBlock.h, guestPolicy), idAuth, authorKeyEnabled: authorKeyEnabled(idAuth) };
  }
  if (ctx.platform.type === 'SEV_SNP' && guestPolicy !== launchPolicy) {
    ctx.notes.push(`the sev-snp-guest policy 0x${launchPolicy.toString(16)} (SNP_LAUNCH_START) differs from the file's GUEST_POLICY 0x${guestPolicy.toString(16)}; the firmware rejects an ID block whose policy is not the launch policy`);
  }
  duplicateUpdateNotes(ctx, sev);
  return { launchUpdates: snpLaunchUpdates(ctx, sev, vps), launchPolicy, guestPolicy, idBlock, sevFeatures: vmFeatures(sev) };
}

/** KVM refuses a second SNP_LAUNCH_UPDATE of a page that is already private (at launch, not while loading). */
function duplicateUpdateNotes(ctx: LoaderContext, sev: SevState): void {
  const seen = new Set<number>();
  for (const q of sev.snpQueue) {
    const first = pageNumber(q.gpa);
    for (let i = 0; i < Number(q.length / 4096n); i++) {
      if (seen.has(first + i)) {
        ctx.notes.push(`GPA 0x${(q.gpa + BigInt(i) * 4096n).toString(16)} is launch-updated twice (directive ${q.directive}); KVM fails the second SNP_LAUNCH_UPDATE of a private page`);
        return;
      }
      seen.add(first + i);
    }
  }
}

function sevPlan(ctx: LoaderContext, sev: SevState): SevPlan {
  return {
    launchUpdateData: sev.launchData,
    vmsaUpdates: sev.es ? ctx.cfg.vcpus : 0,
    launchPolicy: ctx.cfg.sevPolicy ?? (sev.es ? 0x5 : 0x1),
    sevFeatures: vmFeatures(sev),
  };
}
