// SEV-SNP launch-digest models per tool / VMM and the explanation of where they differ (MEASUREMENT.md §3.1, §3.8).
import { IgvmError } from '../../errors.js';
import type { DirectiveHeader, IgvmFile } from '../../model.js';
import { SNP_PAGE, zeroPageDigest, type SnpStep } from '../snp-digest.js';
import { SNP_VMMS, type SnpMeasureFn, type SnpMeasureOptions, type SnpMeasurement, type SnpVmm } from './types.js';
import { PAGE_FLAG, covers, measureSnpIgvm } from './igvm.js';
import { measureSnpIgvmmeasure } from './igvmmeasure.js';
import { measureSnpClhKvm, measureSnpClhMshv } from './clh.js';
import { measureSnpQemu } from './qemu.js';

export { measureSnpIgvm, measureSnpIgvmmeasure, measureSnpClhKvm, measureSnpClhMshv, measureSnpQemu };
export { KVM_VMSA_GPA, kvmVmsas, resetStateVmsa, type KvmVmsa } from './kvm-vmsa.js';
export { SNP_VMMS, type SnpMeasureFn, type SnpMeasureOptions, type SnpMeasurement, type SnpVmm } from './types.js';

/** Every model by name. */
export const SNP_MODELS: Record<SnpVmm, SnpMeasureFn> = {
  igvm: measureSnpIgvm,
  qemu: measureSnpQemu,
  'clh-kvm': measureSnpClhKvm,
  'clh-mshv': measureSnpClhMshv,
  igvmmeasure: measureSnpIgvmmeasure,
};

/** One line per model, for help and reports. */
export const SNP_MODEL_DESCRIPTIONS: Record<SnpVmm, string> = {
  igvm: 'microsoft/igvm crate rule (MEASUREMENT.md §1.4)',
  qemu: 'QEMU 10.2 + KVM (§3.4)',
  'clh-kvm': 'Cloud Hypervisor + KVM (§3.5)',
  'clh-mshv': 'Cloud Hypervisor + MSHV (§3.5)',
  igvmmeasure: 'coconut-svsm igvmmeasure (§3.3)',
};

/** The SEV-SNP launch digest of `file` as `vmm` would produce it. */
export function measureSnp(file: IgvmFile, vmm: SnpVmm, opts: SnpMeasureOptions = {}): SnpMeasurement {
  const model = SNP_MODELS[vmm];
  if (model === undefined) throw new IgvmError('measure-vmm', `unknown SEV-SNP model '${String(vmm)}' (known: ${SNP_VMMS.join(', ')})`);
  return model(file, opts);
}

/** PAGE_INFO type names. */
export const SNP_PAGE_NAMES: Record<number, string> = Object.fromEntries(Object.entries(SNP_PAGE).map(([k, v]) => [v, k]));

/** Where a model's trace first differs from the crate's, and why. */
export interface SnpDivergence {
  /** Index of the first PAGE_INFO step that differs. */
  step: number;
  /** The directive responsible, when one is. */
  directive: { index: number; type: DirectiveHeader['type']; gpa: bigint | undefined } | undefined;
  reason: string;
}

export interface SnpModelComparison {
  vmm: SnpVmm;
  /** Undefined when the model cannot measure the file (see `error`). */
  measurement: SnpMeasurement | undefined;
  /** "message [code]" of the IgvmError the model threw. */
  error: string | undefined;
  /** Digest equal to the crate model's. */
  sameAsIgvm: boolean;
  divergence: SnpDivergence | undefined;
}

export interface SnpComparison {
  /** The crate model's result (the reference), or undefined with `error` set in models[0]. */
  reference: SnpMeasurement | undefined;
  /** Every model in SNP_VMMS order (igvm first). */
  models: SnpModelComparison[];
}

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameStep(a: SnpStep, b: SnpStep): boolean {
  return a.gpa === b.gpa && a.type === b.type && equalBytes(a.contents, b.contents);
}

function run(file: IgvmFile, vmm: SnpVmm, opts: SnpMeasureOptions): { m: SnpMeasurement | undefined; error: string | undefined } {
  try {
    return { m: SNP_MODELS[vmm](file, { ...opts, trace: true }), error: undefined };
  } catch (e) {
    if (e instanceof IgvmError) return { m: undefined, error: `${e.message} [${e.code}]` };
    throw e;
  }
}

