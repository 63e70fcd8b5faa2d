// igvmgen -acpi_dir: DSL tables compiled with iasl, placed, patched and packed into pages (IGVMGEN.md §10.2).
import type { AcpiImage } from '../acpi/image.js';
import { IgvmError } from '../errors.js';
import { ACPI_RSDP_GPA } from './acpi-zip.js';

/** One DSL source handed to the compiler: its file name in the folder and its text. */
export interface DslFile {
  name: string;
  text: string;
}

/**
 * Compiles DSL sources, in the order given, with `iasl -f` semantics (errors ignored, output forced).
 * Returns DSL file name → AML bytes, or undefined when the compiler produced no AML for that file.
 */
export type AmlCompiler = (files: DslFile[]) => Map<string, Uint8Array | undefined>;

/** Table names igvmgen accepts (signature, spaces → '_'); anything else was an AssertionError. */
export const ACPI_DSL_TABLES = ['XSDT', 'RSD_', 'DSDT', 'FACS', 'FACP', 'OEM0', 'APIC', 'TPM2', 'TCPA', 'MCFG'] as const;
/** Tables listed in the XSDT (in sorted name order). */
export const XSDT_ENTRY_TABLES = ['FACP', 'OEM0', 'APIC', 'TPM2', 'TCPA', 'MCFG'] as const;
/** Default XSDT address when no RSDP sets a non-zero XsdtAddress. */
export const DEFAULT_XSDT_GPA = 0x100000;

const PAGE = 0x1000;
const HEADER_SIZE = 36;

interface Table {
  name: string;
  file: string;
  aml: Uint8Array;
  /** Header Length of the AML as first compiled (the "unpatched" length used for placement). */
  length: number;
  addr: number;
}

/** Table name from AML: the first 4 bytes with spaces replaced by '_' (the RSDP's "RSD PTR " gives "RSD_"). */
export function acpiTableName(aml: Uint8Array): string {
  return String.fromCharCode(...aml.subarray(0, 4)).replace(/ /g, '_');
}

/** Python text-mode reading: "\r\n" and lone "\r" become "\n". */
function universalNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/** Replaces every occurrence, with no replacement-pattern interpretation (Python str.replace). */
function replaceAllText(text: string, old: string, replacement: string): string {
  return text.split(old).join(replacement);
}

/**
 * The FACP DSL patch of step 4: every `DSDT Address : 0` and `FACS Address : 0` (32- and 64-bit fields alike)
 * gets the table's address as lower-case `0x<hex>`; like every patched table, a newline is then appended.
 */
export function patchFacpText(text: string, dsdt: number, facs: number): string {
  let out = universalNewlines(text);
  out = replaceAllText(out, 'DSDT Address : 0', `DSDT Address : 0x${dsdt.toString(16)}`);
  out = replaceAllText(out, 'FACS Address : 0', `FACS Address : 0x${facs.toString(16)}`);
  return out + '\n';
}

/** XSDT entry lines of step 5: `[{off:x}h {off}  8]\tACPI Table Address {i} : {addr:x}`, off = 36, 44, … */
export function xsdtEntryLines(addresses: readonly number[]): string[] {
  return addresses.map((addr, i) => {
    const off = HEADER_SIZE + 8 * i;
    return `[${off.toString(16)}h ${off}  8]\tACPI Table Address ${i} : ${addr.toString(16)}`;
  });
}

/** The XSDT DSL patch of step 5: the entry lines appended after one newline, joined by newlines. */
export function patchXsdtText(text: string, addresses: readonly number[]): string {
  return universalNewlines(text) + '\n' + xsdtEntryLines(addresses).join('\n');
}

/**
 * Step 7: packs tables (address → bytes) into pages. Tables are taken by ascending address; a table's bytes go to
 * the page containing (table address + bytes already consumed), appended to what that page holds (the offset
 * inside the page is not used). Only the last page touched is zero-padded to 4096 bytes; a table ending exactly on
 * a page boundary leaves an empty entry for the next page (an extra zero page when it is the last table).
 */
