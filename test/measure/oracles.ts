// Independent node:crypto re-implementations of the TDX MRTD (MEASUREMENT.md §5) and VBS boot digest (§6), written from
// the spec text for the tests; they share nothing with src/measure.
import { createHash } from 'node:crypto';

export interface TdxPage { gpa: bigint; measured: boolean; data?: Uint8Array }

/** One SHA-384 over 128-byte MEM.PAGE.ADD and, for measured pages, 16 × 384-byte MR.EXTEND records. */
export function tdxOracle(pages: readonly TdxPage[]): { digest: string; records: number } {
  const h = createHash('sha384');
  let records = 0;
  for (const p of pages) {
    const add = Buffer.alloc(128);
    add.write('MEM.PAGE.ADD', 0, 'latin1');
    add.writeBigUInt64LE(p.gpa, 16);
    h.update(add);
    records++;
    if (!p.measured) continue;
    const full = Buffer.alloc(4096);
    if (p.data) Buffer.from(p.data.subarray(0, 4096)).copy(full);
    for (let k = 0; k < 16; k++) {
      const ext = Buffer.alloc(384);
      ext.write('MR.EXTEND', 0, 'latin1');
      ext.writeBigUInt64LE(p.gpa + BigInt(k * 256), 16);
      full.copy(ext, 128, k * 256, (k + 1) * 256);
      h.update(ext);
      records++;
    }
  }
  return { digest: h.digest('hex'), records };
}

export type VbsRec =
  | { kind: 'page'; gpa: bigint; acceptance: number; unmeasured: boolean; data?: Uint8Array }
  | { kind: 'reg'; vtl: number; name: number; value: Uint8Array };

/** d = SHA-256(d ‖ record) from 32 zero bytes; 4128-byte page records, 48-byte register records. */
export function vbsOracle(recs: readonly VbsRec[]): string {
  let d: Buffer = Buffer.alloc(32);
  for (const r of recs) {
    let rec: Buffer;
    if (r.kind === 'page') {
      rec = Buffer.alloc(4128);
      rec.writeUInt32LE(4128, 0);
      rec.writeUInt32LE(2, 4);
      rec.writeBigUInt64LE(BigInt(r.acceptance | (r.unmeasured ? 4 : 0)), 16);
      rec.writeBigUInt64LE(r.gpa / 4096n, 24);
      if (r.data && !r.unmeasured) Buffer.from(r.data.subarray(0, 4096)).copy(rec, 32);
    } else {
      rec = Buffer.alloc(48);
      rec.writeUInt32LE(48, 0);
      rec.writeUInt32LE(0, 4);
      rec.writeUInt8(r.vtl, 20);
      rec.writeUInt32LE(r.name, 28);
      Buffer.from(r.value).copy(rec, 32);
    }
    d = createHash('sha256').update(d).update(rec).digest();
  }
  return d.toString('hex');
}
