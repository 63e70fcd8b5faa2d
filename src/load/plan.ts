// The load plan: what QEMU 10.2 does with an IGVM file — memory, parameter areas, vCPU state, SEV launch updates, or its fatal error (QEMU-LOADER.md §2–§10).
import type { SnpPageType } from '../measure/snp-digest.js';
import type { E820Entry, RamLayout } from './e820.js';
import type { GuestMemory } from './qemu/guest-memory.js';

// ---------------------------------------------------------------------------------------------- configuration

/** `auto` = the strongest platform the file declares among those QEMU supports; the others name the SEV object configured. */
export type QemuPlatformChoice = 'auto' | 'native' | 'sev' | 'sev-es' | 'sev-snp';
export type QemuMachine = 'q35' | 'pc';
export type QemuAccel = 'tcg' | 'kvm';
/** `-cpu` model: qemu64 (QEMU's default, AMD vendor, 40 physical address bits), EPYC-v4, or `host` on an AMD / Intel host. */
export type QemuCpu = 'qemu64' | 'EPYC-v4' | 'host-amd' | 'host-intel';

/** The confidential-guest object on the command line: none, `sev-guest` (without / with the ES policy bit) or `sev-snp-guest`. */
export type SevObject = 'none' | 'sev' | 'sev-es' | 'sev-snp';

export interface QemuConfig {
  platform?: QemuPlatformChoice;
  /** Guest RAM in bytes (`-m`; default 512 MiB). QEMU rounds it up to 8 KiB. */
  memory?: bigint | number;
  /** `-smp` (default 1). */
  vcpus?: number;
  /** Default q35. */
  machine?: QemuMachine;
  /** Default tcg. SEV objects need kvm (an SEV-SNP capable AMD host is assumed). */
  accel?: QemuAccel;
  /** Default EPYC-v4 with an SEV object, else qemu64. */
  cpu?: QemuCpu;
  /** CPUID(1).EAX of the vCPU model (RDX of the reset state). Default: qemu64 0x60fb1, EPYC-v4 0x800f12, host 0. */
  cpuSignature?: number;
  /** What the host KVM reports as KVM_X86_SEV_VMSA_FEATURES (default 0x20 = DebugSwap, upstream Linux ≥ 6.10). */
  kvmVmsaFeatures?: bigint;
  /** `policy` property of sev-snp-guest (SNP_LAUNCH_START). Default: the file's GUEST_POLICY for the SEV-SNP mask, else 0x30000. */
  snpPolicy?: bigint;
  /** `policy` property of sev-guest. Default 0x1 (sev) or 0x5 (sev-es). */
  sevPolicy?: number;
  /** A `-drive if=pflash` is configured (rejected with IGVM). */
  pflash?: boolean;
  /** `-bios FILE` (silently ignored with IGVM). */
  bios?: string;
}

export interface ResolvedQemuConfig {
  platform: QemuPlatformChoice;
  sevObject: SevObject;
  /** QOM type of the object, when there is one. */
  objectType: 'sev-guest' | 'sev-snp-guest' | undefined;
  memory: bigint;
  vcpus: number;
  machine: QemuMachine;
  accel: QemuAccel;
  cpu: QemuCpu;
  cpuVendor: 'amd' | 'intel';
  physBits: number;
  cpuSignature: number;
  kvmVmsaFeatures: bigint;
  snpPolicy: bigint | undefined;
  sevPolicy: number | undefined;
  pflash: boolean;
  bios: string | undefined;
}

// ---------------------------------------------------------------------------------------------- results

/** Where processing stopped: the step of QEMU-LOADER.md §2 (plus the machine set-up QEMU does around it). */
export type LoadStage =
  | 'config' | 'machine-memory' | 'parse' | 'pre-pass' | 'firmware' | 'platform' | 'directives' | 'initialization'
  | 'flush' | 'policy' | 'machine-done';

/** A line QEMU prints on stderr (the CLI prefixes `qemu-system-x86_64: `, and `warning: ` for warnings). */
export interface QemuLine {
  level: 'error' | 'warning';
  text: string;
}

export interface LoadFailure {
  /** QEMU's fatal message, exactly (without the program prefix). */
  message: string;
  /** Everything QEMU prints on stderr up to and including the fatal message. */
  stderr: QemuLine[];
  stage: LoadStage;
  /** QEMU's directive index (mask-0 headers dropped, as the igvm library does) when a directive failed. */
  directive: number | undefined;
  /** `exit`: QEMU prints the message and exits 1. `abort`: QEMU dies with SIGABRT (the igvm library panics). */
  kind: 'exit' | 'abort';
  /** What igvmkit knows beyond QEMU's message (which record, field or region); QEMU does not print it. */
  detail: string | undefined;
}

