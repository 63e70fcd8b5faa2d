// `igvm measure` for TDX, VBS, SEV/SEV-ES (MEASUREMENT.md §4–§6), `--all`, and the reference-value formats (`--format json|igvmgen`).
import { UsageError, booleanOption, numberOption, stringOption, type CommandContext } from '../framework.js';
import { namingFile } from '../../errors.js';
import type { IgvmFile } from '../../model.js';
import type { SnpVmm } from '../../measure/snp/types.js';
import { measureSnp } from '../../measure/snp/index.js';
import { bigintToHex, bytesToHex, toJson } from '../json.js';
import { measureTdx } from '../../measure/tdx.js';
import { measureVbs } from '../../measure/vbs.js';
import { measureSevIgvmmeasure, sevLaunchMeasure, type SevPlatform } from '../../measure/sev.js';
import { measureSevQemu } from '../../measure/sev-qemu.js';
import type { MeasureStep } from '../../measure/trace.js';
import { PLATFORM_MODELS, referenceValues, type MeasuredPlatform } from '../../measure/reference.js';
import { measurementJson } from '../../igvmgen/measurement-file.js';
import { intersects } from '../../measure/snp/igvm.js';

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** Fixed-width trace rows (GPA as 16 hex digits) so that two traces line up under `diff`. */
export function renderSteps(file: IgvmFile, steps: readonly MeasureStep[]): string {
  const width = steps.find((s) => s.contents.length > 0)?.contents.length ?? 32;
  const dw = steps.find((s) => s.digest !== undefined)?.digest?.length ?? 0;
  const row = (step: string, kind: string, gpa: string, contents: string, digest: string, source: string, detail: string): string =>
    `${step.padStart(7)}  ${kind.padEnd(15)}  ${gpa.padEnd(18)}  ${contents.padEnd(width * 2)}  ${dw ? `${digest.padEnd(dw * 2)}  ` : ''}${source.padEnd(22)}  ${detail}`.trimEnd();
  const lines = [row('step', 'kind', 'gpa', 'contents', 'digest', 'source', 'detail')];
  steps.forEach((s, i) => {
    const d = s.source === undefined ? undefined : file.directives[s.source];
    lines.push(row(
      String(i), s.kind, s.gpa === undefined ? '-' : `0x${s.gpa.toString(16).padStart(16, '0')}`, s.contents.length ? bytesToHex(s.contents) : '-',
      s.digest ? bytesToHex(s.digest) : '', s.source === undefined ? '-' : `#${s.source} ${d?.type ?? '?'}`, s.detail,
    ));
  });
  return lines.join('\n') + '\n';
}

