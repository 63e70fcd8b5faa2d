// SEV-SNP launch digest as coconut-svsm's `igvmmeasure` computes it (MEASUREMENT.md §3.3).
import { IgvmError } from '../../errors.js';
import { isActive } from '../../model.js';
import { VMSA_FIELDS_END } from '../../spec/vmsa.js';
import { SNP_PAGE, SnpLaunchDigest } from '../snp-digest.js';
import type { SnpMeasureFn } from './types.js';
import { PAGE_FLAG, PAGE_SIZE, count, firstSnpPlatform, intersects, pageDataType, result } from './igvm.js';

const LARGE_PAGES = 0x200000 / PAGE_SIZE;
const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/**
 * igvmmeasure (`--platform sev-snp`): the first SEV_SNP platform's mask M; PAGE_DATA and PARAMETER_INSERT included when
 * `mask & M != 0`; SNP VP contexts always. The `shared` flag is not examined. Pages without data are NORMAL pages of
 * zeros, or ZERO pages with `nativeZero` (`--native-zero`); a 2 MiB page without data is 512 4 KiB steps (with data,
 * igvmmeasure trips an assertion: an error here). A PARAMETER_INSERT is one UNMEASURED page whatever the area size.
 * The VMSA is hashed as the 4096-byte page (igvmmeasure pads the crate's VMSA structure to 4 KiB; with a ≤0.4.0 crate
 * the structure ends at 0x670 and the crate rejects files with non-zero bytes after it, so the two agree on every file
 * such a build accepts — a note flags the bytes otherwise).
 */
export const measureSnpIgvmmeasure: SnpMeasureFn = (file, opts = {}) => {
  const m = firstSnpPlatform(file, 'igvmmeasure').compatibility_mask;
  const nativeZero = opts.nativeZero === true;
  const ld = new SnpLaunchDigest({ trace: opts.trace === true });
  let shared = 0;
  let excludedContexts = 0;
  let vmsaTail = 0;
  const directives = file.directives;
  for (let i = 0; i < directives.length; i++) {
    const d = directives[i]!;
    if (!isActive(d)) continue; // the crate's parser drops headers with mask 0
    switch (d.type) {
      case 'PAGE_DATA': {
        if (!intersects(d.compatibility_mask, m)) break;
        if (d.flags & PAGE_FLAG.SHARED) shared++;
        let type = pageDataType(d, i);
        if (type === SNP_PAGE.NORMAL && d.data === undefined && nativeZero) type = SNP_PAGE.ZERO;
        if (d.flags & PAGE_FLAG.LARGE_2MB) {
          if (d.data !== undefined) {
            throw new IgvmError(
              'measure-2mb-data',
              `PAGE_DATA #${i} at ${hex(d.gpa)} is a 2 MiB page with data; igvmmeasure asserts that such a page has no data (the crate supplies only 4 KiB)`,
              { path: `directives[${i}]` },
            );
          }
          for (let k = 0; k < LARGE_PAGES; k++) ld.addPage(d.gpa + BigInt(k * PAGE_SIZE), type, undefined, i);
        } else ld.addPage(d.gpa, type, type === SNP_PAGE.NORMAL ? d.data : undefined, i);
        break;
      }
      case 'PARAMETER_INSERT':
        if (intersects(d.compatibility_mask, m)) ld.addPage(d.gpa, SNP_PAGE.UNMEASURED, undefined, i);
        break;
      case 'VP_CONTEXT':
        if (d.context.kind !== 'vmsa') break;
        if (!intersects(d.compatibility_mask, m)) excludedContexts++;
        if (d.context.data.subarray(VMSA_FIELDS_END).some((b) => b !== 0)) vmsaTail++;
        ld.addPage(d.gpa, SNP_PAGE.VMSA, d.context.data, i);
        break;
      default:
        break;
    }
  }
  const notes: string[] = [];
  if (nativeZero) notes.push('--native-zero: pages without data measured as ZERO pages');
  if (shared) notes.push(`${count(shared, 'shared page')} measured (igvmmeasure does not examine the shared flag)`);
  if (excludedContexts) notes.push(`${count(excludedContexts, 'SNP VP context')} whose mask excludes ${hex(m)} measured anyway (igvmmeasure measures every SNP VP context)`);
  if (vmsaTail) notes.push(`${count(vmsaTail, 'VMSA')} with non-zero bytes after offset 0x670: igvmmeasure built on igvm ≤0.4.0 rejects the file (InvalidVmsa)`);
  return result('igvmmeasure', m, ld, notes);
};