/** Runs every model (with traces) and explains, for each, the first step where it departs from the crate's. */
export function compareSnpVmms(file: IgvmFile, opts: SnpMeasureOptions = {}): SnpComparison {
  const ref = run(file, 'igvm', opts);
  const models: SnpModelComparison[] = [];
  for (const vmm of SNP_VMMS) {
    const r = vmm === 'igvm' ? ref : run(file, vmm, opts);
    const same = ref.m !== undefined && r.m !== undefined && equalBytes(ref.m.digest, r.m.digest);
    const divergence = ref.m && r.m && vmm !== 'igvm' ? diverge(file, ref.m, r.m, opts) : undefined;
    models.push({ vmm, measurement: r.m, error: r.error, sameAsIgvm: same, divergence });
  }
  return { reference: ref.m, models };
}

// ---------------------------------------------------------------------------------------------
// Explanations

function label(d: DirectiveHeader, i: number): string {
  const gpa = 'gpa' in d ? ` at ${hex(d.gpa)}` : '';
  return `${d.type} #${i}${gpa}${d.type === 'VP_CONTEXT' ? ` (vp ${d.vp_index})` : ''}`;
}

function typeDesc(s: SnpStep): string {
  if (s.type === SNP_PAGE.NORMAL && equalBytes(s.contents, zeroPageDigest())) return 'NORMAL of zeros';
  return SNP_PAGE_NAMES[s.type] ?? `type ${s.type}`;
}

/** "nothing", "ZERO", "2 UNMEASURED pages", "VMSA at 0xfffffffff000", … */
function desc(steps: readonly SnpStep[], d: DirectiveHeader): string {
  if (steps.length === 0) return 'nothing';
  const kinds = [...new Set(steps.map(typeDesc))];
  const at = 'gpa' in d && steps.length === 1 && steps[0]!.gpa !== d.gpa ? ` at ${hex(steps[0]!.gpa)}` : '';
  if (steps.length === 1) return `${kinds[0]!}${at}`;
  return kinds.length === 1 ? `${steps.length} ${kinds[0]!} pages` : `${steps.length} pages (${kinds.join(', ')})`;
}

function bySource(steps: readonly SnpStep[]): Map<number, SnpStep[]> {
  const out = new Map<number, SnpStep[]>();
  for (const s of steps) {
    if (s.source === undefined) continue;
    const list = out.get(s.source);
    if (list) list.push(s);
    else out.set(s.source, [s]);
  }
  return out;
}

const KVM_VMMS: readonly SnpVmm[] = ['qemu', 'clh-kvm'];

const ORDER_RULE: Partial<Record<SnpVmm, string>> = {
  'clh-mshv': 'Cloud Hypervisor on MSHV sorts all pages by GPA',
  qemu: 'QEMU hands pending page regions over late, after directives that follow them',
};

