// Reference values for attestation: per platform the launch digest, policy and SNP ID-block identity (MEASUREMENT.md §1, §4–§7).
import { IgvmError } from '../errors.js';
import type { IgvmFile, SupportedPlatform } from '../model.js';
import { PLATFORM_TYPE } from '../spec/constants.js';
import { sha256 } from '../crypto/hash.js';
import { measureSnp, SNP_MODEL_DESCRIPTIONS } from './snp/index.js';
import type { SnpVmm } from './snp/types.js';
import { firstSnpPlatform, intersects } from './snp/igvm.js';
import { firstTdxPlatform, measureTdx } from './tdx.js';
import { firstVbsPlatform, measureVbs } from './vbs.js';
import { firstSevPlatform, measureSevIgvmmeasure } from './sev.js';
import { measureSevQemu } from './sev-qemu.js';
import { verifyIdBlocks } from '../snp/verify.js';

/** Version tag of the document; it changes only when a field changes meaning or is removed. */
export const REFERENCE_SCHEMA = 'igvmkit.reference-values.v1';

export type MeasuredPlatform = 'sev-snp' | 'sev-es' | 'sev' | 'tdx' | 'vbs';
export const MEASURED_PLATFORMS: readonly MeasuredPlatform[] = ['sev-snp', 'sev-es', 'sev', 'tdx', 'vbs'];

const PLATFORM_NAMES: Record<number, MeasuredPlatform> = {
  [PLATFORM_TYPE.VSM_ISOLATION]: 'vbs',
  [PLATFORM_TYPE.SEV_SNP]: 'sev-snp',
  [PLATFORM_TYPE.TDX]: 'tdx',
  [PLATFORM_TYPE.SEV]: 'sev',
  [PLATFORM_TYPE.SEV_ES]: 'sev-es',
};

/** The measured-platform name of a SUPPORTED_PLATFORM header, or undefined for NATIVE / CCA (no launch digest here). */
export function measuredPlatformName(p: SupportedPlatform): MeasuredPlatform | undefined {
  return PLATFORM_NAMES[p.platform_type];
}

/** The rule each platform's digest follows (shown as `model`). */
export const PLATFORM_MODELS: Record<Exclude<MeasuredPlatform, 'sev-snp'>, string> = {
  tdx: 'TDX MRTD, microsoft/igvm crate rule (MEASUREMENT.md §5)',
  vbs: 'VBS boot digest, microsoft/igvm crate rule (MEASUREMENT.md §6)',
  sev: 'SEV: coconut-svsm igvmmeasure SHA-256 (MEASUREMENT.md §4.1; the PSP reports an HMAC of it, §4.2)',
  'sev-es': 'SEV-ES: coconut-svsm igvmmeasure SHA-256 (MEASUREMENT.md §4.1; the PSP reports an HMAC of it, §4.2)',
};

/** One platform's reference values. Every key is always present (null when it does not apply or is unknown). */
export interface PlatformReference {
  platform: MeasuredPlatform;
  /** compatibility_mask of the SUPPORTED_PLATFORM measured. */
  mask: number;
  /** SEV-SNP: the --vmm model name; other platforms: 'igvm' (crate rule) or 'igvmmeasure'. */
  vmm: string;
  model: string;
  /** vCPU count the digest assumes (KVM-based SNP models), else null. */
  vcpus: number | null;
  algorithm: 'sha384' | 'sha256';
  /** The launch digest (SNP MEASUREMENT, TDX MRTD, VBS boot digest, SEV igvmmeasure LD); null when `error`. */
  digest: Uint8Array | null;
  /** The GUEST_POLICY for the platform's mask (null when the file has none); SEV/SEV-ES under --vmm qemu: the sev-guest object's launch policy. */
  policy: bigint | null;
  /** SNP ID block fields as the attestation report shows them (null without an ID block). */
  svn: number | null;
  family_id: Uint8Array | null;
  image_id: Uint8Array | null;
  id_key_digest: Uint8Array | null;
  author_key_digest: Uint8Array | null;
  /** The ID block check against this digest, or null without an ID block. */
  id_block: { directive: number; signature_valid: boolean; ld_matches: boolean; problems: string[] } | null;
  /** Why the model cannot measure the file; null on success. */
  error: string | null;
}

export interface ReferenceValues {
  schema: typeof REFERENCE_SCHEMA;
  /** SHA-256 of the file's bytes (to tie the values to one build). */
  file_sha256: Uint8Array;
  platforms: PlatformReference[];
}

export interface ReferenceOptions {
  /** Platforms to report (default: every measured platform the file declares, in header order). */
  platforms?: readonly MeasuredPlatform[];
  /** SEV-SNP model (default igvm, the crate rule); 'qemu' also selects the QEMU model for SEV/SEV-ES. */
  vmm?: SnpVmm;
  vcpus?: number;
  nativeZero?: boolean;
}

const KVM_BASED: readonly SnpVmm[] = ['qemu', 'clh-kvm'];