export function packAcpiPages(tables: ReadonlyMap<number, Uint8Array>, source = 'acpi'): Map<number, Uint8Array> {
  const addrs = [...tables.keys()].sort((a, b) => a - b);
  const first = addrs[0];
  if (first === undefined) throw new IgvmError('acpi-layout', `no ACPI tables to place`, { file: source });
  if (first % PAGE !== 0) throw new IgvmError('acpi-layout', `the lowest ACPI table address 0x${first.toString(16)} is not page-aligned`, { file: source });
  const bufs = new Map<number, { buf: Uint8Array; len: number }>();
  const pageAt = (gpa: number): { buf: Uint8Array; len: number } => {
    let p = bufs.get(gpa);
    if (!p) bufs.set(gpa, (p = { buf: new Uint8Array(PAGE), len: 0 }));
    return p;
  };
  let gpa = first;
  pageAt(gpa);
  let offset = 0;
  for (let i = 0; i < addrs.length; ) {
    const addr = addrs[i]!;
    const data = tables.get(addr)!;
    gpa = Math.floor((addr + offset) / PAGE) * PAGE;
    const page = pageAt(gpa);
    const remain = PAGE - page.len;
    // The original loops forever here (a full page gets a table again: overlapping tables); stop instead.
    if (remain === 0) throw new IgvmError('acpi-layout', `ACPI table at 0x${addr.toString(16)} falls into page 0x${gpa.toString(16)}, which earlier tables already filled`, { file: source });
    const chunk = data.subarray(offset, offset + remain);
    page.buf.set(chunk, page.len);
    page.len += chunk.length;
    if (page.len === PAGE) offset += remain;
    else {
      offset = 0;
      i++;
    }
  }
  pageAt(gpa).len = PAGE;
  const pages = new Map<number, Uint8Array>();
  for (const g of [...bufs.keys()].sort((a, b) => a - b)) {
    const p = bufs.get(g)!;
    pages.set(g, p.buf.subarray(0, p.len));
  }
  return pages;
}

/**
 * Reproduces igvmgen's `-acpi_dir` processing (§10.2 steps 1–8) without I/O.
 * `listing`: the folder's entry names in listing order (entries not ending in `.dsl` are ignored);
 * `texts`: DSL file name → text (each char one byte, e.g. latin1-decoded, keeps any encoding intact);
 * `compile`: runs iasl (called once with every DSL in listing order, then once with the patched FACP and XSDT);
 * `source`: the folder, for messages.
 */