/** Why directive `i` is measured differently (a → the crate's steps, b → the model's), or undefined when it is not. */
function explainDirective(file: IgvmFile, i: number, a: SnpStep[], b: SnpStep[], vmm: SnpVmm, m: number, vcpus: number): string | undefined {
  if (a.length === b.length && a.every((s, k) => sameStep(s, b[k]!))) return undefined;
  const d = file.directives[i]!;
  const where = label(d, i);
  const both = `${desc(b, d)} under ${vmm}, ${desc(a, d)} under igvm`;
  const masked = 'compatibility_mask' in d && !covers(d.compatibility_mask, m);
  const maskText = masked && 'compatibility_mask' in d ? `has mask ${hex(d.compatibility_mask)}, which does not contain the SEV_SNP platform mask ${hex(m)}` : '';
  switch (d.type) {
    case 'PAGE_DATA':
      if (a.length === 0 && d.flags & PAGE_FLAG.SHARED && !masked) return `${where} is shared (flag bit 2): skipped under igvm, measured as ${desc(b, d)} under ${vmm} (shared flag not checked)`;
      if (a.length === 0 && masked) return `${where} ${maskText}: excluded under igvm (mask & M == M), measured as ${desc(b, d)} under ${vmm} (mask & M != 0)`;
      if (d.flags & PAGE_FLAG.LARGE_2MB && a.length !== b.length) return `${where} is a 2 MiB page without data: ${both} (the crate ignores the 2 MiB flag)`;
      if (d.data === undefined) return `${where} has no data: ${both}`;
      break;
    case 'PARAMETER_INSERT': {
      const area = file.directives.find((x) => x.type === 'PARAMETER_AREA' && x.parameter_area_index === d.parameter_area_index);
      const size = area?.type === 'PARAMETER_AREA' ? `${hex(area.number_of_bytes)} bytes` : 'unknown size';
      if (a.length !== b.length) return `${where} inserts parameter area ${d.parameter_area_index} (${size}): ${both} (igvm: one UNMEASURED page per 4 KiB)`;
      break;
    }
    case 'VP_CONTEXT':
      if (b.length === 0 && KVM_VMMS.includes(vmm)) {
        return `${where}: VMSA measured at its position at ${hex(d.gpa)} under igvm; under ${vmm} KVM measures one VMSA per vCPU (${vcpus}) at 0xfffffffff000 after all pages`;
      }
      if (b.length === 0 && vmm === 'clh-mshv' && d.vp_index !== 0) return `${where}: only the VMSA of vp 0 is imported under clh-mshv; igvm measures it`;
      if (a.length === 0 && masked) return `${where} ${maskText}: skipped under igvm, measured under ${vmm} (SNP VP contexts are measured regardless of mask)`;
      if (a.length === 1 && b.length === 1 && a[0]!.gpa === b[0]!.gpa) return `${where}: the VMSA contents differ under ${vmm}`;
      break;
    default:
      break;
  }
  if (a.length === 0 && masked) return `${where} ${maskText}: excluded under igvm, ${desc(b, d)} under ${vmm}`;
  return `${where}: ${both}`;
}

function diverge(file: IgvmFile, ref: SnpMeasurement, model: SnpMeasurement, opts: SnpMeasureOptions): SnpDivergence | undefined {
  const A = ref.steps ?? [];
  const B = model.steps ?? [];
  let i = 0;
  while (i < A.length && i < B.length && sameStep(A[i]!, B[i]!)) i++;
  if (i === A.length && i === B.length) return undefined;
  const a = A[i];
  const b = B[i];
  const sa = bySource(A);
  const sb = bySource(B);
  const vcpus = opts.vcpus ?? 1;
  const directive = (k: number) => {
    const d = file.directives[k]!;
    return { index: k, type: d.type, gpa: 'gpa' in d ? d.gpa : undefined };
  };
  // The directive earlier in the file is the cause when both differ (e.g. a shared page the crate skips, followed by
  // a parameter insert the model measures with fewer pages).
  const candidates = [a?.source, b?.source].filter((k): k is number => k !== undefined).sort((x, y) => x - y);
  for (const k of new Set(candidates)) {
    const reason = explainDirective(file, k, sa.get(k) ?? [], sb.get(k) ?? [], model.vmm, ref.mask, vcpus);
    if (reason !== undefined) return { step: i, directive: directive(k), reason };
  }
  if (b !== undefined && b.source === undefined) {
    return {
      step: i,
      directive: undefined,
      reason: `${model.vmm} adds KVM's VMSA${vcpus === 1 ? '' : 's'} at 0xfffffffff000 after all pages (${vcpus} vCPU${vcpus === 1 ? '' : 's'}); ${a === undefined ? 'igvm measures nothing more' : `igvm measures ${SNP_PAGE_NAMES[a.type] ?? a.type} at ${hex(a.gpa)} here`}`,
    };
  }
  if (b !== undefined && b.source !== undefined) {
    const j = A.findIndex((s) => s.source === b.source && sameStep(s, b));
    const d = file.directives[b.source]!;
    const rule = ORDER_RULE[model.vmm] ?? 'the order differs';
    return { step: i, directive: directive(b.source), reason: `${label(d, b.source)} is measured at step ${i} under ${model.vmm} but at step ${j} under igvm: ${rule}` };
  }
  return { step: i, directive: a?.source === undefined ? undefined : directive(a.source), reason: `${model.vmm} measures ${B.length} pages, igvm ${A.length}` };
}
