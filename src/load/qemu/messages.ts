// QEMU 10.2's messages for IGVM loading, exactly as backends/igvm.c, target/i386/{igvm,sev}.c and the machine code print them (QEMU-LOADER.md §10).
//
// `%lX`/`%X` print upper-case hex without leading zeros; SEV messages start with the C function name (`__func__`).

/** C's `%lX` of an unsigned value. */
export function hexUpper(v: bigint | number): string {
  return BigInt(v).toString(16).toUpperCase();
}

export const QEMU_PROGRAM = 'qemu-system-x86_64';

export const MSG = {
  loadFailed: (path: string, reason: string) => `Unable to load ${path}: ${reason}`,
  missingFile: (path: string) => `Unable to load ${path}: Failed to open file “${path}”: No such file or directory`,
  parseFailed: (path: string, code: number) => `Unable to parse IGVM file ${path}: ${code}`,
  noPlatform: () => 'IGVM file does not describe a compatible supported platform',
  directiveCount: (count: number) => `Invalid directive header count in IGVM file. Error code: ${hexUpper(count >>> 0)}`,
  unknownHeader: (type: number) => `IGVM: Unknown header type encountered when processing file: (type 0x${hexUpper(type)})`,
  nonRamRegion: (gpa: bigint) => `Processing of IGVM file failed: Could not prepare memory at address 0x${hexUpper(gpa)} due to existing non-RAM region`,
  regionSizeExceeded: (gpa: bigint) => `Processing of IGVM file failed: Could not prepare memory at address 0x${hexUpper(gpa)}: region size exceeded`,
  pageDataSize: (index: number) => `IGVM file contains page data with invalid size for directive with index ${index}`,
  invalidPageType: (first: number, pageCount: number, dataType: number) =>
    `Invalid page type in IGVM file. Directives: ${first} to ${first + pageCount}, page type: ${dataType}`,
  bspOnly: () => 'context can be set for BSP only',
  memoryMapTooLarge: () => 'IGVM: guest memory map size exceeds parameter area defined in IGVM file',
  unknownE820: () => 'unknown e820 type',
  multipleIdBlocks: () => 'IGVM: Multiple ID blocks encountered in IGVM file.',
  noParameterArea: (index: number) => `IGVM: No parameter area for index ${index >>> 0}`,
  pflash: () => 'pflash devices cannot be configured when using IGVM',
  // SEV code (target/i386/sev.c)
  vmsaWithoutEs: () => 'cgs_set_guest_state: attempt to configure initial VMSA, but SEV-ES is not supported',
  secretsWithoutSnp: () => 'cgs_set_guest_state: attempt to configure secrets page, but SEV-SNP is not supported',
  cpuidWithoutSnp: () => 'cgs_set_guest_state: attempt to configure CPUID page, but SEV-SNP is not supported',
  requiredMemory: (gpa: bigint) => `cgs_set_guest_state: failed to configure required memory. gpa: ${hexUpper(gpa)}, type: 6`,
  convertNonMemfd: (gpa: bigint, size: bigint) =>
    `Convert non guest_memfd backed memory region (0x${gpa.toString(16)} ,+ 0x${size.toString(16)}) to private`,
  vmsaGpa: (gpa: bigint) => `check_vmsa_supported: The VMSA GPA must be FFFFFFFFF000 but is specified as ${hexUpper(gpa)}`,
  vmsaUnsynchronised: () =>
    'check_vmsa_supported: The VMSA contains fields that are not synchronized with KVM. Continuing would result in either unpredictable guest behavior, or a mismatched launch measurement.',
  snpNotInFeatures: () => 'check_sev_features: SEV_SNP is enabled but is not enabled in VMSA sev_features',
  snpInFeatures: () => 'check_sev_features: SEV_SNP is not enabled but is enabled in VMSA sev_features',
  unsupportedFeatures: (features: bigint, supported: bigint) =>
    `check_sev_features: VMSA contains unsupported sev_features: ${hexUpper(features)}, supported features: ${hexUpper(supported)}`,
  cpuOutOfBounds: (index: number) => `SEV: unable to set CPU context for out of bounds CPU index ${index}`,
  // machine set-up
  kvmRequired: (objectType: string) => `cannot set up private guest memory for ${objectType}: KVM required`,
  accelNoCgs: (objectType: string) => `accelerator does not support confidential guest ${objectType}`,
  tooManyCpus: (cpus: number, machine: string, max: number) => `Invalid SMP CPUs ${cpus}. The max CPUs supported by machine '${machine}' is ${max}`,
} as const;
