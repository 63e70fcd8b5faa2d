// qigvm_process_file: platform selection, the directive walk, the initialization section, the final flush and the SEV-SNP policy (QEMU-LOADER.md §2).
import type { E820Entry } from '../e820.js';
import type { ResolvedQemuConfig } from '../plan.js';
import { AddressSpace } from './address-space.js';
import type { RamLayout } from '../e820.js';
import type { LoaderContext, QemuView, SevState } from './context.js';
import { handleDirective, handleInitialization } from './directives.js';
import { QemuFailure } from './failure.js';
import { GuestMemory } from './guest-memory.js';
import { MSG } from './messages.js';
import { processMemPage } from './pages.js';
import { selectPlatform } from './platform.js';
import { platformTypeName } from '../../spec/constants.js';

export interface ProcessInput {
  view: QemuView;
  cfg: ResolvedQemuConfig;
  ram: RamLayout;
  e820: E820Entry[];
  /** undefined without an SEV object. */
  sev: SevState | undefined;
}

/** The context after platform selection (steps 2 and 3's directive-count check). */
export function startContext(input: ProcessInput, pass: 'pre' | 'real'): LoaderContext {
  const platform = selectPlatform(input.view.platforms, input.cfg.sevObject);
  const stage = pass === 'pre' ? 'pre-pass' : 'platform';
  if (platform === undefined) {
    const declared = input.view.platforms.map((p) => `${platformTypeName(p.platform_type)} mask 0x${p.compatibility_mask.toString(16)}`).join(', ');
    throw new QemuFailure(MSG.noPlatform(), stage, { detail: `the file declares ${declared || 'no platform'}; configured object: ${input.cfg.objectType ?? 'none'}` });
  }
  if (input.view.directives.length === 0) throw new QemuFailure(MSG.directiveCount(0), pass === 'pre' ? 'pre-pass' : 'directives');
  return {
    view: input.view, cfg: input.cfg, pass, sev: input.sev, platform, index: 0,
    space: new AddressSpace(input.ram, input.cfg.accel, input.sev?.snp === true),
    memory: new GuestMemory(), e820: input.e820, pending: undefined, areas: new Map(), populations: [],
    nativeBsp: undefined, idBlock: undefined, sevPolicy: undefined, warnings: [], notes: [],
  };
}

/** The pre-pass of SEV-ES/SNP guests during KVM initialisation: VP_CONTEXT directives only, nothing written. */
export function prePass(input: ProcessInput): LoaderContext {
  const ctx = startContext(input, 'pre');
  ctx.view.directives.forEach((ref, i) => {
    ctx.index = i;
    if (ref.h.type === 'VP_CONTEXT') handleDirective(ctx, ref);
  });
  return ctx;
}

/** The real pass on a started context: directives, initialization headers, final flush, SNP policy hand-over. */
export function realPass(ctx: LoaderContext): void {
  ctx.view.directives.forEach((ref, i) => {
    ctx.index = i;
    handleDirective(ctx, ref);
  });
  ctx.view.initializations.forEach((h, i) => {
    ctx.index = i;
    handleInitialization(ctx, h);
  });
  ctx.index = -1;
  processMemPage(ctx, undefined);
}
