// Decoder for the Python pickle subset of igvmgen's acpi.zip: a protocol-4 dict {int: bytearray | bytes} (IGVMGEN.md §10.1).
import { IgvmError } from '../errors.js';

/** The one callable the snapshot may name: `builtins.bytearray`. */
const BYTEARRAY = Symbol('builtins.bytearray');
const MARK = Symbol('mark');

type Value = number | string | Uint8Array | typeof BYTEARRAY | Value[] | Map<number, Uint8Array>;

const OPCODE_NAMES: Record<number, string> = {
  0x80: 'PROTO', 0x95: 'FRAME', 0x7d: 'EMPTY_DICT', 0x28: 'MARK', 0x4a: 'BININT', 0x4b: 'BININT1', 0x4d: 'BININT2',
  0x8a: 'LONG1', 0x8c: 'SHORT_BINUNICODE', 0x58: 'BINUNICODE', 0x8d: 'BINUNICODE8', 0x93: 'STACK_GLOBAL', 0x63: 'GLOBAL',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8e: 'BINBYTES8', 0x85: 'TUPLE1', 0x52: 'REDUCE', 0x94: 'MEMOIZE',
  0x71: 'BINPUT', 0x72: 'LONG_BINPUT', 0x68: 'BINGET', 0x6a: 'LONG_BINGET', 0x73: 'SETITEM', 0x75: 'SETITEMS', 0x2e: 'STOP',
};

function opcodeLabel(op: number): string {
  const name = OPCODE_NAMES[op];
  const printable = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : '';
  return name ?? `opcode 0x${op.toString(16).padStart(2, '0')}${printable}`;
}

function describe(v: Value): string {
  if (typeof v === 'number') return 'int';
  if (typeof v === 'string') return 'str';
  if (v instanceof Uint8Array) return 'bytes';
  if (v === BYTEARRAY) return 'builtins.bytearray';
  if (v instanceof Map) return 'dict';
  return 'tuple';
}

/**
 * Decodes a pickle whose result is a dict of int → bytes/bytearray, e.g. igvmgen's {gpa: page}.
 * Entries keep pickle insertion order; a repeated key keeps its first position and takes the last value (as Python).
 * Anything outside the subset (other opcodes, globals, key or value types) is an IgvmError naming the opcode and offset.
 */
