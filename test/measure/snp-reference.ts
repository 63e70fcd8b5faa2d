// An independent SEV-SNP launch-digest computation for tests: raw TLV walk + node:crypto, per MEASUREMENT.md §1.4.
import { createHash } from 'node:crypto';
import { walkRecords } from '../raw-igvm.js';

const sha384 = (b: Uint8Array): Buffer => createHash('sha384').update(b).digest();

/** The microsoft/igvm crate's SNP digest of `bytes` for platform mask `mask`, computed without igvmkit's parser. */
export function referenceSnpDigest(bytes: Uint8Array, mask = 1): string {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let ld: Buffer = Buffer.alloc(48);
  const step = (gpa: bigint, type: number, contents: Uint8Array | undefined): void => {
    const info = Buffer.alloc(0x70);
    ld.copy(info, 0);
    if (contents) Buffer.from(contents).copy(info, 0x30);
    info.writeUInt16LE(0x70, 0x60);
    info[0x62] = type;
    info.writeBigUInt64LE(gpa, 0x68);
    ld = sha384(info);
  };
  const page = (fileOffset: number): Uint8Array => {
    const p = new Uint8Array(4096);
    if (fileOffset !== 0) p.set(bytes.subarray(fileOffset, fileOffset + 4096));
    return p;
  };
  const areas = new Map<number, bigint>();
  for (const r of walkRecords(bytes)) {
    const b = r.body;
    const applies = (m: number): boolean => (m & mask) === mask;
    if (r.type === 0x302) {
      const gpa = dv.getBigUint64(b, true);
      if (!applies(dv.getUint32(b + 8, true))) continue;
      const fo = dv.getUint32(b + 12, true);
      const flags = dv.getUint32(b + 16, true);
      const dataType = dv.getUint16(b + 20, true);
      if (flags & 4) continue; // shared
      if (dataType === 1) step(gpa, 5, undefined);
      else if (dataType === 2 || dataType === 3) step(gpa, 6, undefined);
      else if (flags & 2) step(gpa, 4, undefined);
      else step(gpa, 1, sha384(page(fo)));
    } else if (r.type === 0x301) {
      areas.set(dv.getUint32(b + 8, true), dv.getBigUint64(b, true));
    } else if (r.type === 0x303) {
      if (!applies(dv.getUint32(b + 8, true))) continue;
      const gpa = dv.getBigUint64(b, true);
      const size = areas.get(dv.getUint32(b + 12, true)) ?? 0n;
      for (let off = 0n; off < size; off += 4096n) step(gpa + off, 4, undefined);
    } else if (r.type === 0x304) {
      if (!applies(dv.getUint32(b + 8, true))) continue;
      step(dv.getBigUint64(b, true), 2, sha384(page(dv.getUint32(b + 12, true))));
    }
  }
  return ld.toString('hex');
}
