// ACPI tables placed in guest memory, as the generators consume them (IGVMGEN.md §10).

/** ACPI tables laid out as guest pages. */
export interface AcpiImage {
  /** Page GPA (4 KiB aligned) → bytes at the start of that page (≤ 4096; the rest of the page is zero). */
  readonly pages: ReadonlyMap<number, Uint8Array>;
  /** First GPA after the ACPI region (page-aligned); the E820 ACPI entry is [0x100000, acpiEnd). */
  readonly acpiEnd: number;
  /** GPA of the RSDP. */
  readonly rsdp: number;
  /** Where the tables came from, for messages: a folder, an acpi.zip path or "built-in". */
  readonly source: string;
  /** Table signature → GPA (informational: inspect output and tests). */
  readonly tables: ReadonlyMap<string, number>;
}
