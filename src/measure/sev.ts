// SEV / SEV-ES measurements (MEASUREMENT.md §4): igvmmeasure's SHA-256 (§4.1) and the PSP's LAUNCH_MEASURE HMAC (§4.2).
import { IgvmError } from '../errors.js';
import { isActive, type IgvmFile, type SupportedPlatform } from '../model.js';
import { PLATFORM_TYPE } from '../spec/constants.js';
import { firstPlatformOfType } from './platform.js';
import { createSha256, sha256 } from '../crypto/hash.js';
import { PAGE_SIZE, intersects } from './snp/igvm.js';
import type { MeasureStep } from './trace.js';

export type SevPlatform = 'sev' | 'sev-es';

export interface SevMeasurement {
  /** The 32-byte SHA-256 igvmmeasure prints. */
  digest: Uint8Array;
  /** Compatibility mask of the SEV / SEV_ES platform measured. */
  mask: number;
  /** Number of 4096-byte pages hashed. */
  records: number;
  /** One step per page hashed when `trace` was asked for. */
  steps: MeasureStep[] | undefined;
}

export interface SevMeasureOptions {
  /** Record one MeasureStep per page. */
  trace?: boolean;
}

export interface SevLaunchMeasureOptions {
  apiMajor: number;
  apiMinor: number;
  build: number;
  /** The guest policy (u32). */
  policy: number;
  /** MNONCE from LAUNCH_MEASURE (16 bytes). */
  mnonce: Uint8Array;
  /** The transport integrity key (16 bytes). */
  tik: Uint8Array;
}

const SHA256_BLOCK = 64;

/** The first platform header of the type `platform` names; IgvmError 'measure-no-sev-platform' when none. */
export function firstSevPlatform(file: IgvmFile, platform: SevPlatform): SupportedPlatform {
  const type = platform === 'sev' ? PLATFORM_TYPE.SEV : PLATFORM_TYPE.SEV_ES;
  return firstPlatformOfType(file, type, 'measure-no-sev-platform', `igvmmeasure --platform ${platform} has nothing to measure`);
}


/** `data` zero-padded (or cut) to one 4096-byte page. */
function page(data: Uint8Array): Uint8Array {
  if (data.length === PAGE_SIZE) return data;
  const out = new Uint8Array(PAGE_SIZE);
  out.set(data.subarray(0, PAGE_SIZE));
  return out;
}

/**
 * igvmmeasure `--platform sev|sev-es` (§4.1): the first SEV / SEV_ES platform's mask M; one SHA-256 over, in file order,
 * each PAGE_DATA with `mask & M != 0` that has data (zero-padded to 4096; flags and data type ignored; pages without
 * data contribute nothing), and every SNP VP context's VMSA page (any mask). PARAMETER_INSERT contributes nothing.
 */
export function measureSevIgvmmeasure(file: IgvmFile, platform: SevPlatform, opts: SevMeasureOptions = {}): SevMeasurement {
  const m = firstSevPlatform(file, platform).compatibility_mask;
  const h = createSha256();
  let records = 0;
  const steps: MeasureStep[] | undefined = opts.trace ? [] : undefined;
  file.directives.forEach((d, i) => {
    if (!isActive(d)) return; // the crate's parser drops headers with mask 0
    let p: Uint8Array | undefined;
    let gpa: bigint;
    if (d.type === 'PAGE_DATA') {
      if (!intersects(d.compatibility_mask, m) || d.data === undefined || d.data.length === 0) return;
      p = page(d.data);
      gpa = d.gpa;
    } else if (d.type === 'VP_CONTEXT' && d.context.kind === 'vmsa') {
      p = page(d.context.data);
      gpa = d.gpa;
    } else return;
    h.update(p);
    records++;
    steps?.push({
      kind: d.type === 'PAGE_DATA' ? 'PAGE' : 'VMSA', gpa, contents: sha256(p), digest: undefined, source: i,
      detail: d.type === 'VP_CONTEXT' ? `vp ${d.vp_index}${intersects(d.compatibility_mask, m) ? '' : ' (other mask: igvmmeasure measures every VMSA)'}` : '',
    });
  });
  return { digest: h.digest(), mask: m, records, steps };
}

/** HMAC-SHA-256 (RFC 2104) over the installed hash provider. */
export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  const k = new Uint8Array(SHA256_BLOCK);
  k.set(key.length > SHA256_BLOCK ? sha256(key) : key);
  const ipad = new Uint8Array(SHA256_BLOCK + message.length);
  const opad = new Uint8Array(SHA256_BLOCK + 32);
  for (let i = 0; i < SHA256_BLOCK; i++) {
    ipad[i] = k[i]! ^ 0x36;
    opad[i] = k[i]! ^ 0x5c;
  }
  ipad.set(message, SHA256_BLOCK);
  opad.set(sha256(ipad), SHA256_BLOCK);
  return sha256(opad);
}

function checkInt(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new IgvmError('measure-sev-launch', `${name} must be an integer from 0 to ${max}, got ${v}`);
}

function checkLength(name: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new IgvmError('measure-sev-launch', `${name} must be ${n} bytes, got ${b.length}`);
}

/** The LAUNCH_MEASURE message: 0x04 ‖ API_MAJOR ‖ API_MINOR ‖ BUILD ‖ POLICY (u32 LE) ‖ LD ‖ MNONCE. */
export function sevLaunchMeasureMessage(ld: Uint8Array, opts: SevLaunchMeasureOptions): Uint8Array {
  checkLength('LD', ld, 32);
  checkLength('MNONCE', opts.mnonce, 16);
  checkInt('API_MAJOR', opts.apiMajor, 0xff);
  checkInt('API_MINOR', opts.apiMinor, 0xff);
  checkInt('BUILD', opts.build, 0xff);
  checkInt('POLICY', opts.policy, 0xffffffff);
  const msg = new Uint8Array(8 + 32 + 16);
  msg[0] = 0x04;
  msg[1] = opts.apiMajor;
  msg[2] = opts.apiMinor;
  msg[3] = opts.build;
  new DataView(msg.buffer).setUint32(4, opts.policy, true);
  msg.set(ld, 8);
  msg.set(opts.mnonce, 40);
  return msg;
}

/** MEASURE = HMAC-SHA-256(TIK, LAUNCH_MEASURE message) as the PSP reports it (§4.2); 32 bytes. */
export function sevLaunchMeasure(ld: Uint8Array, opts: SevLaunchMeasureOptions): Uint8Array {
  checkLength('TIK', opts.tik, 16);
  return hmacSha256(opts.tik, sevLaunchMeasureMessage(ld, opts));
}
