// Declarative fixed-size structure layouts (FORMAT.md Appendix A): each structure is declared once and read/written from it.
import { ByteReader, ByteWriter } from '../bytes.js';

export type FieldKind = 'u8' | 'u16' | 'u32' | 'u64' | 'bytes';

export interface FieldDef {
  readonly name: string;
  readonly kind: FieldKind;
  readonly offset: number;
  /** Byte length; implied for integers. */
  readonly size?: number;
}

type KindValue<K extends FieldKind> = K extends 'u64' ? bigint : K extends 'bytes' ? Uint8Array : number;

export type StructValue<F extends readonly FieldDef[]> = {
  -readonly [E in F[number] as E['name']]: KindValue<E['kind']>;
};

const INT_SIZE: Record<Exclude<FieldKind, 'bytes'>, number> = { u8: 1, u16: 2, u32: 4, u64: 8 };

export interface StructLayout<F extends readonly FieldDef[]> {
  readonly name: string;
  readonly size: number;
  readonly fields: F;
  /** Decode the structure at `offset` (byte arrays are views into the source, not copies). */
  read(reader: ByteReader, offset: number): StructValue<F>;
  /** Encode `value` at `offset`. */
  write(writer: ByteWriter, offset: number, value: StructValue<F>): void;
  /** Byte size of one field. */
  fieldSize(name: F[number]['name']): number;
}

export function fieldByteSize(f: FieldDef): number {
  return f.kind === 'bytes' ? (f.size ?? 0) : INT_SIZE[f.kind];
}

/** Declare a structure layout: name (as in the spec), total size, fields with offsets. */
export function defineStruct<const F extends readonly FieldDef[]>(name: string, size: number, fields: F): StructLayout<F> {
  for (const f of fields) {
    if (f.offset + fieldByteSize(f) > size) throw new Error(`${name}.${f.name} exceeds the structure size`);
  }
  const sizes = new Map(fields.map((f) => [f.name, fieldByteSize(f)]));
  return {
    name,
    size,
    fields,
    read(reader, offset) {
      const out: Record<string, number | bigint | Uint8Array> = {};
      for (const f of fields) {
        const at = offset + f.offset;
        switch (f.kind) {
          case 'u8': out[f.name] = reader.u8(at); break;
          case 'u16': out[f.name] = reader.u16(at); break;
          case 'u32': out[f.name] = reader.u32(at); break;
          case 'u64': out[f.name] = reader.u64(at); break;
          case 'bytes': out[f.name] = reader.slice(at, f.size ?? 0); break;
        }
      }
      return out as StructValue<F>;
    },
    write(writer, offset, value) {
      const v = value as Record<string, number | bigint | Uint8Array>;
      for (const f of fields) {
        const at = offset + f.offset;
        const x = v[f.name];
        switch (f.kind) {
          case 'u8': writer.u8(at, x as number); break;
          case 'u16': writer.u16(at, x as number); break;
          case 'u32': writer.u32(at, x as number); break;
          case 'u64': writer.u64(at, x as bigint); break;
          case 'bytes': {
            const b = x as Uint8Array;
            if (b.length > (f.size ?? 0)) throw new Error(`${name}.${f.name}: ${b.length} bytes do not fit in ${f.size}`);
            writer.put(at, b);
            break;
          }
        }
      }
    },
    fieldSize(n) {
      return sizes.get(n) ?? 0;
    },
  };
}

/** Field name → absolute offset helper, used to point problems at a field. */
export function fieldOffset(layout: StructLayout<readonly FieldDef[]>, name: string): number {
  const f = layout.fields.find((x) => x.name === name);
  return f ? f.offset : 0;
}
