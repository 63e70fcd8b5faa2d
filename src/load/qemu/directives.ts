// QEMU's IGVM handler table and the directives without a module of their own: VP_CONTEXT, REQUIRED_MEMORY, SNP_ID_BLOCK, GUEST_POLICY (QEMU-LOADER.md §4, §5.7–§5.10).
//
// qigvm_handler looks the header type up before any mask is examined, so an unhandled type is fatal even when its mask
// excludes the chosen platform. Masks are applied by the handlers: PAGE_DATA, VP_CONTEXT, PARAMETER_INSERT,
// REQUIRED_MEMORY, SNP_ID_BLOCK, GUEST_POLICY; PARAMETER_AREA and the parameters have no mask.
import type { DirectiveHeader, InitializationHeader, RequiredMemory, SnpIdBlock, VpContext } from '../../model.js';
import { VHT } from '../../spec/constants.js';
import { applies, stageOf, type DirectiveRef, type LoaderContext } from './context.js';
import { QemuFailure } from './failure.js';
import { MSG } from './messages.js';
import { setNativeContext } from './native-context.js';
import { pageDataDirective } from './pages.js';
import { environmentInfo, memoryMap, parameterArea, parameterInsert, vpCount } from './parameters.js';
import { setGuestMemory, setGuestVmsa } from './sev.js';

/** The directive types QEMU 10.2 handles (MADT comes after 10.2). */
export const HANDLED_DIRECTIVES: ReadonlySet<DirectiveHeader['type']> = new Set<DirectiveHeader['type']>([
  'PAGE_DATA', 'VP_CONTEXT', 'PARAMETER_AREA', 'PARAMETER_INSERT', 'MEMORY_MAP', 'VP_COUNT_PARAMETER',
  'ENVIRONMENT_INFO_PARAMETER', 'REQUIRED_MEMORY', 'SNP_ID_BLOCK',
]);
export const HANDLED_INITIALIZATIONS: ReadonlySet<InitializationHeader['type']> = new Set<InitializationHeader['type']>(['GUEST_POLICY']);

/** qigvm_handler for one directive: unknown type → fatal; else the handler. */
export function handleDirective(ctx: LoaderContext, ref: DirectiveRef): void {
  const d = ref.h;
  if (!HANDLED_DIRECTIVES.has(d.type)) {
    throw new QemuFailure(MSG.unknownHeader(VHT[d.type]), stageOf(ctx), { directive: ctx.index, detail: `directive ${ctx.index} is ${d.type}, which QEMU 10.2 does not handle` });
  }
  switch (d.type) {
    case 'PAGE_DATA': return pageDataDirective(ctx, d);
    case 'VP_CONTEXT': return vpContext(ctx, d);
    case 'PARAMETER_AREA': return parameterArea(ctx, d);
    case 'PARAMETER_INSERT': return parameterInsert(ctx, d, ref.modelIndex);
    case 'MEMORY_MAP': return memoryMap(ctx, d);
    case 'VP_COUNT_PARAMETER': return vpCount(ctx, d);
    case 'ENVIRONMENT_INFO_PARAMETER': return environmentInfo(ctx, d);
    case 'REQUIRED_MEMORY': return requiredMemory(ctx, d, ref.modelIndex);
    case 'SNP_ID_BLOCK': return snpIdBlock(ctx, d);
    default: throw new Error(`unreachable: handled type ${d.type}`);
  }
}

/** qigvm_handler for one initialization header (run after all directives). */
export function handleInitialization(ctx: LoaderContext, h: InitializationHeader): void {
  if (h.type !== 'GUEST_POLICY') throw new QemuFailure(MSG.unknownHeader(VHT[h.type]), 'initialization', { detail: `initialization header ${ctx.index} is ${h.type}, which QEMU 10.2 does not handle` });
  // qigvm_initialization_guest_policy: the last matching GUEST_POLICY is the SEV policy.
  if (applies(ctx, h.compatibility_mask)) ctx.sevPolicy = h.policy;
}

/** qigvm_directive_vp_context: to the SEV object when there is one, else the native BSP context. */
function vpContext(ctx: LoaderContext, d: VpContext): void {
  if (!applies(ctx, d.compatibility_mask)) return;
  const data = d.context.data ?? new Uint8Array(0);
  if (ctx.sev !== undefined) setGuestVmsa(ctx, d.gpa, data, d.vp_index, ctx.index);
  else ctx.nativeBsp = setNativeContext(data, d.vp_index, ctx.index);
}

/** qigvm_directive_required_memory: memory prepared (no contents written); under an SEV object converted to private. */
function requiredMemory(ctx: LoaderContext, d: RequiredMemory, modelIndex: number): void {
  if (!applies(ctx, d.compatibility_mask)) return;
  const size = BigInt(d.number_of_bytes >>> 0);
  const prepared = ctx.space.prepare(d.gpa, size, ctx.index, ctx.sev?.snp === true);
  if (!prepared.ok) throw new QemuFailure(prepared.message, stageOf(ctx), { directive: ctx.index, detail: prepared.detail });
  ctx.populations.push({
    gpa: d.gpa, size, source: 'required-memory', directive: ctx.index, count: 1, modelIndex, pageSize: 4096,
    flags: d.flags, dataType: undefined, mask: d.compatibility_mask, parameterArea: undefined, ram: prepared.ram,
    sevType: ctx.sev === undefined ? undefined : 'REQUIRED_MEMORY', measured: false, replaced: undefined,
  });
  if (ctx.sev !== undefined) setGuestMemory(ctx, d.gpa, size, 'REQUIRED_MEMORY', ctx.index, 1);
}

/** qigvm_directive_snp_id_block: one matching ID block; a second one is fatal. */
function snpIdBlock(ctx: LoaderContext, d: SnpIdBlock): void {
  if (!applies(ctx, d.compatibility_mask)) return;
  if (ctx.idBlock !== undefined) throw new QemuFailure(MSG.multipleIdBlocks(), stageOf(ctx), { directive: ctx.index });
  ctx.idBlock = { h: d, directive: ctx.index };
}