function policyFor(file: IgvmFile, mask: number): bigint | null {
  for (const h of file.initializations) if (h.type === 'GUEST_POLICY' && intersects(h.compatibility_mask, mask)) return h.policy;
  return null;
}

function empty(platform: MeasuredPlatform, mask: number, policy: bigint | null): PlatformReference {
  return {
    platform, mask, vmm: 'igvm', model: '', vcpus: null, algorithm: platform === 'sev-snp' || platform === 'tdx' ? 'sha384' : 'sha256',
    digest: null, policy, svn: null, family_id: null, image_id: null, id_key_digest: null, author_key_digest: null, id_block: null, error: null,
  };
}

function snpReference(file: IgvmFile, p: SupportedPlatform, opts: ReferenceOptions, r: PlatformReference): void {
  const vmm = opts.vmm ?? 'igvm';
  const vcpus = opts.vcpus ?? 1;
  r.vmm = vmm;
  r.model = SNP_MODEL_DESCRIPTIONS[vmm];
  r.vcpus = KVM_BASED.includes(vmm) ? vcpus : null;
  r.digest = measureSnp(file, vmm, { vcpus, nativeZero: opts.nativeZero === true }).digest;
  const blocks = verifyIdBlocks(file, { vmm, vcpus }).filter((b) => intersects(b.mask, p.compatibility_mask));
  const b = blocks[0];
  if (b === undefined) return;
  const h = file.directives[b.directive];
  if (h === undefined || h.type !== 'SNP_ID_BLOCK') return;
  r.svn = h.guest_svn;
  r.family_id = h.family_id;
  r.image_id = h.image_id;
  r.id_key_digest = b.idKeyDigest;
  r.author_key_digest = b.authorKeyDigest ?? null;
  r.id_block = { directive: b.directive, signature_valid: b.signatureValid, ld_matches: b.ldMatches, problems: b.problems };
}

/** The platforms to report: the requested ones (the first header of each type) or every measured platform declared. */
function selected(file: IgvmFile, wanted: readonly MeasuredPlatform[] | undefined, opts: ReferenceOptions): { name: MeasuredPlatform; header: SupportedPlatform }[] {
  const out: { name: MeasuredPlatform; header: SupportedPlatform }[] = [];
  const seen = new Set<MeasuredPlatform>();
  for (const h of file.platforms) {
    const name = measuredPlatformName(h);
    if (name === undefined || seen.has(name) || (wanted !== undefined && !wanted.includes(name))) continue;
    seen.add(name);
    out.push({ name, header: h });
  }
  // A requested platform the file lacks: the platform's own lookup raises its "the file declares no … platform" error.
  for (const w of wanted ?? []) {
    if (seen.has(w)) continue;
    if (w === 'tdx') firstTdxPlatform(file);
    else if (w === 'vbs') firstVbsPlatform(file);
    else if (w === 'sev' || w === 'sev-es') firstSevPlatform(file, w);
    else firstSnpPlatform(file, opts.vmm ?? 'igvm');
  }
  return out;
}

/**
 * Reference values of `file`: for each platform the digest by its rule, the GUEST_POLICY and (SEV-SNP) the ID block's
 * svn, family/image id and key digests. A platform that cannot be measured has `error` set; asking for a platform the
 * file does not declare is an IgvmError.
 */
export function referenceValues(file: IgvmFile, bytes: Uint8Array, opts: ReferenceOptions = {}): ReferenceValues {
  const platforms: PlatformReference[] = [];
  for (const { name, header } of selected(file, opts.platforms, opts)) {
    const r = empty(name, header.compatibility_mask, policyFor(file, header.compatibility_mask));
    try {
      if (name === 'sev-snp') snpReference(file, header, opts, r);
      else if ((name === 'sev' || name === 'sev-es') && opts.vmm === 'qemu') {
        const vcpus = opts.vcpus ?? 1;
        const q = measureSevQemu(file, name, { vcpus });
        r.vmm = 'qemu';
        r.model = `${name.toUpperCase()}: GCTX.LD under QEMU 10.2 + KVM (MEASUREMENT.md §4.2)`;
        r.vcpus = name === 'sev-es' ? vcpus : null;
        r.digest = q.digest;
        r.policy = BigInt(q.launchPolicy);
      } else {
        r.model = PLATFORM_MODELS[name];
        r.vmm = name === 'sev' || name === 'sev-es' ? 'igvmmeasure' : 'igvm';
        r.digest = name === 'tdx' ? measureTdx(file).digest : name === 'vbs' ? measureVbs(file).digest : measureSevIgvmmeasure(file, name).digest;
      }
    } catch (e) {
      if (!(e instanceof IgvmError)) throw e;
      r.model ||= name === 'sev-snp' ? SNP_MODEL_DESCRIPTIONS[opts.vmm ?? 'igvm'] : PLATFORM_MODELS[name];
      r.digest = null;
      r.error = e.message;
    }
    platforms.push(r);
  }
  return { schema: REFERENCE_SCHEMA, file_sha256: sha256(bytes), platforms };
}
