// Decoding and encoding of VP context payloads: VMSA, native x64, CCA, VBS register values (FORMAT.md §7.1–§7.4).
import { ByteReader, ByteWriter } from '../bytes.js';
import { SEV_SELECTOR, SEV_VMSA, VMSA_SEGMENTS, VMSA_PAGE_SIZE, segmentOffset, type VmsaSegmentName } from '../spec/vmsa.js';
import { IGVM_NATIVE_VP_CONTEXT_X64, IGVM_VP_CONTEXT_AARCH64_CCA, CONTEXT_PAGE_SIZE } from '../spec/native-context.js';
import type { StructValue, StructLayout, FieldDef } from '../spec/struct.js';
import type { VbsRegister } from '../model.js';

export type SevSelector = StructValue<typeof SEV_SELECTOR.fields>;
export type VmsaFields = StructValue<typeof SEV_VMSA.fields> & Record<VmsaSegmentName, SevSelector>;
export type NativeContextFields = StructValue<typeof IGVM_NATIVE_VP_CONTEXT_X64.fields>;
export type CcaContextFields = StructValue<typeof IGVM_VP_CONTEXT_AARCH64_CCA.fields>;

/** Decode a VMSA page (segment registers and every named field). */
export function decodeVmsa(page: Uint8Array): VmsaFields {
  const r = new ByteReader(page);
  const v = SEV_VMSA.read(r, 0) as VmsaFields;
  for (const s of VMSA_SEGMENTS) v[s] = SEV_SELECTOR.read(r, segmentOffset(s));
  return v;
}

/** Build a 4096-byte VMSA page; fields not given are zero. */
export function encodeVmsa(fields: Partial<VmsaFields>): Uint8Array {
  const page = encodePage(SEV_VMSA, VMSA_PAGE_SIZE, stripSegments(fields) as Partial<StructValue<typeof SEV_VMSA.fields>>);
  const w = new ByteWriter(page);
  for (const s of VMSA_SEGMENTS) {
    const seg = fields[s];
    if (seg) SEV_SELECTOR.write(w, segmentOffset(s), seg);
  }
  return page;
}

function stripSegments(fields: Partial<VmsaFields>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...fields };
  for (const s of VMSA_SEGMENTS) delete out[s];
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}

export function decodeNativeContext(page: Uint8Array): NativeContextFields {
  return IGVM_NATIVE_VP_CONTEXT_X64.read(new ByteReader(page), 0);
}

/** Encode `fields` (missing ones zero) of `layout` at the start of a zeroed page of `size` bytes. */
function encodePage<F extends readonly FieldDef[]>(layout: StructLayout<F>, size: number, fields: Partial<StructValue<F>>): Uint8Array {
  const w = new ByteWriter(size);
  const zero = layout.read(new ByteReader(new Uint8Array(size)), 0);
  const given = Object.fromEntries(Object.entries(fields).filter(([, x]) => x !== undefined));
  layout.write(w, 0, { ...zero, ...given } as StructValue<F>);
  return w.bytes;
}

/** Build the 4096-byte native x64 context page; fields not given are zero. */
export function encodeNativeContext(fields: Partial<NativeContextFields>): Uint8Array {
  return encodePage(IGVM_NATIVE_VP_CONTEXT_X64, CONTEXT_PAGE_SIZE, fields);
}

export function decodeCcaContext(page: Uint8Array): CcaContextFields {
  return IGVM_VP_CONTEXT_AARCH64_CCA.read(new ByteReader(page), 0);
}

export function encodeCcaContext(fields: Partial<CcaContextFields>): Uint8Array {
  return encodePage(IGVM_VP_CONTEXT_AARCH64_CCA, CONTEXT_PAGE_SIZE, fields);
}

/** Hyper-V register value views: 128-bit integer, segment {base, limit, selector, attributes}, table {limit, base}. */
export interface VbsRegisterValue {
  u64: bigint;
  high: bigint;
  segment: { base: bigint; limit: number; selector: number; attributes: number };
  table: { limit: number; base: bigint };
}

export function decodeVbsValue(r: VbsRegister): VbsRegisterValue {
  const b = new ByteReader(r.register_value);
  return {
    u64: b.u64(0),
    high: b.u64(8),
    segment: { base: b.u64(0), limit: b.u32(8), selector: b.u16(12), attributes: b.u16(14) },
    table: { limit: b.u16(6), base: b.u64(8) },
  };
}

/** Encode a VBS register list (register_count + 32-byte entries). */
export function encodeVbsContext(registers: { vtl: number; register_name: number; value: Uint8Array }[]): Uint8Array {
  const w = new ByteWriter(4 + registers.length * 32);
  w.u32(0, registers.length);
  registers.forEach((reg, i) => {
    const at = 4 + i * 32;
    w.u8(at, reg.vtl);
    w.u32(at + 1, reg.register_name);
    if (reg.value.length > 16) throw new Error('VBS register values are at most 16 bytes');
    w.put(at + 16, reg.value);
  });
  return w.bytes;
}

/** L bit of a code segment: bit 9 of the packed 12-bit VMSA attribute, bit 13 of the 16-bit descriptor-format attribute (native). */
export const VMSA_ATTRIB_L = 0x200;
export const NATIVE_ATTRIB_L = 0x2000;

/** Execution mode implied by control registers and the code segment's L bit (x64). */
export function x64Mode(cr0: bigint, efer: bigint, csLong: boolean): string {
  const pe = (cr0 & 1n) !== 0n;
  const pg = (cr0 & 0x80000000n) !== 0n;
  const lma = (efer & 0x400n) !== 0n;
  const lme = (efer & 0x100n) !== 0n;
  if (!pe) return 'real mode';
  if (pg && (lma || lme)) return csLong ? '64-bit long mode' : 'compatibility mode';
  return pg ? '32-bit protected mode, paging' : '32-bit protected mode, no paging';
}