export type PlatformName = 'NATIVE' | 'SEV' | 'SEV_ES' | 'SEV_SNP';

export interface ChosenPlatform {
  type: PlatformName;
  mask: number;
}

/** Page types QEMU hands to the SEV code (ConfidentialGuestPageType). */
export type CgsPageType = 'NORMAL' | 'VMSA' | 'ZERO' | 'UNMEASURED' | 'SECRETS' | 'CPUID' | 'REQUIRED_MEMORY';

/** The RAM a range of guest memory lives in. */
export interface RamTarget {
  /** `pc.ram` (the machine RAM), `pc.rom` (option-ROM area 0xC0000–0xDFFFF), or `igvm.<HEX index>` created for the range. */
  name: string;
  /** Offset of the range inside that RAM block. */
  offset: bigint;
  /** The region was created by the loader for this range. */
  created: boolean;
  /** Backed by guest_memfd (private memory, sev-snp-guest). */
  guestMemfd: boolean;
  /** Read-only for the guest (pc.rom on PCI machines). */
  readonly: boolean;
}

export type PopulationSource = 'page-data' | 'zero' | 'parameter-area' | 'required-memory';

/** One write of guest memory, in the order QEMU performs them. */
export interface MemoryPopulation {
  gpa: bigint;
  size: bigint;
  source: PopulationSource;
  /** QEMU directive index of the first directive (the region name uses it) and the number of directives. */
  directive: number;
  count: number;
  /** Index in IgvmFile.directives of the first directive. */
  modelIndex: number;
  /** PAGE_DATA: page size, flags, data type, compatibility mask. */
  pageSize: number;
  flags: number | undefined;
  dataType: number | undefined;
  mask: number | undefined;
  /** PARAMETER_INSERT: the area index. */
  parameterArea: number | undefined;
  ram: RamTarget;
  /** The page type handed to the SEV code; undefined without an SEV object. */
  sevType: CgsPageType | undefined;
  /** The contents enter the launch measurement (SNP NORMAL/ZERO, SEV LAUNCH_UPDATE_DATA). */
  measured: boolean;
  /** Contents QEMU or the PSP replace after the loader wrote them. */
  replaced: 'kvm-cpuid-table' | 'psp-secrets' | undefined;
}

export type ParameterKind = 'VP_COUNT_PARAMETER' | 'ENVIRONMENT_INFO_PARAMETER' | 'MEMORY_MAP';

/** One IGVM_VHS_MEMORY_MAP_ENTRY as QEMU writes it. */
export interface IgvmMemoryMapEntry {
  startingPage: bigint;
  pageCount: bigint;
  entryType: number;
}

export interface ParameterWrite {
  directive: number;
  type: ParameterKind;
  /** byte_offset of the directive. */
  byteOffset: number;
  /** Where QEMU actually wrote (MEMORY_MAP: always 0). */
  writtenAt: number;
  /** Bytes written (MEMORY_MAP: 24 per entry). */
  length: number;
  /** VP_COUNT: the count; ENVIRONMENT_INFO: the u32 after setting bit 0; MEMORY_MAP: the entry count. */
  value: number;
  /** MEMORY_MAP: the entries written, sorted. */
  entries: IgvmMemoryMapEntry[] | undefined;
}

export interface ParameterAreaPlan {
  index: number;
  size: number;
  /** QEMU directive index of the PARAMETER_AREA. */
  directive: number;
  /** The file gave initial data, which QEMU ignores (the area starts zero-filled). */
  fileDataIgnored: boolean;
  /** Contents when inserted (or at the end, if never inserted). */
  bytes: Uint8Array;
  writes: ParameterWrite[];
  insertedAt: { gpa: bigint; directive: number } | undefined;
}

export interface SegmentState {
  selector: number;
  base: bigint;
  limit: number;
  /** QEMU SegmentCache flags (descriptor bits 40–55 shifted left by 8). */
  flags: number;
}

/** The vCPU registers QEMU holds (target/i386 CPUX86State, the parts the loader touches). */
export interface X86State {
  rax: bigint; rcx: bigint; rdx: bigint; rbx: bigint; rsp: bigint; rbp: bigint; rsi: bigint; rdi: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint; r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  rip: bigint; rflags: bigint;
  cr0: bigint; cr3: bigint; cr4: bigint; efer: bigint;
  es: SegmentState; cs: SegmentState; ss: SegmentState; ds: SegmentState; fs: SegmentState; gs: SegmentState;
  ldtr: SegmentState; tr: SegmentState; gdtr: SegmentState; idtr: SegmentState;
  dr6: bigint; dr7: bigint; xcr0: bigint; pat: bigint; fcw: number; mxcsr: number;
}

