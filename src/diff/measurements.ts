// Launch measurements of two files per platform and the first step where their traces diverge (MEASUREMENT.md §1, §4–§6).
import { IgvmError } from '../errors.js';
import type { DirectiveHeader, IgvmFile } from '../model.js';
import { PLATFORM_TYPE, platformTypeName } from '../spec/constants.js';
import { measureSnp, SNP_MODEL_DESCRIPTIONS, SNP_PAGE_NAMES } from '../measure/snp/index.js';
import type { SnpVmm } from '../measure/snp/types.js';
import { measureTdx } from '../measure/tdx.js';
import { measureVbs } from '../measure/vbs.js';
import { measureSevIgvmmeasure } from '../measure/sev.js';
import { bytesEqual } from './fields.js';

/** A directive a measurement step came from. */
export interface DirectiveRef {
  index: number;
  type: DirectiveHeader['type'];
  gpa: bigint | undefined;
}

/** One measurement step, the same shape for every platform (SNP PAGE_INFO, TDX PAGE.ADD, VBS record, SEV page). */
export interface StepInfo {
  kind: string;
  gpa: bigint | undefined;
  contents: Uint8Array;
  directive: DirectiveRef | undefined;
}

/** One file's measurement for a platform. */
export interface MeasurementSide {
  /** compatibility_mask of the platform measured. */
  mask: number | undefined;
  digest: Uint8Array | undefined;
  /** "message [code]" when the model cannot measure the file. */
  error: string | undefined;
  /** Number of steps in the trace (undefined when the digests are equal: traces are only computed for differing digests). */
  steps: number | undefined;
}

export interface MeasurementDiff {
  /** Platform type name: SEV_SNP, TDX, VSM_ISOLATION, SEV, SEV_ES. */
  platform: string;
  model: string;
  /** Undefined when the file does not declare the platform. */
  a: MeasurementSide | undefined;
  b: MeasurementSide | undefined;
  /** Both measured and the digests are equal. */
  equal: boolean;
  /** Where the traces first differ (both measured, digests differ, both traced). */
  divergence: { step: number; a: StepInfo | undefined; b: StepInfo | undefined } | undefined;
}

interface Measured {
  side: MeasurementSide;
  steps: StepInfo[] | undefined;
}

/** The SEV-SNP model the diff measures with. */
export interface SnpChoice {
  vmm: SnpVmm;
  vcpus: number;
}

interface Model {
  type: number;
  name: string;
  run(file: IgvmFile, trace: boolean, snp: SnpChoice): { digest: Uint8Array; mask: number; steps: StepInfo[] | undefined };
}

function ref(file: IgvmFile, source: number | undefined): DirectiveRef | undefined {
  if (source === undefined) return undefined;
  const d = file.directives[source];
  if (!d) return undefined;
  return { index: source, type: d.type, gpa: 'gpa' in d ? d.gpa : undefined };
}

function generic(file: IgvmFile, steps: readonly { kind: string; gpa: bigint | undefined; contents: Uint8Array; source: number | undefined }[] | undefined): StepInfo[] | undefined {
  return steps?.map((s) => ({ kind: s.kind, gpa: s.gpa, contents: s.contents, directive: ref(file, s.source) }));
}

