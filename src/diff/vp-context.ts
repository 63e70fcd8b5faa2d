// VP context payloads compared register by register: SEV VMSA, native x64, CCA, VBS register lists (FORMAT.md §7.1–§7.4, Appendix A).
import type { VpContextData, VbsContext } from '../model.js';
import { SEV_VMSA, VMSA_SEGMENTS, segmentOffset } from '../spec/vmsa.js';
import { IGVM_NATIVE_VP_CONTEXT_X64, IGVM_VP_CONTEXT_AARCH64_CCA } from '../spec/native-context.js';
import { fieldByteSize, type FieldDef } from '../spec/struct.js';
import type { DiffValue } from './fields.js';

/** A register (or named part of the context) whose value differs. */
export interface RegisterChange {
  register: string;
  a: DiffValue;
  b: DiffValue;
}

interface Slot {
  name: string;
  offset: number;
  size: number;
}

function slotsOf(fields: readonly FieldDef[]): Slot[] {
  return fields.map((f) => ({ name: f.name, offset: f.offset, size: fieldByteSize(f) }));
}

/** Every named VMSA field: segment parts, integer fields, x87/XMM/YMM registers (Appendix A SevVmsa). */
const VMSA_SLOTS: Slot[] = [
  ...VMSA_SEGMENTS.flatMap((s) => [
    { name: `${s}.selector`, offset: segmentOffset(s), size: 2 },
    { name: `${s}.attrib`, offset: segmentOffset(s) + 2, size: 2 },
    { name: `${s}.limit`, offset: segmentOffset(s) + 4, size: 4 },
    { name: `${s}.base`, offset: segmentOffset(s) + 8, size: 8 },
  ]),
  ...slotsOf(SEV_VMSA.fields),
  ...Array.from({ length: 8 }, (_, i) => ({ name: `st${i}`, offset: 0x420 + 10 * i, size: 10 })),
  ...Array.from({ length: 16 }, (_, i) => ({ name: `xmm${i}`, offset: 0x470 + 16 * i, size: 16 })),
  ...Array.from({ length: 16 }, (_, i) => ({ name: `ymm${i}_hi`, offset: 0x570 + 16 * i, size: 16 })),
];
const NATIVE_SLOTS = slotsOf(IGVM_NATIVE_VP_CONTEXT_X64.fields);
const CCA_SLOTS = slotsOf(IGVM_VP_CONTEXT_AARCH64_CCA.fields);

/** Little-endian value of a slot: a bigint for up to 8 bytes (number for ≤ 4), else the bytes. */
function read(data: Uint8Array, s: Slot): DiffValue {
  if (s.offset + s.size > data.length) return undefined;
  if (s.size > 8) return data.slice(s.offset, s.offset + s.size);
  let v = 0n;
  for (let i = s.size - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[s.offset + i]!);
  return s.size <= 4 ? Number(v) : v;
}

function sameBytes(a: Uint8Array, b: Uint8Array, at: number, size: number): boolean {
  for (let i = at; i < at + size; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return false;
  return true;
}

/** Compare the named slots, then report differing bytes outside them as `bytes[0x…–0x…]`. */
function compareSlots(slots: readonly Slot[], a: Uint8Array, b: Uint8Array): RegisterChange[] {
  const out: RegisterChange[] = [];
  const n = Math.max(a.length, b.length);
  const covered = new Uint8Array(n);
  for (const s of slots) {
    covered.fill(1, s.offset, Math.min(n, s.offset + s.size));
    if (!sameBytes(a, b, s.offset, s.size)) out.push({ register: s.name, a: read(a, s), b: read(b, s) });
  }
  for (let i = 0; i < n; i++) {
    if (covered[i] || (a[i] ?? 0) === (b[i] ?? 0)) continue;
    let j = i;
    while (j + 1 < n && !covered[j + 1] && (a[j + 1] ?? 0) !== (b[j + 1] ?? 0)) j++;
    const end = Math.min(j + 1, i + 32);
    out.push({ register: `bytes[0x${i.toString(16)}–0x${j.toString(16)}]`, a: a.slice(i, end), b: b.slice(i, end) });
    i = j;
  }
  if (a.length !== b.length) out.push({ register: 'size', a: a.length, b: b.length });
  return out;
}

function vbsRegisters(c: VbsContext): Map<string, { name: string; value: bigint }> {
  const m = new Map<string, { name: string; value: bigint }>();
  const seen = new Map<string, number>();
  for (const r of c.registers) {
    let v = 0n;
    for (let i = r.register_value.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(r.register_value[i]!);
    const base = r.name ?? `0x${r.register_name.toString(16)}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const name = n > 1 ? `${base}#${n}` : base;
    m.set(name, { name, value: v });
  }
  return m;
}

function compareVbs(a: VbsContext, b: VbsContext): RegisterChange[] {
  const out: RegisterChange[] = [];
  if (a.vtl !== b.vtl) out.push({ register: 'vtl', a: a.vtl, b: b.vtl });
  const ra = vbsRegisters(a);
  const rb = vbsRegisters(b);
  for (const [k, x] of ra) {
    const y = rb.get(k);
    if (y === undefined) out.push({ register: k, a: x.value, b: undefined });
    else if (x.value !== y.value) out.push({ register: k, a: x.value, b: y.value });
  }
  for (const [k, y] of rb) if (!ra.has(k)) out.push({ register: k, a: undefined, b: y.value });
  const order = (x: VbsContext): string => [...vbsRegisters(x).keys()].filter((k) => ra.has(k) && rb.has(k)).join(',');
  if (out.length === 0 && order(a) !== order(b)) out.push({ register: 'register order', a: [...ra.keys()].join(','), b: [...rb.keys()].join(',') });
  // mbz bytes are part of the measured record too.
  a.registers.forEach((r, i) => {
    const s = b.registers[i];
    if (s && r.register_name === s.register_name && !sameBytes(r.mbz, s.mbz, 0, Math.max(r.mbz.length, s.mbz.length))) {
      out.push({ register: `${r.name ?? r.register_name}.mbz`, a: r.mbz, b: s.mbz });
    }
  });
  return out;
}

/** The registers that differ between two VP contexts (by name; `kind` when the context formats differ). */
export function diffVpContext(a: VpContextData, b: VpContextData): RegisterChange[] {
  if (a.kind !== b.kind) return [{ register: 'kind', a: a.kind, b: b.kind }];
  switch (a.kind) {
    case 'vmsa':
      return compareSlots(VMSA_SLOTS, a.data, (b as typeof a).data);
    case 'native-x64':
      return compareSlots(NATIVE_SLOTS, a.data, (b as typeof a).data);
    case 'cca':
      return compareSlots(CCA_SLOTS, a.data, (b as typeof a).data);
    case 'vbs':
      return compareVbs(a, b as VbsContext);
    case 'unknown': {
      const da = a.data ?? new Uint8Array(0);
      const db = (b as typeof a).data ?? new Uint8Array(0);
      return compareSlots([], da, db);
    }
  }
}