export interface VpState {
  vp: number;
  /** igvm-native: the native context (BSP only); igvm-vmsa: the file's VMSA; reset: the architectural reset state. */
  source: 'igvm-native' | 'igvm-vmsa' | 'reset';
  /** QEMU directive index of the context applied (the last one for this vp). */
  directive: number | undefined;
  registers: X86State;
  /** SEV-ES/SNP: the VMSA page from the file and the VMSA KVM builds from the registers (src/load/qemu/kvm-vmsa.ts). */
  fileVmsa: Uint8Array | undefined;
  kvmVmsa: Uint8Array | undefined;
}

export type SnpUpdateType = 'NORMAL' | 'UNMEASURED' | 'SECRETS' | 'CPUID' | 'VMSA';

/** One 4 KiB SNP_LAUNCH_UPDATE page (KVM performs the queued ranges page by page, in order). */
export interface SnpLaunchUpdate {
  gpa: bigint;
  type: SnpUpdateType;
  pageType: SnpPageType;
  /** NORMAL and VMSA pages: the 4096 bytes measured; undefined for the other types. */
  contents: Uint8Array | undefined;
  /** QEMU directive index / IgvmFile.directives index of the source; undefined for KVM's VMSAs. */
  directive: number | undefined;
  modelIndex: number | undefined;
  /** VMSA pages: the vCPU. */
  vcpu: number | undefined;
}

export interface SnpIdBlockPlan {
  /** QEMU directive index of the SNP_ID_BLOCK. */
  directive: number;
  /** The 96-byte ID block handed to LAUNCH_FINISH (version forced to 1, policy = the GUEST_POLICY value). */
  idBlock: Uint8Array;
  /** The 4096-byte ID authentication structure. */
  idAuth: Uint8Array;
  authorKeyEnabled: boolean;
}

export interface SnpPlan {
  /** The launch updates in the order KVM issues them: the queued pages, then one VMSA per vCPU. */
  launchUpdates: SnpLaunchUpdate[];
  /** `policy` of the sev-snp-guest object, used by SNP_LAUNCH_START. */
  launchPolicy: bigint;
  /** The GUEST_POLICY value QEMU passes at the end of loading (0 when the file has none for the mask). */
  guestPolicy: bigint;
  idBlock: SnpIdBlockPlan | undefined;
  /** SEV_FEATURES of every VMSA KVM builds (vp 0's value from the pre-pass, plus SNP_ACTIVE). */
  sevFeatures: bigint;
}

export interface SevLaunchData {
  gpa: bigint;
  length: bigint;
  directive: number;
  count: number;
}

export interface SevPlan {
  /** KVM_SEV_LAUNCH_UPDATE_DATA calls, in order (issued immediately at each region flush). */
  launchUpdateData: SevLaunchData[];
  /** SEV-ES: LAUNCH_UPDATE_VMSA for every vCPU after the data; 0 for plain SEV. */
  vmsaUpdates: number;
  launchPolicy: number;
  sevFeatures: bigint;
}

/** A range of the guest-physical address space as QEMU's flat view shows it at the end of loading. */
export interface AddressRange {
  start: bigint;
  /** Exclusive. */
  end: bigint;
  name: string;
  kind: 'ram' | 'mmio';
  readonly: boolean;
  created: boolean;
}

export interface LoadPlan {
  platform: ChosenPlatform;
  ram: RamLayout;
  /** QEMU's E820 table in creation order. */
  e820: E820Entry[];
  addressSpace: AddressRange[];
  populations: MemoryPopulation[];
  parameterAreas: ParameterAreaPlan[];
  vps: VpState[];
  snp: SnpPlan | undefined;
  sev: SevPlan | undefined;
  /** The GUEST_POLICY value selected by the mask (used only for SEV-SNP). */
  guestPolicy: bigint | undefined;
  /** QEMU's warn_report lines. */
  warnings: string[];
  /** Things QEMU does not report but a reader should know (ignored options, undefined behaviour, launch-time failures). */
  notes: string[];
  /** Guest memory after loading (pages QEMU wrote). */
  memory: GuestMemory;
}

export interface LoadSuccess {
  ok: true;
  config: ResolvedQemuConfig;
  plan: LoadPlan;
}

export interface LoadFailed {
  ok: false;
  config: ResolvedQemuConfig;
  failure: LoadFailure;
  /** What QEMU had done before it failed, when it got as far as the directives. */
  progress: LoadPlan | undefined;
}

export type LoadResult = LoadSuccess | LoadFailed;
