// Parameter areas: PARAMETER_AREA, VP_COUNT, ENVIRONMENT_INFO, MEMORY_MAP and PARAMETER_INSERT as QEMU applies them (QEMU-LOADER.md §5.2–§5.6, §7.4).
import { IgvmError } from '../../errors.js';
import type { Parameter, ParameterArea, ParameterInsert } from '../../model.js';
import { E820_TYPE } from '../e820.js';
import type { IgvmMemoryMapEntry } from '../plan.js';
import { applies, stageOf, type AreaState, type LoaderContext } from './context.js';
import { QemuFailure } from './failure.js';
import { MSG } from './messages.js';
import { setGuestMemory } from './sev.js';

/** The model keeps parameter areas in memory; QEMU allocates them with g_malloc0 of a u32 size. */
export const MAX_MODELLED_AREA = 256 * 1024 * 1024;
const ENTRY_SIZE = 24;

/** qigvm_directive_parameter_area: a zero-filled buffer of number_of_bytes (as a u32); the file's initial data is ignored. */
export function parameterArea(ctx: LoaderContext, d: ParameterArea): void {
  const size = Number(d.number_of_bytes & 0xffffffffn);
  if (size > MAX_MODELLED_AREA) {
    throw new IgvmError('load-limit', `parameter area ${d.parameter_area_index} is 0x${size.toString(16)} bytes; the loader model holds parameter areas in memory and supports up to 256 MiB`);
  }
  if (d.number_of_bytes > 0xffffffffn) ctx.notes.push(`parameter area ${d.parameter_area_index}: number_of_bytes 0x${d.number_of_bytes.toString(16)} is truncated to 32 bits by QEMU`);
  ctx.areas.set(d.parameter_area_index, {
    index: d.parameter_area_index, size, directive: ctx.index, fileDataIgnored: d.data !== undefined,
    data: new Uint8Array(size), snapshot: undefined, writes: [], insertedAt: undefined,
  });
}

/** qigvm_find_param_entry: warns and skips the directive when the area is unknown. */
function findArea(ctx: LoaderContext, index: number): AreaState | undefined {
  const area = ctx.areas.get(index);
  if (area === undefined) ctx.warnings.push(MSG.noParameterArea(index));
  return area;
}

/** The buffer of an area still in QEMU's hands; writing after it was inserted is a use after free. */
function liveData(ctx: LoaderContext, area: AreaState): Uint8Array | undefined {
  if (area.data === undefined) ctx.notes.push(`directive ${ctx.index}: parameter area ${area.index} was already inserted; QEMU writes through a freed (NULL) buffer`);
  return area.data;
}

/** A u32 write at `at`, clipped to the area; QEMU does not check the offset (a heap overflow, noted). */
function writeU32(ctx: LoaderContext, area: AreaState, data: Uint8Array, at: number, value: number): void {
  if (at + 4 > area.size) ctx.notes.push(`directive ${ctx.index}: byte_offset 0x${at.toString(16)} is outside parameter area ${area.index} (0x${area.size.toString(16)} bytes); QEMU writes past its buffer (undefined behaviour)`);
  for (let i = 0; i < 4; i++) if (at + i < data.length) data[at + i] = (value >>> (8 * i)) & 0xff;
}

function readU32(data: Uint8Array, at: number): number {
  let v = 0;
  for (let i = 3; i >= 0; i--) v = (v << 8) | (data[at + i] ?? 0);
  return v >>> 0;
}

/** qigvm_directive_vp_count: the number of vCPUs as a u32 at byte_offset. */
export function vpCount(ctx: LoaderContext, d: Parameter): void {
  const area = findArea(ctx, d.parameter_area_index);
  const data = area && liveData(ctx, area);
  if (!area || !data) return;
  writeU32(ctx, area, data, d.byte_offset, ctx.cfg.vcpus);
  area.writes.push({ directive: ctx.index, type: 'VP_COUNT_PARAMETER', byteOffset: d.byte_offset, writtenAt: d.byte_offset, length: 4, value: ctx.cfg.vcpus, entries: undefined });
}

/** qigvm_directive_environment_info: sets memory_is_shared (bit 0) of the u32 at byte_offset — always, also natively. */
export function environmentInfo(ctx: LoaderContext, d: Parameter): void {
  const area = findArea(ctx, d.parameter_area_index);
  const data = area && liveData(ctx, area);
  if (!area || !data) return;
  const value = (readU32(data, d.byte_offset) | 1) >>> 0;
  writeU32(ctx, area, data, d.byte_offset, value);
  area.writes.push({ directive: ctx.index, type: 'ENVIRONMENT_INFO_PARAMETER', byteOffset: d.byte_offset, writtenAt: d.byte_offset, length: 4, value, entries: undefined });
}

