// igvmgen's built-in ACPI snapshot acpi.zip: base64 text → zlib → pickle {gpa: page} → AcpiImage (IGVMGEN.md §10.1).
import type { AcpiImage } from '../acpi/image.js';
import { IgvmError } from '../errors.js';
import { inflateZlib } from './inflate.js';
import { decodePickleDict } from './pickle.js';

/** GPA of the RSDP in igvmgen's layouts. */
export const ACPI_RSDP_GPA = 0xe0000;
/** End of the built-in ACPI region: fixed, not derived from the pages (§10.1). */
export const ACPI_ZIP_END = 0x200000;

const PAGE = 0x1000;
const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let i = 0; i < B64.length; i++) t[B64.charCodeAt(i)] = i;
  return t;
})();

/**
 * Base64 as Python's base64.b64decode without validate (binascii.a2b_base64): characters outside the alphabet are
 * skipped; '=' ends the data only where it completes a quad (elsewhere it is skipped); leftover characters at the end
 * are an error ("Incorrect padding").
 */
export function decodeBase64Text(bytes: Uint8Array, file?: string): Uint8Array {
  const out = new Uint8Array(Math.floor((bytes.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let count = 0;
  let pads = 0;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (c === 0x3d) {
      // '='
      if (count >= 2 && count + ++pads >= 4) {
        if (count === 2) out[n++] = (acc >> 4) & 0xff;
        else {
          out[n++] = (acc >> 10) & 0xff;
          out[n++] = (acc >> 2) & 0xff;
        }
        return out.slice(0, n);
      }
      continue;
    }
    const v = B64_VALUE[c]!;
    if (v < 0) continue;
    pads = 0;
    acc = (acc << 6) | v;
    if (++count === 4) {
      out[n++] = (acc >> 16) & 0xff;
      out[n++] = (acc >> 8) & 0xff;
      out[n++] = acc & 0xff;
      acc = 0;
      count = 0;
    }
  }
  if (count !== 0) {
    throw new IgvmError('acpi-zip-base64', `base64 text has incorrect padding (${count} character${count === 1 ? '' : 's'} left over at the end)`, file !== undefined ? { file } : {});
  }
  return out.slice(0, n);
}

/** Reads `size` bytes at `gpa` from a page map, or undefined when a page is missing or short. */
function readGpa(pages: ReadonlyMap<number, Uint8Array>, gpa: number, size: number): Uint8Array | undefined {
  const out = new Uint8Array(size);
  for (let done = 0; done < size; ) {
    const at = gpa + done;
    const page = pages.get(at - (at % PAGE));
    const inPage = at % PAGE;
    const take = Math.min(size - done, PAGE - inPage);
    if (!page || page.length < inPage + take) return undefined;
    out.set(page.subarray(inPage, inPage + take), done);
    done += take;
  }
  return out;
}

const ascii = (b: Uint8Array): string => String.fromCharCode(...b);
const u32 = (b: Uint8Array, o: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(o, true);
const u64 = (b: Uint8Array, o: number): number => Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(o, true));

/**
 * Signature → GPA of the tables reachable from the RSDP (RSDP → XSDT/RSDT → entries; FACP → FACS, DSDT).
 * Informational only: anything unreadable is left out rather than reported.
 */
export function findAcpiTables(pages: ReadonlyMap<number, Uint8Array>, rsdpGpa = ACPI_RSDP_GPA): Map<string, number> {
  const tables = new Map<string, number>();
  const rsdp = readGpa(pages, rsdpGpa, 36) ?? readGpa(pages, rsdpGpa, 20);
  if (!rsdp || ascii(rsdp.subarray(0, 8)) !== 'RSD PTR ') return tables;
  tables.set('RSDP', rsdpGpa);
  const header = (gpa: number): { sig: string; length: number } | undefined => {
    const h = gpa > 0 ? readGpa(pages, gpa, 36) : undefined;
    return h ? { sig: ascii(h.subarray(0, 4)), length: u32(h, 4) } : undefined;
  };
  const add = (gpa: number): void => {
    const h = header(gpa);
    if (!h || tables.has(h.sig)) return;
    tables.set(h.sig, gpa);
    if (h.sig !== 'FACP') return;
    const facp = readGpa(pages, gpa, Math.min(h.length, 0x1000));
    if (!facp) return;
    // X_FIRMWARE_CTRL / X_DSDT (ACPI 2.0+, offsets 132/140) win over FIRMWARE_CTRL / DSDT (36/40) when set.
    const facs = facp.length >= 140 && u64(facp, 132) ? u64(facp, 132) : facp.length >= 40 ? u32(facp, 36) : 0;
    const dsdt = facp.length >= 148 && u64(facp, 140) ? u64(facp, 140) : facp.length >= 44 ? u32(facp, 40) : 0;
    for (const sub of [facs, dsdt]) {
      const s = sub > 0 ? readGpa(pages, sub, 4) : undefined;
      if (s && !tables.has(ascii(s))) tables.set(ascii(s), sub);
    }
  };
  const xsdt = rsdp.length >= 36 && rsdp[15]! >= 2 ? u64(rsdp, 24) : 0;
  const root = xsdt || u32(rsdp, 16);
  const entry = xsdt ? 8 : 4;
  const rh = header(root);
  if (!rh) return tables;
  tables.set(rh.sig, root);
  const body = readGpa(pages, root, Math.min(rh.length, 0x1000));
  if (!body) return tables;
  for (let o = 36; o + entry <= body.length; o += entry) add(entry === 8 ? u64(body, o) : u32(body, o));
  return tables;
}

/** Decodes igvmgen's acpi.zip (base64 of zlib of a pickle {gpa: 4096-byte page}) into the built-in ACPI image. */
export function decodeAcpiZip(bytes: Uint8Array, file?: string): AcpiImage {
  const detail = file !== undefined ? { file } : {};
  const zlibData = decodeBase64Text(bytes, file);
  const pickled = inflateZlib(zlibData, detail);
  const dict = decodePickleDict(pickled, file);
  const pages = new Map<number, Uint8Array>();
  for (const gpa of [...dict.keys()].sort((a, b) => a - b)) {
    const page = dict.get(gpa)!;
    const where = `0x${gpa.toString(16)}`;
    if (gpa < 0 || gpa % PAGE !== 0) throw new IgvmError('acpi-zip-page', `page GPA ${gpa < 0 ? gpa : where} is not 4 KiB aligned`, { ...detail, path: `pages[${where}]` });
    if (page.length !== PAGE) throw new IgvmError('acpi-zip-page', `page at ${where} has ${page.length} bytes, expected 4096`, { ...detail, path: `pages[${where}]` });
    // The original asserts every page lies in [RSDP, 0x200000) and the RSDP page is present.
    if (gpa < ACPI_RSDP_GPA || gpa >= ACPI_ZIP_END) {
      throw new IgvmError('acpi-zip-page', `page at ${where} is outside [0xe0000, 0x200000)`, { ...detail, path: `pages[${where}]` });
    }
    pages.set(gpa, page);
  }
  if (!pages.has(ACPI_RSDP_GPA)) throw new IgvmError('acpi-zip-rsdp', 'no page at the RSDP address 0xe0000', detail);
  return { pages, acpiEnd: ACPI_ZIP_END, rsdp: ACPI_RSDP_GPA, source: file ?? 'acpi.zip', tables: findAcpiTables(pages) };
}
