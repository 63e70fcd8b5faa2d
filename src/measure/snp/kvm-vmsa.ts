// The VMSAs KVM measures at SNP LAUNCH_FINISH: one per vCPU at 0xFFFFFFFFF000 after all pages (MEASUREMENT.md §1.3).
//
// Assumptions (documented because the real bytes come from KVM, not from the file):
// * vCPU i with an IGVM SNP VP context (vp_index i): KVM's VMSA equals the file's 4096-byte VMSA page. This holds when
//   the page contains only fields QEMU/KVM synchronise (QEMU-LOADER.md §7.3, which QEMU enforces); a later context for
//   the same vp_index replaces an earlier one.
// * vCPU i without a context: the VMSA KVM derives from the x86 reset state, with the values virtee's sev-snp-measure
//   uses for QEMU (CS f000:ffff0000 limit 0xffff attrib 0x9b, RIP 0xfff0, data segments attrib 0x93, LDTR 0x82,
//   TR 0x8b, EFER 0x1000 (SVME), CR0 0x10, CR4 0x40 (MCE), DR6 0xffff0ff0, DR7 0x400, RFLAGS 2, G_PAT
//   0x0007040600070406, XCR0 1), SEV_FEATURES from vp 0's VMSA (KVM applies one feature set to the whole VM; 1 = SNP
//   when vp 0 has no context) and RDX 0 — the real RDX is the CPU's family/model/stepping signature, which depends on
//   the host, so digests of files that leave vCPUs without a context are only exact for a signature of 0.
import { IgvmError } from '../../errors.js';
import type { IgvmFile, VpContext } from '../../model.js';
import { encodeVmsa } from '../../format/contexts.js';
import { SNP_PAGE, type SnpLaunchDigest } from '../snp-digest.js';

/** The GPA the PSP records for a VMSA page under KVM: (u64)−1, page aligned, bits above 51 cleared. */
export const KVM_VMSA_GPA = 0xfffffffff000n;

const SEV_FEATURES_OFFSET = 0x3b0;

/** One VMSA KVM measures. */
export interface KvmVmsa {
  vp: number;
  /** 4096-byte VMSA page. */
  page: Uint8Array;
  /** Directive index of the VP_CONTEXT it comes from; undefined for a reset-state VMSA. */
  from: number | undefined;
}

/** The reset-state VMSA KVM builds for a vCPU without an IGVM context (assumptions in the header comment). */
export function resetStateVmsa(sevFeatures: bigint): Uint8Array {
  const data = { selector: 0, attrib: 0x93, limit: 0xffff, base: 0n };
  return encodeVmsa({
    es: data,
    cs: { selector: 0xf000, attrib: 0x9b, limit: 0xffff, base: 0xffff0000n },
    ss: data,
    ds: data,
    fs: data,
    gs: data,
    gdtr: { selector: 0, attrib: 0, limit: 0xffff, base: 0n },
    idtr: { selector: 0, attrib: 0, limit: 0xffff, base: 0n },
    ldtr: { selector: 0, attrib: 0x82, limit: 0xffff, base: 0n },
    tr: { selector: 0, attrib: 0x8b, limit: 0xffff, base: 0n },
    efer: 0x1000n,
    cr4: 0x40n,
    cr0: 0x10n,
    dr7: 0x400n,
    dr6: 0xffff0ff0n,
    rflags: 0x2n,
    rip: 0xfff0n,
    pat: 0x0007040600070406n,
    rdx: 0n,
    sev_features: sevFeatures,
    xcr0: 0x1n,
  });
}

/**
 * The VMSA KVM measures for each of `vcpus` vCPUs, in vCPU order. `include` selects the VP_CONTEXT directives the VMM
 * applies (only SNP VMSA contexts are considered). A context whose vp_index is not a vCPU is an error.
 */
export function kvmVmsas(file: IgvmFile, include: (d: VpContext) => boolean, vcpus: number): KvmVmsa[] {
  const byVp = new Map<number, { page: Uint8Array; from: number }>();
  file.directives.forEach((d, i) => {
    if (d.type !== 'VP_CONTEXT' || d.context.kind !== 'vmsa' || !include(d)) return;
    if (d.vp_index >= vcpus) {
      throw new IgvmError(
        'measure-vp-index',
        `VP_CONTEXT #${i} is for vp_index ${d.vp_index} but the guest has ${vcpus} vCPU${vcpus === 1 ? '' : 's'} (give the vCPU count with --vcpus)`,
        { path: `directives[${i}].vp_index` },
      );
    }
    const page = new Uint8Array(4096);
    page.set(d.context.data.subarray(0, 4096));
    byVp.set(d.vp_index, { page, from: i });
  });
  const vp0 = byVp.get(0)?.page;
  const features = vp0 ? new DataView(vp0.buffer, vp0.byteOffset).getBigUint64(SEV_FEATURES_OFFSET, true) : 1n;
  let reset: Uint8Array | undefined;
  const out: KvmVmsa[] = [];
  for (let vp = 0; vp < vcpus; vp++) {
    const ctx = byVp.get(vp);
    if (ctx) out.push({ vp, page: ctx.page, from: ctx.from });
    else out.push({ vp, page: (reset ??= resetStateVmsa(features)), from: undefined });
  }
  return out;
}

/** Measure the KVM VMSAs (source undefined: VMM-made pages) and describe them in one note. */
export function addKvmVmsas(ld: SnpLaunchDigest, vmsas: readonly KvmVmsa[]): string {
  for (const v of vmsas) ld.addPage(KVM_VMSA_GPA, SNP_PAGE.VMSA, v.page, undefined);
  const parts = vmsas.map((v) => `vp ${v.vp} ${v.from === undefined ? 'reset state' : `from VP_CONTEXT #${v.from}`}`);
  return `KVM measures ${vmsas.length} VMSA${vmsas.length === 1 ? '' : 's'} at 0xfffffffff000 after all pages (${parts.join(', ')})`;
}
