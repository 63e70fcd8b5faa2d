// JSON rendering of library results: bigint as hex strings, byte arrays as hex.
//
// toJson() is what `--json` prints: 2-space indented, keys in insertion order, trailing newline.
//   bigint       -> "0x1f" ("-0x1f" when negative)
//   Uint8Array   -> "deadbeef" (lowercase hex; Node Buffers too)
//   other typed arrays -> arrays of numbers (BigInt64Array elements as hex strings)
//   Map          -> object (bigint keys as hex), Set -> array
//   undefined    -> omitted from objects (null inside arrays, as JSON.stringify does)

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Lowercase hex of the bytes, no separators. */
export function bytesToHex(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += HEX[bytes[i] as number];
  return s;
}

/** "0x…" for a bigint, "-0x…" when negative. */
export function bigintToHex(value: bigint): string {
  return value < 0n ? `-0x${(-value).toString(16)}` : `0x${value.toString(16)}`;
}

function mapKey(key: unknown): string {
  return typeof key === 'bigint' ? bigintToHex(key) : String(key);
}

// Uses the holder's original value (`this[key]`), since JSON.stringify has already applied toJSON
// (a Buffer would otherwise arrive as { type: 'Buffer', data: [...] }).
function replacer(this: unknown, key: string, value: unknown): unknown {
  const original = (this as Record<string, unknown>)[key];
  if (typeof original === 'bigint') return bigintToHex(original);
  if (typeof original !== 'object' || original === null) return value;
  if (original instanceof Uint8Array) return bytesToHex(original);
  if (ArrayBuffer.isView(original) && !(original instanceof DataView)) {
    return Array.from(original as unknown as ArrayLike<number | bigint>);
  }
  if (original instanceof Map) {
    const obj: Record<string, unknown> = {};
    for (const [k, v] of original) Object.defineProperty(obj, mapKey(k), { value: v, enumerable: true, writable: true, configurable: true });
    return obj;
  }
  if (original instanceof Set) return [...original];
  return value;
}

/** Pretty JSON (2-space indent) of a library result, with a trailing newline. */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, replacer, 2) ?? 'null'}\n`;
}
