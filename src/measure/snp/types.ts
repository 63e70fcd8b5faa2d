// The one signature every SEV-SNP launch-digest model implements (MEASUREMENT.md §1, §3).
import type { IgvmFile } from '../../model.js';
import type { SnpStep } from '../snp-digest.js';

/** VMM / tool models of the SEV-SNP launch digest (MEASUREMENT.md §3.1). */
export type SnpVmm = 'igvm' | 'qemu' | 'clh-kvm' | 'clh-mshv' | 'igvmmeasure';
export const SNP_VMMS: readonly SnpVmm[] = ['igvm', 'qemu', 'clh-kvm', 'clh-mshv', 'igvmmeasure'];

export interface SnpMeasureOptions {
  /** vCPU count (KVM-based models measure one VMSA per vCPU). Default 1. */
  vcpus?: number;
  /** Record every PAGE_INFO step (gpa, type, contents hash, running digest, source directive). */
  trace?: boolean;
  /** igvmmeasure's --native-zero: pages without data as ZERO pages. */
  nativeZero?: boolean;
  /** QEMU model only: guest memory in bytes (default 512 MiB), machine and accelerator. */
  memory?: bigint;
  machine?: 'q35' | 'pc';
}

export interface SnpMeasurement {
  vmm: SnpVmm;
  /** 48-byte launch digest. */
  digest: Uint8Array;
  /** Compatibility mask of the SEV-SNP platform the digest was computed for. */
  mask: number;
  /** Present when `trace` was asked for. */
  steps: SnpStep[] | undefined;
  /** How this model treated the file where models differ (e.g. "VMSA of vp 0 measured at 0xfffffffff000 at the end"). */
  notes: string[];
}

/** Thrown (as IgvmError code 'measure-…') when a model cannot measure the file, e.g. no SEV-SNP platform, or QEMU rejects it. */
export type SnpMeasureFn = (file: IgvmFile, opts?: SnpMeasureOptions) => SnpMeasurement;