function parseHexBytes(option: string, text: string, size: number): Uint8Array {
  const t = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (!/^[0-9a-fA-F]*$/.test(t) || t.length !== size * 2) throw new UsageError(`option '--${option}' expects ${size} bytes as ${size * 2} hex digits, got '${text}'`);
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = parseInt(t.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** The LAUNCH_MEASURE inputs when --mnonce/--tik are given, else undefined (SEV/SEV-ES only). */
function launchMeasureInputs(ctx: CommandContext, file: IgvmFile, mask: number, qemuPolicy: number | undefined): Parameters<typeof sevLaunchMeasure>[1] | undefined {
  const args = ctx.args;
  const mnonce = stringOption(args, 'mnonce');
  const tik = stringOption(args, 'tik');
  if (mnonce === undefined && tik === undefined) return undefined;
  if (mnonce === undefined || tik === undefined) throw new UsageError("options '--mnonce' and '--tik' go together (LAUNCH_MEASURE's MNONCE and the transport integrity key)");
  const api = stringOption(args, 'api-version');
  const build = numberOption(args, 'build');
  const m = api === undefined ? null : /^(\d{1,3})\.(\d{1,3})$/.exec(api);
  if (m === null || Number(m[1]) > 255 || Number(m[2]) > 255) throw new UsageError("option '--api-version' expects the firmware's API version as MAJOR.MINOR (e.g. 1.55), required with --mnonce");
  if (build === undefined || !Number.isInteger(build) || build < 0 || build > 255) throw new UsageError("option '--build' expects the firmware build number from 0 to 255, required with --mnonce");
  let policy: number;
  const given = policyOption(ctx);
  if (given !== undefined) policy = given;
  else if (qemuPolicy !== undefined) policy = qemuPolicy;
  else {
    const h = file.initializations.find((x) => x.type === 'GUEST_POLICY' && intersects(x.compatibility_mask, mask));
    if (h === undefined || h.type !== 'GUEST_POLICY') throw new UsageError("the file has no GUEST_POLICY for this platform: give the policy QEMU's sev-guest object uses with '--policy HEX'");
    if (h.policy > 0xffffffffn) throw new UsageError(`the file's GUEST_POLICY ${bigintToHex(h.policy)} does not fit the 32-bit SEV policy: give '--policy HEX'`);
    policy = Number(h.policy);
  }
  return { apiMajor: Number(m[1]), apiMinor: Number(m[2]), build, policy, mnonce: parseHexBytes('mnonce', mnonce, 16), tik: parseHexBytes('tik', tik, 16) };
}

/** --policy HEX as a 32-bit SEV policy, or undefined. */
function policyOption(ctx: CommandContext): number | undefined {
  const given = stringOption(ctx.args, 'policy');
  if (given === undefined) return undefined;
  if (!/^(0x)?[0-9a-fA-F]{1,8}$/.test(given)) throw new UsageError(`option '--policy' expects the SEV guest policy as up to 8 hex digits, got '${given}'`);
  return parseInt(given.replace(/^0x/, ''), 16);
}

// runMeasure (measure-run.ts) has already checked --platform, --format, --svn, --vcpus and that the SEV-only
// options (--mnonce, --tik, --api-version, --build, --policy) come with --platform sev or sev-es.

/** `--platform tdx|vbs|sev|sev-es`: one digest per the platform's rule, with --trace and (SEV) the LAUNCH_MEASURE HMAC. */
export function runOtherPlatform(ctx: CommandContext, file: IgvmFile, path: string, platform: Exclude<MeasuredPlatform, 'sev-snp'>): number {
  const args = ctx.args;
  for (const o of ['compare-vmms', 'native-zero']) {
    if (booleanOption(args, o)) throw new UsageError(`option '--${o}' is available for --platform sev-snp only`);
  }
  const vmm = stringOption(args, 'vmm') ?? 'igvm';
  const isSev = platform === 'sev' || platform === 'sev-es';
  const qemu = isSev && vmm === 'qemu';
  if (isSev ? !['igvm', 'igvmmeasure', 'qemu'].includes(vmm) : vmm !== 'igvm') {
    throw new UsageError(isSev
      ? `option '--vmm' for --platform ${platform} expects igvmmeasure (the default) or qemu, got '${vmm}'`
      : `option '--vmm' models VMMs for --platform sev-snp, sev-es and sev only; ${platform} uses the rule named in the output`);
  }
  const trace = booleanOption(args, 'trace');
  const vcpus = numberOption(args, 'vcpus') ?? 1;
  const objectPolicy = qemu ? policyOption(ctx) : undefined;
  const r: { digest: Uint8Array; mask: number; records: number; steps: MeasureStep[] | undefined; notes?: string[]; launchPolicy?: number } = namingFile(path, () =>
    platform === 'tdx' ? measureTdx(file, { trace })
      : platform === 'vbs' ? measureVbs(file, { trace })
        : qemu ? measureSevQemu(file, platform as SevPlatform, { trace, vcpus, ...(objectPolicy !== undefined ? { policy: objectPolicy } : {}) })
          : measureSevIgvmmeasure(file, platform as SevPlatform, { trace }));
  const launch = isSev ? launchMeasureInputs(ctx, file, r.mask, r.launchPolicy) : undefined;
  const measure = launch ? sevLaunchMeasure(r.digest, launch) : undefined;
  const model = qemu ? `${platform.toUpperCase()}: GCTX.LD under QEMU 10.2 + KVM, ${vcpus} vCPU${vcpus === 1 ? '' : 's'} (MEASUREMENT.md §4.2)` : PLATFORM_MODELS[platform];
  if (booleanOption(args, 'json')) {
    ctx.out(toJson({
      file: path, platform, vmm: isSev ? (qemu ? 'qemu' : 'igvmmeasure') : 'igvm', model, mask: r.mask, digest: r.digest, records: r.records,
      ...(r.launchPolicy !== undefined ? { launch_policy: r.launchPolicy } : {}), ...(r.notes ? { notes: r.notes } : {}),
      ...(launch && measure ? { launch_measure: { measure, mnonce: launch.mnonce, api_major: launch.apiMajor, api_minor: launch.apiMinor, build: launch.build, policy: launch.policy } } : {}),
      ...(trace ? { steps: r.steps ?? [] } : {}),
    }));
    return 0;
  }
  const lines = [`file:     ${path}`, `platform: ${platform.toUpperCase()}, mask ${hex(r.mask)}`, `model:    ${model}`, `digest:   ${bytesToHex(r.digest)}`];
  if (r.launchPolicy !== undefined) lines.push(`policy:   ${hex(r.launchPolicy)} (the sev-guest object's; QEMU does not use the file's GUEST_POLICY)`);
  for (const n of r.notes ?? []) lines.push(`note:     ${n}`);
  if (measure && launch) {
    lines.push(`measure:  ${bytesToHex(measure)}  (LAUNCH_MEASURE HMAC-SHA-256 with TIK over API ${launch.apiMajor}.${launch.apiMinor} build ${launch.build}, policy ${hex(launch.policy)}, this LD and MNONCE)`);
    if (!qemu) lines.push('note:     equals the PSP report only when the LD above is what the VMM measured (MEASUREMENT.md §4.2); --vmm qemu gives the LD QEMU + KVM produce');
  }
  let out = lines.join('\n') + '\n';
  if (trace) out += `\n${platform.toUpperCase()} steps (${r.steps?.length ?? 0}):\n${renderSteps(file, r.steps ?? [])}`;
  ctx.out(out);
  return 0;
}

/** `--all`: one digest per platform the file declares (NATIVE and CCA have none here). */
export function runAll(ctx: CommandContext, file: IgvmFile, bytes: Uint8Array, path: string): number {
  const args = ctx.args;
  for (const o of ['trace', 'compare-vmms']) {
    if (booleanOption(args, o)) throw new UsageError(`option '--${o}' cannot be combined with --all`);
  }
  const ref = referenceValues(file, bytes, snpOptions(ctx));
  const rows = ref.platforms.map((p) => ({ platform: p.platform, mask: p.mask, model: p.model, digest: p.digest ?? undefined, error: p.error ?? undefined }));
  if (booleanOption(args, 'json')) ctx.out(toJson({ file: path, platforms: rows }));
  else {
    const lines = [`file: ${path}`];
    if (rows.length === 0) lines.push('no platform with a launch measurement (NATIVE only)');
    for (const r of rows) {
      lines.push(`  ${r.platform.padEnd(8)} mask ${hex(r.mask).padEnd(5)} ${r.digest ? bytesToHex(r.digest) : `cannot measure: ${r.error ?? ''}`}`);
      lines.push(`           ${r.model}`);
    }
    ctx.out(lines.join('\n') + '\n');
  }
  return rows.some((r) => r.error !== undefined) ? 1 : 0;
}

function snpOptions(ctx: CommandContext): { vmm: SnpVmm; vcpus: number; nativeZero: boolean } {
  return {
    vmm: (stringOption(ctx.args, 'vmm') ?? 'igvm') as SnpVmm,
    vcpus: numberOption(ctx.args, 'vcpus') ?? 1,
    nativeZero: booleanOption(ctx.args, 'native-zero'),
  };
}

/**
 * `--format json`: the reference-value document (schema igvmkit.reference-values.v1) for --platform, or for every
 * declared platform with --all. `--format igvmgen`: the original igvmgen's measurement JSON for the SEV-SNP digest.
 */
export function runFormat(ctx: CommandContext, file: IgvmFile, bytes: Uint8Array, path: string, format: 'json' | 'igvmgen'): number {
  const args = ctx.args;
  for (const o of ['trace', 'compare-vmms', 'json']) {
    if (booleanOption(args, o)) throw new UsageError(`option '--${o}' cannot be combined with --format ${format}`);
  }
  const all = booleanOption(args, 'all');
  const platform = (stringOption(args, 'platform') ?? 'sev-snp').toLowerCase() as MeasuredPlatform;
  if (format === 'igvmgen') {
    if (all || platform !== 'sev-snp') throw new UsageError("--format igvmgen is igvmgen's SEV-SNP measurement file: it takes neither --all nor another --platform");
    const o = snpOptions(ctx);
    const m = namingFile(path, () => measureSnp(file, o.vmm, { vcpus: o.vcpus, nativeZero: o.nativeZero }));
    ctx.out(measurementJson(stringOption(args, 'svn') ?? '0', bytesToHex(m.digest)));
    return 0;
  }
  const ref = namingFile(path, () => referenceValues(file, bytes, { ...snpOptions(ctx), ...(all ? {} : { platforms: [platform] }) }));
  ctx.out(toJson(ref));
  return ref.platforms.some((p) => p.error !== null) ? 1 : 0;
}
