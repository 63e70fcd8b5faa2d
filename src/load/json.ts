// A load result as plain data for `--json`: every plan field, with 4 KiB page contents replaced by their SHA-384 (QEMU-LOADER.md §2).
import { sha384 } from '../crypto/hash.js';
import type { LoadPlan, LoadResult, VpState } from './plan.js';
import { flagsToDescriptorAttributes, flagsToVmsaAttrib, modeOf } from './qemu/cpu-state.js';

/** JSON-ready form (bigint and byte arrays are left to the CLI's toJson: "0x…" strings and hex). */
export function loadResultToJson(r: LoadResult): Record<string, unknown> {
  if (!r.ok) return { ok: false, config: r.config, failure: r.failure, progress: r.progress ? planToJson(r.progress) : undefined };
  return { ok: true, config: r.config, plan: planToJson(r.plan) };
}

export function planToJson(p: LoadPlan): Record<string, unknown> {
  return {
    platform: p.platform,
    ram: p.ram,
    e820: p.e820,
    address_space: p.addressSpace,
    populations: p.populations,
    parameter_areas: p.parameterAreas,
    vps: p.vps.map(vpToJson),
    snp: p.snp && {
      launch_policy: p.snp.launchPolicy,
      guest_policy: p.snp.guestPolicy,
      sev_features: p.snp.sevFeatures,
      id_block: p.snp.idBlock,
      launch_updates: p.snp.launchUpdates.map((u) => ({
        gpa: u.gpa, type: u.type, page_type: u.pageType, directive: u.directive, model_index: u.modelIndex, vcpu: u.vcpu,
        contents_sha384: u.contents ? sha384(u.contents) : undefined,
      })),
    },
    sev: p.sev,
    guest_policy: p.guestPolicy,
    warnings: p.warnings,
    notes: p.notes,
  };
}

function vpToJson(v: VpState): Record<string, unknown> {
  const vmsaForm = v.kvmVmsa !== undefined;
  const seg = (s: VpState['registers']['cs']) => ({ ...s, attributes: vmsaForm ? flagsToVmsaAttrib(s.flags) : flagsToDescriptorAttributes(s.flags) });
  const r = v.registers;
  return {
    vp: v.vp, source: v.source, directive: v.directive, mode: modeOf(r),
    registers: { ...r, cs: seg(r.cs), ds: seg(r.ds), es: seg(r.es), fs: seg(r.fs), gs: seg(r.gs), ss: seg(r.ss), ldtr: seg(r.ldtr), tr: seg(r.tr) },
    file_vmsa: v.fileVmsa, kvm_vmsa: v.kvmVmsa,
  };
}
