// igvmgen layout steps shared by every mode: ACPI region and the four fixed SNP pages (IGVMGEN.md §2.1, §3.2 step 1, §3.3 step 1).
import { IgvmError } from '../errors.js';
import type { AcpiImage } from '../acpi/image.js';
import { PAGE, type GuestMemory } from './guest-memory.js';
import { cpuidPage } from './cpuid-page.js';
import { CPUID_GPA, VMSA_GPA } from './emit.js';

/** Start of the ACPI region when only selected regions are pre-validated. */
export const ACPI_REGION_START = 0xa0000;

/**
 * Place the ACPI pages. With `fromZero` the whole [0, acpiEnd) is allocated (pvalidate_opt false); otherwise
 * [0, 0xA0000) is skipped and [0xA0000, acpiEnd) allocated.
 */
export function placeAcpi(mem: GuestMemory, acpi: AcpiImage, fromZero: boolean): void {
  const start = fromZero ? 0 : ACPI_REGION_START;
  if (acpi.acpiEnd > CPUID_GPA) {
    throw new IgvmError('acpi-too-large', `ACPI tables (${acpi.source}) end at 0x${acpi.acpiEnd.toString(16)}, beyond 0x800000 where igvmgen puts the CPUID page`);
  }
  if (acpi.acpiEnd < start) {
    throw new IgvmError('acpi-too-low', `ACPI tables (${acpi.source}) end at 0x${acpi.acpiEnd.toString(16)}, below the ACPI region start 0x${start.toString(16)}`);
  }
  if (!fromZero) mem.seek(ACPI_REGION_START, 'ACPI region');
  mem.allocate(acpi.acpiEnd - start);
  for (const [gpa, bytes] of [...acpi.pages].sort((a, b) => a[0] - b[0])) {
    if (gpa % PAGE !== 0 || gpa < start || gpa + bytes.length > acpi.acpiEnd) {
      throw new IgvmError('acpi-bad-page', `ACPI page at 0x${gpa.toString(16)} (${bytes.length} bytes, from ${acpi.source}) lies outside the ACPI region [0x${start.toString(16)}, 0x${acpi.acpiEnd.toString(16)})`);
    }
    mem.write(gpa, bytes);
  }
}

/** seek(0x800000) and allocate the CPUID, secrets, parameter and VMSA pages; the CPUID page is filled. */
export function placeFixedPages(mem: GuestMemory): void {
  mem.seek(CPUID_GPA, 'CPUID page');
  const cpuid = mem.allocate(PAGE);
  mem.allocate(PAGE); // secrets (zero)
  mem.allocate(PAGE); // parameter page (zero)
  const vmsa = mem.allocate(PAGE);
  if (cpuid !== CPUID_GPA || vmsa !== VMSA_GPA) throw new Error('internal: fixed pages misplaced');
  mem.write(cpuid, cpuidPage());
}
