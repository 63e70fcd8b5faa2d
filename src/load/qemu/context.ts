// The state qigvm_process_file keeps while it walks an IGVM file (QIgvm in backends/igvm.c) (QEMU-LOADER.md §2).
import { isActive, type DirectiveHeader, type IgvmFile, type InitializationHeader, type PageData, type SnpIdBlock, type SupportedPlatform } from '../../model.js';
import type { E820Entry } from '../e820.js';
import type {
  ChosenPlatform, MemoryPopulation, ParameterWrite, ResolvedQemuConfig, SevLaunchData, SnpUpdateType,
} from '../plan.js';
import type { AddressSpace } from './address-space.js';
import type { GuestMemory } from './guest-memory.js';
import type { NativeBspContext } from './native-context.js';

/** A directive as QEMU indexes it, with its index in IgvmFile.directives. */
export interface DirectiveRef {
  h: DirectiveHeader;
  modelIndex: number;
}

/** The headers as the igvm library hands them to QEMU: a header with compatibility_mask 0 is dropped (no filter). */
export interface QemuView {
  platforms: SupportedPlatform[];
  initializations: InitializationHeader[];
  directives: DirectiveRef[];
}

export function qemuView(file: IgvmFile): QemuView {
  const directives: DirectiveRef[] = [];
  file.directives.forEach((h, modelIndex) => {
    if (isActive(h)) directives.push({ h, modelIndex });
  });
  return { platforms: file.platforms, initializations: file.initializations.filter(isActive), directives };
}

/** The pending PAGE_DATA region (region_start, region_start_index, region_page_count, region_prev_page_data, region_last_index). */
export interface PendingRegion {
  start: bigint;
  startIndex: number;
  count: number;
  prev: PageData;
  lastIndex: number;
}

export interface AreaState {
  index: number;
  size: number;
  directive: number;
  fileDataIgnored: boolean;
  /** The zero-filled buffer; undefined once inserted (QEMU frees it). */
  data: Uint8Array | undefined;
  /** The contents at insertion (or at the end). */
  snapshot: Uint8Array | undefined;
  writes: ParameterWrite[];
  insertedAt: { gpa: bigint; directive: number } | undefined;
}

export interface SnpQueued {
  gpa: bigint;
  length: bigint;
  type: Exclude<SnpUpdateType, 'VMSA'>;
  /** QEMU index of the first directive and the number of directives (pages of a region, 1 for an insert). */
  directive: number;
  count: number;
}

export interface LaunchVmsa {
  page: Uint8Array;
  gpa: bigint;
  directive: number;
}

/** The SEV object (SevCommonState): its state and what it has been handed. */
export interface SevState {
  object: 'sev' | 'sev-es' | 'sev-snp';
  /** `uninit`: before KVM initialised it (the pre-pass, or no KVM at all); `launch`: LAUNCH_START done. */
  phase: 'uninit' | 'launch';
  snp: boolean;
  es: boolean;
  /** supported_sev_features (KVM's set, plus SNP_ACTIVE under SNP; 0 before KVM initialisation). */
  supported: bigint;
  /** sev_features taken from vp 0's VMSA in the pre-pass. */
  vmFeatures: bigint;
  snpQueue: SnpQueued[];
  launchData: SevLaunchData[];
  vmsas: Map<number, LaunchVmsa>;
}

export interface LoaderContext {
  view: QemuView;
  cfg: ResolvedQemuConfig;
  pass: 'pre' | 'real';
  sev: SevState | undefined;
  platform: ChosenPlatform;
  /** ctx->current_header_index. */
  index: number;
  space: AddressSpace;
  memory: GuestMemory;
  e820: E820Entry[];
  pending: PendingRegion | undefined;
  areas: Map<number, AreaState>;
  populations: MemoryPopulation[];
  nativeBsp: NativeBspContext | undefined;
  idBlock: { h: SnpIdBlock; directive: number } | undefined;
  /** ctx->sev_policy (the matching GUEST_POLICY), undefined when none matched. */
  sevPolicy: bigint | undefined;
  warnings: string[];
  notes: string[];
}

/** `header_mask & ctx->compatibility_mask`. */
export function applies(ctx: LoaderContext, mask: number): boolean {
  return (mask & ctx.platform.mask) !== 0;
}

/** The directive stage name for failures: inside the walk, or at the final flush. */
export function stageOf(ctx: LoaderContext): 'directives' | 'flush' | 'pre-pass' {
  return ctx.pass === 'pre' ? 'pre-pass' : ctx.index < 0 ? 'flush' : 'directives';
}
