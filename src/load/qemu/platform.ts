// Platform selection: which SUPPORTED_PLATFORM QEMU uses and its compatibility mask (qigvm_supported_platform_compat_mask, QEMU-LOADER.md §3).
//
// NATIVE is always acceptable; SEV_SNP with a sev-snp-guest object; SEV_ES with sev-snp-guest or a sev-guest whose
// policy has the ES bit; SEV with any SEV object. VSM, TDX and CCA are ignored; version, highest VTL and the shared
// GPA boundary are not checked. The strongest acceptable platform wins: SEV_SNP > SEV_ES > SEV > NATIVE.
import type { SupportedPlatform } from '../../model.js';
import { PLATFORM_TYPE } from '../../spec/constants.js';
import type { ChosenPlatform, SevObject } from '../plan.js';

/** cgsc->check_support for each SEV platform type. */
export function sevPlatformAcceptable(platformType: number, object: SevObject): boolean {
  switch (platformType) {
    case PLATFORM_TYPE.SEV_SNP: return object === 'sev-snp';
    case PLATFORM_TYPE.SEV_ES: return object === 'sev-snp' || object === 'sev-es';
    case PLATFORM_TYPE.SEV: return object !== 'none';
    default: return false;
  }
}

/** The chosen platform, or undefined when none is acceptable ("IGVM file does not describe a compatible supported platform"). */
export function selectPlatform(platforms: readonly SupportedPlatform[], object: SevObject): ChosenPlatform | undefined {
  let snp = 0;
  let es = 0;
  let sev = 0;
  let native = 0;
  for (const p of platforms) {
    // A later platform of the same type overwrites the mask (the library refuses duplicates anyway).
    if (p.platform_type === PLATFORM_TYPE.NATIVE) native = p.compatibility_mask;
    else if (sevPlatformAcceptable(p.platform_type, object)) {
      if (p.platform_type === PLATFORM_TYPE.SEV_SNP) snp = p.compatibility_mask;
      else if (p.platform_type === PLATFORM_TYPE.SEV_ES) es = p.compatibility_mask;
      else sev = p.compatibility_mask;
    }
  }
  if (snp !== 0) return { type: 'SEV_SNP', mask: snp };
  if (es !== 0) return { type: 'SEV_ES', mask: es };
  if (sev !== 0) return { type: 'SEV', mask: sev };
  if (native !== 0) return { type: 'NATIVE', mask: native };
  return undefined;
}

/** For `--platform auto`: the SEV object for the strongest platform the file declares (none for NATIVE-only files). */
export function strongestDeclared(platforms: readonly SupportedPlatform[]): SevObject {
  const types = new Set(platforms.map((p) => p.platform_type));
  if (types.has(PLATFORM_TYPE.SEV_SNP)) return 'sev-snp';
  if (types.has(PLATFORM_TYPE.SEV_ES)) return 'sev-es';
  if (types.has(PLATFORM_TYPE.SEV)) return 'sev';
  return 'none';
}