/** The models, one per measured platform type, in report order. */
const MODELS: Model[] = [
  {
    type: PLATFORM_TYPE.SEV_SNP, name: 'launch digest',
    run(file, trace, snp) {
      const m = measureSnp(file, snp.vmm, { trace, vcpus: snp.vcpus });
      const steps = m.steps?.map((s) => ({ kind: SNP_PAGE_NAMES[s.type] ?? `type ${s.type}`, gpa: s.gpa, contents: s.contents, directive: ref(file, s.source) }));
      return { digest: m.digest, mask: m.mask, steps };
    },
  },
  {
    type: PLATFORM_TYPE.TDX, name: 'MRTD, microsoft/igvm crate rule',
    run(file, trace, snp) {
      const m = measureTdx(file, { trace });
      return { digest: m.digest, mask: m.mask, steps: generic(file, m.steps) };
    },
  },
  {
    type: PLATFORM_TYPE.VSM_ISOLATION, name: 'boot digest, microsoft/igvm crate rule',
    run(file, trace, snp) {
      const m = measureVbs(file, { trace });
      return { digest: m.digest, mask: m.mask, steps: generic(file, m.steps) };
    },
  },
  {
    type: PLATFORM_TYPE.SEV_ES, name: 'coconut-svsm igvmmeasure SHA-256',
    run(file, trace, snp) {
      const m = measureSevIgvmmeasure(file, 'sev-es', { trace });
      return { digest: m.digest, mask: m.mask, steps: generic(file, m.steps) };
    },
  },
  {
    type: PLATFORM_TYPE.SEV, name: 'coconut-svsm igvmmeasure SHA-256',
    run(file, trace, snp) {
      const m = measureSevIgvmmeasure(file, 'sev', { trace });
      return { digest: m.digest, mask: m.mask, steps: generic(file, m.steps) };
    },
  },
];

function measure(file: IgvmFile, model: Model, trace: boolean, snp: SnpChoice): Measured | undefined {
  if (!file.platforms.some((p) => p.platform_type === model.type)) return undefined;
  try {
    const r = model.run(file, trace, snp);
    return { side: { mask: r.mask, digest: r.digest, error: undefined, steps: r.steps?.length }, steps: r.steps };
  } catch (e) {
    if (!(e instanceof IgvmError)) throw e;
    const mask = file.platforms.find((p) => p.platform_type === model.type)?.compatibility_mask;
    return { side: { mask, digest: undefined, error: `${e.message} [${e.code}]`, steps: undefined }, steps: undefined };
  }
}

function sameStep(x: StepInfo, y: StepInfo): boolean {
  return x.kind === y.kind && x.gpa === y.gpa && bytesEqual(x.contents, y.contents);
}

/**
 * Measures every platform that A or B declares and that has a measurement model, and compares the results.
 * `structurallyEqual`: the files' models are equal (every header field and payload), so B's measurement is A's and is
 * not computed again.
 */
export function diffMeasurements(a: IgvmFile, b: IgvmFile, structurallyEqual = false, snp: SnpChoice = { vmm: 'igvm', vcpus: 1 }): MeasurementDiff[] {
  const out: MeasurementDiff[] = [];
  for (const model of MODELS) {
    // Digests first; the traces (about twice the work) only when both were measured and differ.
    let ma = measure(a, model, false, snp);
    let mb = structurallyEqual ? ma : measure(b, model, false, snp);
    if (!ma && !mb) continue;
    const da = ma?.side.digest;
    const db = mb?.side.digest;
    const equal = da !== undefined && db !== undefined && bytesEqual(da, db);
    if (!equal && da && db) {
      ma = measure(a, model, true, snp);
      mb = measure(b, model, true, snp);
    }
    let divergence: MeasurementDiff['divergence'];
    if (!equal && da && db && ma?.steps && mb?.steps) {
      const A = ma.steps;
      const B = mb.steps;
      let i = 0;
      while (i < A.length && i < B.length && sameStep(A[i]!, B[i]!)) i++;
      if (i < A.length || i < B.length) divergence = { step: i, a: A[i], b: B[i] };
    }
    out.push({ platform: platformTypeName(model.type), model: model.type === PLATFORM_TYPE.SEV_SNP ? snp.vmm === 'igvm' ? 'launch digest, microsoft/igvm crate rule' : `launch digest, ${snp.vmm}: ${SNP_MODEL_DESCRIPTIONS[snp.vmm]}${snp.vmm === 'qemu' || snp.vmm === 'clh-kvm' ? `, ${snp.vcpus} vCPU${snp.vcpus === 1 ? '' : 's'}` : ''}` : model.name, a: ma?.side, b: mb?.side, equal, divergence });
  }
  return out;
}

/** "SEV-SNP", "TDX", "VBS", "SEV-ES", "SEV" for reports. */
export function platformLabel(platform: string): string {
  return { SEV_SNP: 'SEV-SNP', VSM_ISOLATION: 'VBS', SEV_ES: 'SEV-ES' }[platform] ?? platform;
}
