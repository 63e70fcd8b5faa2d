// Field-level comparison of header bodies and byte strings for `igvm diff` (FORMAT.md §4–§7 header fields, §8 file data).
import { bytesEqual } from '../bytes.js';

/** A value as the diff reports it: integers, names, flags, byte strings (hex in JSON). */
export type DiffValue = number | bigint | string | boolean | Uint8Array | undefined;

/** One field whose value differs: `a` in file A, `b` in file B. */
export interface FieldChange {
  field: string;
  a: DiffValue;
  b: DiffValue;
}

export { bytesEqual };

export function valueEqual(a: unknown, b: unknown): boolean {
  if (a instanceof Uint8Array && b instanceof Uint8Array) return bytesEqual(a, b);
  return a === b;
}

/** Fields that describe where data sits in the file, not what the file says (FORMAT.md §8). */
const LAYOUT_FIELDS = new Set(['type', 'file_offset', 'data', 'context']);

/** Changed body fields of two headers of the same type; layout fields (file_offset) and payloads are left to the caller. */
export function fieldChanges(a: object, b: object, ignore: readonly string[] = []): FieldChange[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])];
  const out: FieldChange[] = [];
  for (const k of keys) {
    if (LAYOUT_FIELDS.has(k) || ignore.includes(k)) continue;
    if (!valueEqual(ra[k], rb[k])) out.push({ field: k, a: asValue(ra[k]), b: asValue(rb[k]) });
  }
  return out;
}

/** The body fields of a header, without layout fields and payloads (for added/removed headers). */
export function headerFields(h: object): Record<string, DiffValue> {
  const out: Record<string, DiffValue> = {};
  for (const [k, v] of Object.entries(h as Record<string, unknown>)) if (!LAYOUT_FIELDS.has(k)) out[k] = asValue(v);
  return out;
}

function asValue(v: unknown): DiffValue {
  if (v === undefined || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' || typeof v === 'boolean' || v instanceof Uint8Array) return v;
  return String(v);
}

/** How two payloads (page data, parameter area contents, CoRIM data) differ; undefined when they are equal. */
export interface DataDiff {
  /** Size in bytes; 0 for "no data" (file_offset 0: zeros). */
  size_a: number;
  size_b: number;
  /** First byte offset where the contents (zero-padded to the longer one) differ; undefined when only presence differs. */
  first_offset: number | undefined;
  /** Number of differing bytes (zero-padded comparison). */
  bytes_differ: number;
  /** The byte at `first_offset` in A and in B. */
  byte_a: number | undefined;
  byte_b: number | undefined;
}

/** Compares two payloads; `undefined` data means none (zeros). Undefined result: same presence and same bytes. */
export function dataDiff(a: Uint8Array | undefined, b: Uint8Array | undefined): DataDiff | undefined {
  const la = a?.length ?? 0;
  const lb = b?.length ?? 0;
  if (a !== undefined && b !== undefined && bytesEqual(a, b)) return undefined;
  const n = Math.max(la, lb);
  let first: number | undefined;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const x = i < la ? a![i]! : 0;
    const y = i < lb ? b![i]! : 0;
    if (x !== y) {
      if (first === undefined) first = i;
      count++;
    }
  }
  if (count === 0 && (a === undefined) === (b === undefined) && la === lb) return undefined;
  return {
    size_a: la, size_b: lb, first_offset: first, bytes_differ: count,
    byte_a: first === undefined ? undefined : first < la ? a![first] : 0,
    byte_b: first === undefined ? undefined : first < lb ? b![first] : 0,
  };
}

export const hex = (v: number | bigint): string => `0x${v.toString(16)}`;
