// Guest policy bit layouts: SnpPolicy and TdxPolicy (FORMAT.md §5, IGVM_VHS_GUEST_POLICY) and the SEV/SEV-ES policy.
import { PLATFORM_TYPE } from './constants.js';

/** Decoded guest policy bits by the platform the mask names (FORMAT.md §5 SnpPolicy / TdxPolicy; SEV policy). */
export function decodePolicy(platformType: number | undefined, policy: bigint): Record<string, number | boolean> {
  const bit = (n: number): boolean => ((policy >> BigInt(n)) & 1n) === 1n;
  if (platformType === PLATFORM_TYPE.SEV_SNP) {
    return {
      abi_minor: Number(policy & 0xffn), abi_major: Number((policy >> 8n) & 0xffn), smt: bit(16), reserved_must_be_one: bit(17),
      migrate_ma: bit(18), debug: bit(19), single_socket: bit(20),
    };
  }
  if (platformType === PLATFORM_TYPE.TDX) return { debug_allowed: bit(0), sept_ve_disable: bit(1), migratable: bit(2) };
  if (platformType === PLATFORM_TYPE.SEV || platformType === PLATFORM_TYPE.SEV_ES) {
    return { nodbg: bit(0), noks: bit(1), es: bit(2), nosend: bit(3), domain: bit(4), sev: bit(5), api_major: Number((policy >> 16n) & 0xffn), api_minor: Number((policy >> 24n) & 0xffn) };
  }
  return {};
}
