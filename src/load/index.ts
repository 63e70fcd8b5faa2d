// loadIgvm: what QEMU 10.2 does with an IGVM file for a given configuration — the load plan or QEMU's fatal error (QEMU-LOADER.md §1–§10).
//
// Order of QEMU's steps (§2 and the machine set-up around them):
//   1. -smp checked against the machine (config);
//   2. sev-snp-guest without KVM: the guest_memfd RAM cannot be created (machine-memory) — before the file is read;
//   3. SEV-ES/SNP under KVM: the pre-pass during KVM initialisation (parse, platform, VP contexts, vp 0's SEV_FEATURES);
//   4. a pflash drive is refused (firmware);
//   5. the real pass at the end of board init (parse, platform, directives, initialization headers, flush, policy);
//   6. sev-guest without KVM: the object was never initialised (machine-done).
import type { IgvmFile } from '../model.js';
import { e820Table, ramLayout } from './e820.js';
import type { LoadFailure, LoadPlan, LoadResult, QemuConfig, QemuLine, ResolvedQemuConfig } from './plan.js';
import { buildPlan } from './qemu/build.js';
import { MACHINE_NAMES, resolveConfig } from './qemu/config.js';
import { qemuView, type LoaderContext } from './qemu/context.js';
import { QemuFailure } from './qemu/failure.js';
import { library040Code, library040Rejections, libraryVerdict, type LibraryVerdict } from './qemu/library.js';
import { MSG } from './qemu/messages.js';
import { prePass, realPass, startContext, type ProcessInput } from './qemu/walk.js';
import { sevState } from './qemu/sev.js';

export type * from './plan.js';
export { e820Table, ramLayout, type E820Entry, type RamLayout } from './e820.js';
export { resolveConfig } from './qemu/config.js';

/**
 * Load IGVM `bytes` as QEMU 10.2 would with `config`; `path` is the file name QEMU's messages show. QEMU's failures are
 * results (`ok: false`); a `config` that is not a QEMU configuration at all throws IgvmError('load-config').
 */
export function loadIgvm(bytes: Uint8Array, config: QemuConfig = {}, path = 'FILE'): LoadResult {
  const verdict = libraryVerdict(bytes);
  const cfg = resolveConfig(config, verdict.file);
  return runLoad(cfg, () => acceptedFile(verdict, path));
}

/** Load an already parsed model (the igvm 0.4.0 rules igvmkit's HEAD parser does not apply are still checked). */
export function loadIgvmFile(file: IgvmFile, config: QemuConfig = {}, path = 'FILE'): LoadResult {
  const cfg = resolveConfig(config, file);
  const code = library040Code(file);
  return runLoad(cfg, () => {
    if (code !== undefined) throw new QemuFailure(MSG.parseFailed(path, code), 'parse', { detail: library040Rejections(file)[0]?.rejection.message ?? '' });
    return file;
  });
}

/** The message of a missing file, as QEMU prints it (GLib's g_file_get_contents). */
export function missingFileFailure(path: string): LoadFailure {
  const message = MSG.missingFile(path);
  return { message, stderr: [{ level: 'error', text: message }], stage: 'parse', directive: undefined, kind: 'exit', detail: undefined };
}

function acceptedFile(verdict: LibraryVerdict, path: string): IgvmFile {
  if (verdict.ok) return verdict.file;
  if (verdict.code === undefined) {
    throw new QemuFailure(`the igvm library panics while parsing ${path} (${verdict.message}); QEMU aborts`, 'parse', { kind: 'abort' });
  }
  throw new QemuFailure(MSG.parseFailed(path, verdict.code), 'parse', { detail: `igvm 0.4.0: ${verdict.crate}: ${verdict.message}` });
}

/** Failure carrying the partial plan of the pass that failed. */
class FailureWithProgress extends Error {
  constructor(readonly failure: QemuFailure, readonly progress: LoadPlan, readonly warnings: string[]) {
    super(failure.message);
  }
}