export function decodePickleDict(data: Uint8Array, file?: string): Map<number, Uint8Array> {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: (Value | typeof MARK)[] = [];
  const memo = new Map<number, Value>();
  let pos = 0;
  let opPos = 0;
  let op = 0;
  const utf8 = new TextDecoder('utf-8', { fatal: true });

  const fail = (code: string, what: string): never => {
    throw new IgvmError(code, `pickle: ${opcodeLabel(op)} at offset ${opPos}: ${what}`, { offset: opPos, ...(file !== undefined ? { file } : {}) });
  };
  const need = (n: number | bigint): number => {
    const remaining = data.length - pos;
    if (BigInt(n) > BigInt(remaining)) fail('pickle-truncated', `needs ${n} bytes, ${remaining} left`);
    const start = pos;
    pos += Number(n);
    return start;
  };
  const u8 = (): number => data[need(1)]!;
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): bigint => view.getBigUint64(need(8), true);
  const bytes = (n: number | bigint): Uint8Array => {
    const start = need(n);
    return data.subarray(start, pos);
  };
  const text = (n: number | bigint): string => {
    try {
      return utf8.decode(bytes(n));
    } catch (e) {
      if (e instanceof IgvmError) throw e;
      return fail('pickle-bad-string', 'string is not valid UTF-8');
    }
  };
  const pop = (): Value => {
    const v = stack.pop();
    if (v === undefined) return fail('pickle-stack', 'stack is empty');
    if (v === MARK) return fail('pickle-stack', 'unexpected mark on the stack');
    return v;
  };
  const popMark = (): Value[] => {
    let i = stack.length - 1;
    while (i >= 0 && stack[i] !== MARK) i--;
    if (i < 0) fail('pickle-stack', 'no mark on the stack');
    const items = stack.splice(i) as Value[];
    items.shift();
    return items;
  };
  const top = (): Value => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) return fail('pickle-stack', 'stack is empty');
    return v;
  };
  const memoGet = (i: number): void => {
    const v = memo.get(i);
    if (v === undefined) fail('pickle-memo', `memo entry ${i} is not defined`);
    stack.push(v!);
  };
  const memoPut = (i: number): void => {
    memo.set(i, top());
  };
  const setItems = (items: Value[]): void => {
    const dict = top();
    if (!(dict instanceof Map)) return fail('pickle-type', `items set on a ${describe(dict)}, not a dict`);
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i]!;
      const value = items[i + 1]!;
      if (typeof key !== 'number') fail('pickle-type', `dict key is a ${describe(key)}, expected int`);
      if (!(value instanceof Uint8Array)) fail('pickle-type', `dict value is a ${describe(value)}, expected bytearray or bytes`);
      dict.set(key as number, value as Uint8Array);
    }
  };

  for (;;) {
    opPos = pos;
    if (pos >= data.length) {
      op = 0;
      throw new IgvmError('pickle-truncated', `pickle: data ends at offset ${pos} without STOP`, { offset: pos, ...(file !== undefined ? { file } : {}) });
    }
    op = data[pos++]!;
    switch (op) {
      case 0x80: { // PROTO
        const proto = u8();
        if (proto > 5) fail('pickle-protocol', `unsupported protocol ${proto}`);
        break;
      }
      case 0x95: { // FRAME: a length prefix only; framing does not change the opcode stream.
        const len = u64();
        if (len > BigInt(data.length - pos)) fail('pickle-truncated', `frame of ${len} bytes runs past the end`);
        break;
      }
      case 0x7d: stack.push(new Map<number, Uint8Array>()); break; // EMPTY_DICT
      case 0x28: stack.push(MARK); break; // MARK
      case 0x4a: stack.push(view.getInt32(need(4), true)); break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: stack.push(view.getUint16(need(2), true)); break; // BININT2
      case 0x8a: { // LONG1: little-endian two's complement
        const b = bytes(u8());
        let v = 0n;
        for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
        if (b.length > 0 && b[b.length - 1]! & 0x80) v -= 1n << BigInt(8 * b.length);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail('pickle-int', `integer ${v} is too large`);
        stack.push(Number(v));
        break;
      }
      case 0x8c: stack.push(text(u8())); break; // SHORT_BINUNICODE
      case 0x58: stack.push(text(u32())); break; // BINUNICODE
      case 0x8d: stack.push(text(u64())); break; // BINUNICODE8
      case 0x42: stack.push(bytes(u32())); break; // BINBYTES
      case 0x43: stack.push(bytes(u8())); break; // SHORT_BINBYTES
      case 0x8e: stack.push(bytes(u64())); break; // BINBYTES8
      case 0x93: // STACK_GLOBAL
      case 0x63: { // GLOBAL: "module\nname\n"
        let module: Value;
        let name: Value;
        if (op === 0x93) {
          name = pop();
          module = pop();
        } else {
          const line = (): string => {
            const end = data.indexOf(0x0a, pos);
            if (end < 0) return fail('pickle-truncated', 'GLOBAL line has no newline');
            return text(end - pos + 1).slice(0, -1);
          };
          module = line();
          name = line();
        }
        if (module !== 'builtins' || name !== 'bytearray') {
          fail('pickle-global', `global ${typeof module === 'string' ? module : describe(module)}.${typeof name === 'string' ? name : describe(name)} is not allowed (only builtins.bytearray)`);
        }
        stack.push(BYTEARRAY);
        break;
      }
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x52: { // REDUCE: only bytearray(bytes) or bytearray()
        const args = pop();
        const callable = pop();
        if (callable !== BYTEARRAY) fail('pickle-reduce', `cannot call a ${describe(callable)}`);
        if (!Array.isArray(args) || args.length > 1) return fail('pickle-reduce', 'bytearray() takes one bytes argument');
        const arg = args[0];
        if (arg !== undefined && !(arg instanceof Uint8Array)) return fail('pickle-reduce', `bytearray() of a ${describe(arg)}`);
        stack.push(arg === undefined ? new Uint8Array(0) : arg.slice());
        break;
      }
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x68: memoGet(u8()); break; // BINGET
      case 0x6a: memoGet(u32()); break; // LONG_BINGET
      case 0x73: { // SETITEM
        const value = pop();
        const key = pop();
        setItems([key, value]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        if (items.length % 2 !== 0) fail('pickle-stack', 'odd number of items for SETITEMS');
        setItems(items);
        break;
      }
      case 0x2e: { // STOP
        const result = pop();
        if (!(result instanceof Map)) return fail('pickle-type', `result is a ${describe(result)}, expected a dict`);
        return result;
      }
      default:
        fail('pickle-opcode', 'unsupported opcode');
    }
  }
}