export function buildAcpiFromDsl(listing: readonly string[], texts: ReadonlyMap<string, string>, compile: AmlCompiler, source = 'acpi_dir'): AcpiImage {
  const where = (name: string): { file: string } => ({ file: `${source}/${name}` });
  const files: DslFile[] = [];
  for (const name of listing) {
    if (!name.endsWith('.dsl')) continue;
    const text = texts.get(name);
    if (text === undefined) throw new IgvmError('acpi-dsl-missing', `no DSL text given for this listed file`, where(name));
    files.push({ name, text });
  }
  if (files.length === 0) throw new IgvmError('acpi-no-dsl', `no .dsl files in the ACPI folder`, { file: source });

  // Steps 1–2: compile in listing order, name and place the top-level tables, check the others' lengths.
  const amls = compile(files);
  let xsdtAddr = DEFAULT_XSDT_GPA;
  const tables = new Map<string, Table>();
  for (const { name: file } of files) {
    const aml = amls.get(file);
    if (aml === undefined) throw new IgvmError('acpi-no-aml', `iasl produced no AML`, where(file));
    if (aml.length < HEADER_SIZE) throw new IgvmError('acpi-short-aml', `AML is ${aml.length} bytes, shorter than a 36-byte ACPI table header`, where(file));
    const view = new DataView(aml.buffer, aml.byteOffset, aml.byteLength);
    const name = acpiTableName(aml);
    const length = view.getUint32(4, true);
    if (!(ACPI_DSL_TABLES as readonly string[]).includes(name)) {
      throw new IgvmError('acpi-unknown-table', `ACPI table signature ${JSON.stringify(String.fromCharCode(...aml.subarray(0, 4)))} is not one igvmgen accepts (${ACPI_DSL_TABLES.join(', ')})`, where(file));
    }
    let addr = 0;
    if (name === 'RSD_') {
      const xsdt = view.getBigUint64(24, true);
      if (xsdt > BigInt(Number.MAX_SAFE_INTEGER) - 0x100000n) throw new IgvmError('acpi-xsdt-address', `RSDP XsdtAddress 0x${xsdt.toString(16)} is too large`, where(file));
      // A zero XsdtAddress keeps the current one; the patched RSDP copy the original builds is discarded.
      if (xsdt !== 0n) xsdtAddr = Number(xsdt);
      addr = ACPI_RSDP_GPA;
    } else if (name === 'XSDT') {
      addr = xsdtAddr; // an RSDP listed later does not move it
    } else if (length !== aml.length) {
      throw new IgvmError('acpi-length-mismatch', `${name} header Length is ${length} but iasl produced ${aml.length} bytes`, where(file));
    }
    // A second file with the same signature replaces the first (dict semantics).
    tables.set(name, { name, file, aml, length, addr });
  }

  // Step 3: sub-tables in sorted name order, contiguous from XSDT + 0x1000 with unpatched lengths, no alignment.
  const names = [...tables.keys()].sort();
  let next = xsdtAddr + 0x1000;
  for (const name of names) {
    if (name === 'XSDT' || name === 'RSD_') continue;
    const t = tables.get(name)!;
    t.addr = next;
    next += t.length;
  }

  // Steps 4–5: text patches of the FACP and XSDT sources.
  const missing = ['DSDT', 'FACP', 'FACS'].filter((n) => !tables.has(n));
  if (missing.length) throw new IgvmError('acpi-missing-table', `igvmgen needs FACP, DSDT and FACS tables; missing ${missing.join(', ')}`, { file: source });
  const facp = tables.get('FACP')!;
  const xsdt = tables.get('XSDT');
  if (!xsdt) throw new IgvmError('acpi-missing-table', `igvmgen needs an XSDT table; none of the .dsl files compiles to one`, { file: source });
  const entries = names.filter((n) => (XSDT_ENTRY_TABLES as readonly string[]).includes(n)).map((n) => tables.get(n)!.addr);
  const patched: DslFile[] = [
    { name: facp.file, text: patchFacpText(texts.get(facp.file)!, tables.get('DSDT')!.addr, tables.get('FACS')!.addr) },
    { name: xsdt.file, text: patchXsdtText(texts.get(xsdt.file)!, entries) },
  ];

  // Step 6: recompile the patched tables; their new AML replaces the old (no length check).
  const recompiled = compile(patched);
  for (const t of [facp, xsdt]) {
    const aml = recompiled.get(t.file);
    if (aml === undefined) throw new IgvmError('acpi-no-aml', `iasl produced no AML for the patched ${t.name} table`, where(t.file));
    t.aml = aml;
  }

  // Step 7: address → bytes in sorted name order (a later table at the same address replaces an earlier one).
  const placed = new Map<number, Uint8Array>();
  const owner = new Map<number, string>();
  for (const name of names) {
    const t = tables.get(name)!;
    placed.set(t.addr, t.aml);
    owner.set(t.addr, name === 'RSD_' ? 'RSDP' : name);
  }
  const pages = packAcpiPages(placed, source);

  // Step 8: the region ends one page after the highest page.
  const acpiEnd = Math.max(...pages.keys()) + PAGE;
  const byName = new Map([...owner].sort((a, b) => a[0] - b[0]).map(([addr, name]) => [name, addr] as const));
  return { pages, acpiEnd, rsdp: ACPI_RSDP_GPA, source, tables: byName };
}