function runLoad(cfg: ResolvedQemuConfig, parse: () => IgvmFile): LoadResult {
  const warnings: string[] = [];
  try {
    return { ok: true, config: cfg, plan: steps(cfg, parse, warnings) };
  } catch (e) {
    if (e instanceof FailureWithProgress) return failed(cfg, e.failure, [...warnings, ...e.warnings], e.progress);
    if (e instanceof QemuFailure) return failed(cfg, e, warnings, undefined);
    throw e;
  }
}

function failed(cfg: ResolvedQemuConfig, e: QemuFailure, warnings: string[], progress: LoadPlan | undefined): LoadResult {
  const stderr: QemuLine[] = [...warnings.map((text) => ({ level: 'warning' as const, text })), ...e.before, { level: 'error', text: e.message }];
  return { ok: false, config: cfg, failure: { message: e.message, stderr, stage: e.stage, directive: e.directive, kind: e.kind, detail: e.detail }, progress };
}

function steps(cfg: ResolvedQemuConfig, parse: () => IgvmFile, warnings: string[]): LoadPlan {
  const machine = MACHINE_NAMES[cfg.machine];
  if (cfg.vcpus > machine.maxCpus) throw new QemuFailure(MSG.tooManyCpus(cfg.vcpus, machine.name, machine.maxCpus), 'config');
  if (cfg.sevObject === 'sev-snp' && cfg.accel === 'tcg') throw new QemuFailure(MSG.kvmRequired('sev-snp-guest'), 'machine-memory');
  const shape = { memory: cfg.memory, machine: cfg.machine, accel: cfg.accel, cpuVendor: cfg.cpuVendor, physBits: cfg.physBits };
  const ram = ramLayout(shape);
  const e820 = e820Table(shape);
  const kvm = cfg.accel === 'kvm';
  const kvmFeatures = kvm ? cfg.kvmVmsaFeatures : undefined;
  let vmFeatures = 0n;
  if (kvm && (cfg.sevObject === 'sev-es' || cfg.sevObject === 'sev-snp')) {
    const input: ProcessInput = { view: qemuView(parse()), cfg, ram, e820, sev: sevState(cfg.sevObject, 'uninit', kvmFeatures) };
    const pre = prePass(input);
    warnings.push(...pre.warnings);
    vmFeatures = pre.sev?.vmFeatures ?? 0n;
  }
  if (cfg.pflash) throw new QemuFailure(MSG.pflash(), 'firmware');
  const view = qemuView(parse());
  const sev = cfg.sevObject === 'none' ? undefined : sevState(cfg.sevObject, kvm ? 'launch' : 'uninit', kvmFeatures);
  if (sev) sev.vmFeatures = vmFeatures;
  const ctx = startContext({ view, cfg, ram, e820, sev }, 'real');
  runRealPass(ctx, ram);
  const plan = buildPlan(ctx, ram);
  if (!kvm && cfg.objectType !== undefined) throw new FailureWithProgress(new QemuFailure(MSG.accelNoCgs(cfg.objectType), 'machine-done'), plan, ctx.warnings);
  addConfigNotes(cfg, plan);
  warnings.push(...ctx.warnings);
  return plan;
}

function runRealPass(ctx: LoaderContext, ram: ReturnType<typeof ramLayout>): void {
  try {
    realPass(ctx);
  } catch (e) {
    if (e instanceof QemuFailure) throw new FailureWithProgress(e, buildPlan(ctx, ram), ctx.warnings);
    throw e;
  }
}

function addConfigNotes(cfg: ResolvedQemuConfig, plan: LoadPlan): void {
  if (cfg.bios !== undefined) plan.notes.push(`-bios ${cfg.bios} is silently ignored with IGVM (QEMU loads no BIOS)`);
  if (plan.populations.some((p) => p.replaced === 'kvm-cpuid-table')) plan.notes.push("QEMU replaces the CPUID page's contents with KVM's CPUID table before the launch update");
  if (plan.populations.some((p) => p.replaced === 'psp-secrets')) plan.notes.push('the PSP fills the secrets page at SNP_LAUNCH_UPDATE');
}
