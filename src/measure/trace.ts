// One step of a non-SNP measurement trace (TDX MRTD §5, VBS boot digest §6, SEV igvmmeasure §4.1 of MEASUREMENT.md).

/**
 * What one directive contributed to a TDX, VBS or SEV measurement, in measurement order. SEV-SNP traces use SnpStep
 * (src/measure/snp-digest.ts), which has the same `gpa`, `contents`, `digest` and `source` fields.
 */
export interface MeasureStep {
  /**
   * TDX: 'PAGE.ADD+EXTEND' (a measured page: one MEM.PAGE.ADD and 16 MR.EXTEND records) or 'PAGE.ADD' (unmeasured);
   * VBS: 'VP_GPA_PAGE' or 'VP_REGISTER'; SEV/SEV-ES: 'PAGE' or 'VMSA'.
   */
  kind: string;
  /** Guest physical address of the page; undefined for VBS register records. */
  gpa: bigint | undefined;
  /**
   * Hash of what was measured: TDX SHA-384 of the 4096 bytes extended (empty for PAGE.ADD only); VBS SHA-256 of the
   * record without the chained digest; SEV SHA-256 of the 4096-byte page.
   */
  contents: Uint8Array;
  /** Running digest after the step for chains (VBS); undefined for TDX and SEV, which hash one stream. */
  digest: Uint8Array | undefined;
  /** Index of the directive (in IgvmFile.directives) the step comes from. */
  source: number | undefined;
  /** Extra facts for the reader, e.g. "acceptance 3 unmeasured" or "vtl 0 register 0x00040002". */
  detail: string;
}