/** The IGVM entry type of an E820 entry: via the SEV object's table (RAM/reserved/ACPI/NVS/unusable) or natively (RAM/reserved only). */
export function memoryMapEntryType(e820Type: number, sevObject: boolean): number | undefined {
  switch (e820Type) {
    case E820_TYPE.RAM: return 0;
    case E820_TYPE.RESERVED: return 1;
    case E820_TYPE.ACPI: return sevObject ? 1 : undefined;
    case E820_TYPE.NVS: return sevObject ? 2 : undefined;
    case E820_TYPE.UNUSABLE: return sevObject ? 1 : undefined;
    default: return sevObject ? 0 : undefined;
  }
}

/**
 * qigvm_directive_memory_map: the E820 table as 24-byte entries written from offset 0 of the area (byte_offset is
 * ignored), then sorted by starting page. Under an SEV object before KVM initialisation the map is empty.
 */
export function memoryMap(ctx: LoaderContext, d: Parameter): void {
  const area = findArea(ctx, d.parameter_area_index);
  const data = area && liveData(ctx, area);
  if (!area || !data) return;
  const sevObject = ctx.sev !== undefined;
  const table = sevObject && ctx.sev?.phase === 'uninit' ? [] : ctx.e820;
  const max = Math.floor(area.size / ENTRY_SIZE);
  const written: IgvmMemoryMapEntry[] = [];
  for (const e of table) {
    const entryType = memoryMapEntryType(e.type, sevObject);
    if (entryType === undefined) throw new QemuFailure(MSG.unknownE820(), stageOf(ctx), { directive: ctx.index });
    if (written.length >= max) throw new QemuFailure(MSG.memoryMapTooLarge(), stageOf(ctx), { directive: ctx.index });
    const entry = { startingPage: e.address >> 12n, pageCount: e.length >> 12n, entryType };
    writeEntryFields(data, written.length * ENTRY_SIZE, entry);
    written.push(entry);
  }
  sortEntries(data, written.length);
  written.sort((a, b) => (a.startingPage < b.startingPage ? -1 : a.startingPage > b.startingPage ? 1 : 0));
  area.writes.push({ directive: ctx.index, type: 'MEMORY_MAP', byteOffset: d.byte_offset, writtenAt: 0, length: written.length * ENTRY_SIZE, value: written.length, entries: written });
}

/** QEMU sets starting page, page count and type; flags and reserved keep what the area held. */
function writeEntryFields(data: Uint8Array, at: number, e: IgvmMemoryMapEntry): void {
  const v = new DataView(data.buffer, data.byteOffset, data.byteLength);
  v.setBigUint64(at, e.startingPage, true);
  v.setBigUint64(at + 8, e.pageCount, true);
  v.setUint16(at + 16, e.entryType, true);
}

/** qsort of the first `n` whole 24-byte entries by starting page. */
function sortEntries(data: Uint8Array, n: number): void {
  const chunks = Array.from({ length: n }, (_, i) => data.slice(i * ENTRY_SIZE, (i + 1) * ENTRY_SIZE));
  const key = (c: Uint8Array): bigint => new DataView(c.buffer).getBigUint64(0, true);
  chunks.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  chunks.forEach((c, i) => data.set(c, i * ENTRY_SIZE));
}

/** qigvm_directive_parameter_insert: the whole area copied to gpa (memory prepared as for pages), then freed. */
export function parameterInsert(ctx: LoaderContext, d: ParameterInsert, modelIndex: number): void {
  if (!applies(ctx, d.compatibility_mask)) return;
  const area = findArea(ctx, d.parameter_area_index);
  if (!area) return;
  const size = BigInt(area.size);
  const prepared = ctx.space.prepare(d.gpa, size, ctx.index, ctx.sev?.snp === true);
  if (!prepared.ok) throw new QemuFailure(prepared.message, stageOf(ctx), { directive: ctx.index, detail: prepared.detail });
  const data = area.data ?? new Uint8Array(area.size);
  ctx.memory.writeBytes(d.gpa, data);
  area.snapshot = data;
  area.data = undefined;
  area.insertedAt = { gpa: d.gpa, directive: ctx.index };
  const population = {
    gpa: d.gpa, size, source: 'parameter-area' as const, directive: ctx.index, count: 1, modelIndex, pageSize: 4096,
    flags: undefined, dataType: undefined, mask: d.compatibility_mask, parameterArea: area.index, ram: prepared.ram,
    sevType: ctx.sev === undefined ? undefined : ('UNMEASURED' as const), measured: false, replaced: undefined,
  };
  ctx.populations.push(population);
  if (ctx.sev !== undefined) setGuestMemory(ctx, d.gpa, size, 'UNMEASURED', ctx.index, 1);
}
