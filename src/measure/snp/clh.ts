// SEV-SNP launch digest of an IGVM file launched by Cloud Hypervisor on KVM and on MSHV (MEASUREMENT.md §3.5).
//
// Selection (both): Cloud Hypervisor parses the file with the crate's SEV-SNP isolation filter, which keeps only
// directives whose mask intersects the SEV_SNP platform's mask, and then imports every directive it is given (the
// table's "all"); it takes the mask from the first platform and expects it to be SEV_SNP (a debug assertion only).
import { isActive, type DirectiveHeader, type IgvmFile } from '../../model.js';
import { SNP_PAGE, SnpLaunchDigest, type SnpPageType } from '../snp-digest.js';
import type { SnpMeasureFn } from './types.js';
import { PAGE_FLAG, PAGE_SIZE, count, firstSnpPlatform, insertAreaSize, intersects, pageDataType, parameterAreaSizes, result, vcpuCount } from './igvm.js';
import { addKvmVmsas, kvmVmsas } from './kvm-vmsa.js';

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

function selection(file: IgvmFile, vmm: 'clh-kvm' | 'clh-mshv'): { m: number; notes: string[]; included: (d: DirectiveHeader) => boolean } {
  const platform = firstSnpPlatform(file, vmm);
  const m = platform.compatibility_mask;
  const notes: string[] = [];
  if (file.platforms[0] !== platform) notes.push(`the first platform is not SEV_SNP; Cloud Hypervisor expects it to be (a debug assertion), using the SEV_SNP mask ${hex(m)}`);
  const included = (d: DirectiveHeader): boolean => isActive(d) && (!('compatibility_mask' in d) || intersects(d.compatibility_mask, m));
  return { m, notes, included };
}

/**
 * Cloud Hypervisor + KVM, in file order: pages without data are ZERO pages; shared flag not checked; PARAMETER_INSERT
 * one UNMEASURED page per 4 KiB of the area; the IGVM VMSA is not imported — KVM measures one VMSA per vCPU
 * (`vcpus`, default 1) at 0xFFFFFFFFF000 after all pages (kvm-vmsa.ts).
 */
export const measureSnpClhKvm: SnpMeasureFn = (file, opts = {}) => {
  const vcpus = vcpuCount(opts);
  const { m, notes, included } = selection(file, 'clh-kvm');
  const ld = new SnpLaunchDigest({ trace: opts.trace === true });
  const sizes = parameterAreaSizes(file);
  let zero = 0;
  let shared = 0;
  const directives = file.directives;
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!;
    if (!included(d)) continue;
    if (d.type === 'PAGE_DATA') {
      if (d.flags & PAGE_FLAG.SHARED) shared++;
      let type = pageDataType(d, i);
      if (type === SNP_PAGE.NORMAL && d.data === undefined) {
        type = SNP_PAGE.ZERO;
        zero++;
      }
      ld.addPage(d.gpa, type, type === SNP_PAGE.NORMAL ? d.data : undefined, i);
    } else if (d.type === 'PARAMETER_INSERT') {
      const size = insertAreaSize(sizes, d.parameter_area_index, i);
      for (let off = 0n; off < size; off += BigInt(PAGE_SIZE)) ld.addPage(d.gpa + off, SNP_PAGE.UNMEASURED, undefined, i);
    }
  }
  if (zero) notes.push(`${count(zero, 'page')} without data imported as ZERO pages`);
  if (shared) notes.push(`${count(shared, 'shared page')} measured (the shared flag is not checked)`);
  notes.push(addKvmVmsas(ld, kvmVmsas(file, included, vcpus)));
  return result('clh-kvm', m, ld, notes);
};

interface Pending {
  gpa: bigint;
  type: SnpPageType;
  page: Uint8Array | undefined;
  source: number;
}

/**
 * Cloud Hypervisor + MSHV: every imported page — including the VMSA page of vp 0 at its IGVM GPA — is sorted by GPA
 * (stable: equal GPAs keep file order) before import; pages without data are NORMAL pages of zeros; shared flag not
 * checked; a PARAMETER_INSERT is one UNMEASURED page at its GPA.
 */
export const measureSnpClhMshv: SnpMeasureFn = (file, opts = {}) => {
  const { m, notes, included } = selection(file, 'clh-mshv');
  const pages: Pending[] = [];
  let shared = 0;
  let otherVps = 0;
  const directives = file.directives;
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!;
    if (!included(d)) continue;
    if (d.type === 'PAGE_DATA') {
      if (d.flags & PAGE_FLAG.SHARED) shared++;
      const type = pageDataType(d, i);
      pages.push({ gpa: d.gpa, type, page: type === SNP_PAGE.NORMAL ? d.data : undefined, source: i });
    } else if (d.type === 'PARAMETER_INSERT') {
      pages.push({ gpa: d.gpa, type: SNP_PAGE.UNMEASURED, page: undefined, source: i });
    } else if (d.type === 'VP_CONTEXT' && d.context.kind === 'vmsa') {
      if (d.vp_index === 0) pages.push({ gpa: d.gpa, type: SNP_PAGE.VMSA, page: d.context.data, source: i });
      else otherVps++;
    }
  }
  pages.sort((a, b) => (a.gpa < b.gpa ? -1 : a.gpa > b.gpa ? 1 : 0));
  const ld = new SnpLaunchDigest({ trace: opts.trace === true });
  for (const p of pages) ld.addPage(p.gpa, p.type, p.page, p.source);
  notes.push('pages imported in ascending GPA order');
  if (shared) notes.push(`${count(shared, 'shared page')} measured (the shared flag is not checked)`);
  if (otherVps) notes.push(`${count(otherVps, 'VMSA')} for vp_index ≠ 0 not imported (only vp 0)`);
  return result('clh-mshv', m, ld, notes);
};
