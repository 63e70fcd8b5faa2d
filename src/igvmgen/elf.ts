// ELF32/ELF64 parsing (System V gABI, little-endian) and the flat image GNU binutils 2.40 `objcopy -O binary` makes (IGVMGEN.md §5 step 7, §3.3).
import { ByteReader, hex } from '../bytes.js';
import { IgvmError } from '../errors.js';

export interface ElfSection { index: number; name: string; type: number; flags: bigint; addr: bigint; offset: number; size: bigint; }
export interface ElfSegment { type: number; flags: number; offset: number; vaddr: bigint; paddr: bigint; filesz: bigint; memsz: bigint; }
export interface ElfSymbol { name: string; value: bigint; size: bigint; type: number; bind: number; shndx: number; }
export interface ElfFile { elfClass: 32 | 64; machine: number; type: number; entry: bigint; sections: ElfSection[]; segments: ElfSegment[]; }

// Section types (sh_type).
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_SYMTAB_SHNDX = 18;
// Section flags (sh_flags).
export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;
export const SHF_TLS = 0x400n;
// Segment types (p_type).
export const PT_LOAD = 1;
export const PT_TLS = 7;
// File types (e_type) and machines (e_machine).
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;
export const EM_386 = 3;
export const EM_X86_64 = 62;
// Symbol types/bindings (st_info) and special section indexes.
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const SHN_UNDEF = 0;
export const SHN_ABS = 0xfff1;
export const SHN_XINDEX = 0xffff;

/** Largest image objcopyBinary will build (low LMA to high end). */
export const MAX_IMAGE_SIZE = 0x40000000n;

/** The header fields elfSymbols and objcopyBinary need beyond the public ElfSection. */
interface RawSection { link: number; info: number; entsize: bigint; }
interface RawInfo { sections: RawSection[]; shstrndx: number; }
const rawInfo = new WeakMap<ElfFile, RawInfo>();

const utf8 = new TextDecoder('utf-8');
const U64 = (v: bigint): bigint => BigInt.asUintN(64, v);

function fail(code: string, message: string, file: string | undefined, offset?: number, path?: string): never {
  const details: { offset?: number; path?: string; file?: string } = {};
  if (offset !== undefined) details.offset = offset;
  if (path !== undefined) details.path = path;
  if (file !== undefined) details.file = file;
  throw new IgvmError(code, message, details);
}

/** Parses the ELF header, program headers and section headers (with names). Does not read section contents. */
export function parseElf(bytes: Uint8Array, file?: string): ElfFile {
  return parseFull(bytes, file).elf;
}

function parseFull(bytes: Uint8Array, file: string | undefined): { elf: ElfFile; raw: RawInfo } {
  const r = new ByteReader(bytes);
  const len = bytes.length;
  if (!r.has(0, 4) || r.u32(0) !== 0x464c457f) {
    fail('elf-bad-magic', 'not an ELF file: expected magic 7f 45 4c 46 at offset 0', file, 0, 'e_ident');
  }
  if (!r.has(0, 16)) fail('elf-truncated', `ELF identification truncated: need 16 bytes, file has ${len}`, file, 0, 'e_ident');
  const cls = r.u8(4);
  if (cls !== 1 && cls !== 2) fail('elf-bad-class', `unsupported ELF class ${cls} at offset 4: expected 1 (ELF32) or 2 (ELF64)`, file, 4, 'e_ident[EI_CLASS]');
  const data = r.u8(5);
  if (data !== 1) {
    const what = data === 2 ? 'big-endian ELF files are not supported (x86 only)' : `unknown data encoding ${data}`;
    fail('elf-bad-encoding', `${what}: expected 1 (little-endian) at offset 5`, file, 5, 'e_ident[EI_DATA]');
  }
  const is64 = cls === 2;
  const ehsize = is64 ? 64 : 52;
  if (!r.has(0, ehsize)) fail('elf-truncated', `ELF header truncated: ELF${is64 ? 64 : 32} header is ${ehsize} bytes, file has ${len}`, file, 0, 'e_ehdr');
  const word = (o: number): bigint => (is64 ? r.u64(o) : BigInt(r.u32(o)));
  const A = is64 ? 8 : 4;
  const type = r.u16(16);
  const machine = r.u16(18);
  const entry = word(24);
  const phoffRaw = word(24 + A);
  const shoffRaw = word(24 + 2 * A);
  const h = 24 + 3 * A + 4; // e_ehsize
  const phentsize = r.u16(h + 2);
  let phnum = r.u16(h + 4);
  const shentsize = r.u16(h + 6);
  let shnum = r.u16(h + 8);
  let shstrndx = r.u16(h + 10);

  // An offset/size field as a number that must describe a range inside the file.
  const inFile = (v: bigint, size: bigint, code: string, what: string, at: number, path: string): number => {
    if (v + size > BigInt(len)) fail(code, `${what}: range ${hex(v)}+${hex(size)} runs past the end of the file (${len} bytes)`, file, at, path);
    return Number(v);
  };
  const shdrSize = is64 ? 64 : 40;
  const phdrSize = is64 ? 56 : 32;

  // Section header table (with the gABI extended numbering stored in section 0).
  let shoff = 0;
  if (shoffRaw !== 0n) {
    if (shentsize < shdrSize) fail('elf-bad-header', `e_shentsize ${shentsize}: expected at least ${shdrSize}`, file, h + 6, 'e_shentsize');
    shoff = inFile(shoffRaw, BigInt(shentsize), 'elf-truncated', 'section header table (e_shoff)', 24 + 2 * A, 'e_shoff');
    if (shnum === 0) {
      const n = is64 ? r.u64(shoff + 32) : BigInt(r.u32(shoff + 20));
      shnum = n > BigInt(len) ? len + 1 : Number(n); // too big is caught by the bounds check below
    }
    if (shstrndx === SHN_XINDEX) shstrndx = r.u32(shoff + (is64 ? 40 : 24));
    if (phnum === 0xffff) phnum = r.u32(shoff + (is64 ? 44 : 28));
    inFile(shoffRaw, BigInt(shnum) * BigInt(shentsize), 'elf-truncated', `section header table (${shnum} entries of ${shentsize} bytes at e_shoff)`, 24 + 2 * A, 'e_shoff');
  } else {
    shnum = 0;
  }

  // Program headers.
  const segments: ElfSegment[] = [];
  if (phnum > 0) {
    if (phentsize < phdrSize) fail('elf-bad-header', `e_phentsize ${phentsize}: expected at least ${phdrSize}`, file, h + 2, 'e_phentsize');
    const phoff = inFile(phoffRaw, BigInt(phnum) * BigInt(phentsize), 'elf-truncated', `program header table (${phnum} entries of ${phentsize} bytes at e_phoff)`, 24 + A, 'e_phoff');
    for (let i = 0; i < phnum; i++) {
      const b = phoff + i * phentsize;
      const pOffset = word(b + (is64 ? 8 : 4));
      if (pOffset > BigInt(Number.MAX_SAFE_INTEGER)) fail('elf-bad-segment', `program header ${i}: p_offset ${hex(pOffset)} is not a usable file offset`, file, b, `phdr[${i}].p_offset`);
      segments.push(is64
        ? { type: r.u32(b), flags: r.u32(b + 4), offset: Number(pOffset), vaddr: r.u64(b + 16), paddr: r.u64(b + 24), filesz: r.u64(b + 32), memsz: r.u64(b + 40) }
        : { type: r.u32(b), flags: r.u32(b + 24), offset: Number(pOffset), vaddr: BigInt(r.u32(b + 8)), paddr: BigInt(r.u32(b + 12)), filesz: BigInt(r.u32(b + 16)), memsz: BigInt(r.u32(b + 20)) });
    }
  }

  // Section headers, then names from the section-name string table.
  const sections: ElfSection[] = [];
  const raws: RawSection[] = [];
  const nameOffsets: number[] = [];
  for (let i = 0; i < shnum; i++) {
    const b = shoff + i * shentsize;
    const sType = r.u32(b + 4);
    const offRaw = word(b + (is64 ? 24 : 16));
    const size = word(b + (is64 ? 32 : 20));
    const path = `shdr[${i}]`;
    let offset: number;
    if (sType === SHT_NOBITS || sType === SHT_NULL || size === 0n) {
      // No file contents: the offset is informational only.
      if (offRaw > BigInt(Number.MAX_SAFE_INTEGER)) fail('elf-bad-section', `section ${i}: sh_offset ${hex(offRaw)} is not a usable file offset`, file, b, `${path}.sh_offset`);
      offset = Number(offRaw);
    } else {
      offset = inFile(offRaw, size, 'elf-bad-section', `section ${i} contents (sh_offset, sh_size)`, b, `${path}.sh_offset`);
    }
    nameOffsets.push(r.u32(b));
    sections.push({ index: i, name: '', type: sType, flags: word(b + 8), addr: word(b + (is64 ? 16 : 12)), offset, size });
    raws.push({ link: r.u32(b + (is64 ? 40 : 24)), info: r.u32(b + (is64 ? 44 : 28)), entsize: word(b + (is64 ? 56 : 36)) });
  }
  if (shnum > 0 && shstrndx !== SHN_UNDEF) {
    const strtab = sections[shstrndx];
    if (strtab === undefined) fail('elf-bad-strtab', `section name string table index e_shstrndx ${shstrndx} out of range: the file has ${shnum} sections`, file, h + 10, 'e_shstrndx');
    if (strtab.type !== SHT_STRTAB) fail('elf-bad-strtab', `section name string table (section ${shstrndx}) has type ${strtab.type}: expected SHT_STRTAB (3)`, file, h + 10, 'e_shstrndx');
    for (const s of sections) s.name = readString(r, strtab, nameOffsets[s.index] ?? 0, file, `shdr[${s.index}].sh_name`);
  }
  const elf: ElfFile = { elfClass: is64 ? 64 : 32, machine, type, entry, sections, segments };
  const raw: RawInfo = { sections: raws, shstrndx };
  rawInfo.set(elf, raw);
  return { elf, raw };
}

/** The NUL-terminated string at `at` inside string table section `strtab`. */
function readString(r: ByteReader, strtab: ElfSection, at: number, file: string | undefined, path: string): string {
  const size = Number(strtab.size); // contents were bounds-checked, so size fits
  if (at === 0 && size === 0) return '';
  if (at >= size) fail('elf-bad-strtab', `string offset ${hex(at)} is outside string table section ${strtab.index} (${hex(size)} bytes)`, file, strtab.offset, path);
  const start = strtab.offset + at;
  const end = strtab.offset + size;
  let i = start;
  while (i < end && r.bytes[i] !== 0) i++;
  if (i === end) fail('elf-bad-strtab', `string at offset ${hex(at)} of string table section ${strtab.index} is not NUL-terminated`, file, start, path);
  return utf8.decode(r.bytes.subarray(start, i));
}

export function findSection(elf: ElfFile, name: string): ElfSection | undefined {
  return elf.sections.find((s) => s.name === name);
}

/**
 * The symbols of the first SHT_SYMTAB section, named from the string table its sh_link
 * names; [] when the file has no .symtab. The mandatory null symbol (index 0) is left
 * out. `shndx` is the raw st_shndx (SHN_XINDEX is not resolved through SHT_SYMTAB_SHNDX).
 */
export function elfSymbols(elf: ElfFile, bytes: Uint8Array, file?: string): ElfSymbol[] {
  const raw = rawInfo.get(elf) ?? parseFull(bytes, file).raw;
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  if (symtab === undefined) return [];
  const r = new ByteReader(bytes);
  const is64 = elf.elfClass === 64;
  const path = `shdr[${symtab.index}]`;
  const entMin = is64 ? 24 : 16;
  const info = raw.sections[symtab.index];
  const link = info?.link ?? 0;
  const entsize = info === undefined || info.entsize === 0n ? BigInt(entMin) : info.entsize;
  if (entsize < BigInt(entMin)) {
    fail('elf-bad-symtab', `symbol table section ${symtab.index}: sh_entsize ${entsize} is too small: expected ${entMin}`, file, symtab.offset, `${path}.sh_entsize`);
  }
  const strtab = elf.sections[link];
  if (strtab === undefined || strtab.type !== SHT_STRTAB || link === 0) {
    fail('elf-bad-symtab', `symbol table section ${symtab.index}: sh_link ${link} is not a string table section (the file has ${elf.sections.length} sections)`, file, symtab.offset, `${path}.sh_link`);
  }
  const ent = Number(entsize);
  const count = Number(symtab.size / entsize);
  if (!r.has(symtab.offset, count * ent)) fail('elf-bad-symtab', `symbol table section ${symtab.index} runs past the end of the file`, file, symtab.offset, path);
  const out: ElfSymbol[] = [];
  for (let i = 1; i < count; i++) {
    const b = symtab.offset + i * ent;
    const stInfo = r.u8(b + (is64 ? 4 : 12));
    out.push({
      name: readString(r, strtab, r.u32(b), file, `symtab[${i}].st_name`),
      value: is64 ? r.u64(b + 8) : BigInt(r.u32(b + 4)),
      size: is64 ? r.u64(b + 16) : BigInt(r.u32(b + 8)),
      type: stInfo & 0xf,
      bind: stInfo >> 4,
      shndx: r.u16(b + (is64 ? 6 : 14)),
    });
  }
  return out;
}

/**
 * The image `objcopy -O binary` (GNU binutils 2.40, BFD) writes, and the load address of its
 * first byte. The rules, each checked against the real objcopy (see test/igvmgen/elf.test.ts):
 *
 * 1. Sections written: SHF_ALLOC, type neither SHT_NOBITS nor SHT_NULL, size > 0. Any other
 *    type counts, NOTE, DYNAMIC, unknown OS-specific types included; SHF_EXCLUDE is not special.
 *    Empty sections, .bss and non-allocated sections (.comment, .symtab, ...) never affect the
 *    image, not even its start or its length. A .bss between two written sections is just gap.
 * 2. LMA (BFD's `_bfd_elf_make_section_from_shdr`): program headers are tried in order; the first
 *    one that "contains" the section sets LMA = p_paddr + sh_offset − p_offset (the file offset,
 *    not sh_addr: in a segment packed with sections from several VMAs they still come out
 *    contiguous). Only PT_LOAD (for non-SHF_TLS sections) and PT_TLS (for SHF_TLS sections) count
 *    (PT_NOTE, PT_DYNAMIC, PT_PHDR, ... never do). Contains means both
 *    p_offset ≤ sh_offset and sh_offset − p_offset + sh_size ≤ p_filesz, and
 *    p_vaddr ≤ sh_addr and sh_addr − p_vaddr + sh_size ≤ p_memsz. A section in no segment
 *    (an ET_REL object, or outside all segments) has LMA = VMA = sh_addr.
 * 3. Quirk: when every program header (any type) has p_paddr 0 and more than one PT_LOAD has
 *    p_memsz ≠ 0, all LMAs are VMAs. (One non-zero p_paddr anywhere, e.g. PT_PHDR, turns this off.)
 * 4. Arithmetic is 64-bit unsigned, also for ELF32 (an ELF32 LMA can go beyond 4 GiB; no wrap).
 * 5. The image runs from the lowest LMA to the highest LMA + size of the written sections; gaps
 *    are zero. Sections are copied in section header order, so where LMAs overlap the later
 *    section's bytes win. No written section → empty image (lowAddress 0).
 * 6. objcopy refuses a file with no sections ("the input file has no sections": none besides
 *    index 0, SHT_NULL entries, the section-name table, the .symtab and its string table,
 *    SHT_SYMTAB_SHNDX); so does this function (IgvmError 'elf-no-sections').
 * Not modelled: files BFD rejects for other reasons (e.g. malformed relocation sections),
 * SHT_GROUP/compressed-section handling, and targets where BFD sign-extends ELF32 addresses.
 */
export function objcopyBinary(elf: ElfFile, bytes: Uint8Array): { image: Uint8Array; lowAddress: bigint } {
  const raw = rawInfo.get(elf);
  const symtab = elf.sections.find((s) => s.type === SHT_SYMTAB);
  const symStrtab = symtab !== undefined ? raw?.sections[symtab.index]?.link : undefined;
  const real = elf.sections.filter((s) =>
    s.index !== 0 && s.type !== SHT_NULL && s.type !== SHT_SYMTAB_SHNDX && s !== symtab &&
    s.index !== raw?.shstrndx && !(s.type === SHT_STRTAB && s.index === symStrtab));
  if (real.length === 0) throw new IgvmError('elf-no-sections', 'ELF file has no sections to copy (objcopy: "the input file has no sections")');

  const vmaOnly = elf.segments.every((p) => p.paddr === 0n) && elf.segments.filter((p) => p.type === PT_LOAD && p.memsz !== 0n).length > 1;
  const placed: { lma: bigint; s: ElfSection }[] = [];
  for (const s of real) {
    if ((s.flags & SHF_ALLOC) === 0n || s.type === SHT_NOBITS || s.size === 0n) continue;
    placed.push({ lma: vmaOnly ? s.addr : lmaOf(s, elf.segments), s });
  }
  if (placed.length === 0) return { image: new Uint8Array(0), lowAddress: 0n };
  let low = placed[0]!.lma;
  let high = 0n;
  for (const { lma, s } of placed) {
    if (lma < low) low = lma;
    if (lma + s.size > high) high = lma + s.size;
  }
  if (high - low > MAX_IMAGE_SIZE) {
    throw new IgvmError('elf-image-too-large', `objcopy -O binary image would span ${hex(high - low)} bytes (load addresses ${hex(low)}..${hex(high)}): more than the ${hex(MAX_IMAGE_SIZE)} limit`);
  }
  const image = new Uint8Array(Number(high - low));
  for (const { lma, s } of placed) {
    const size = Number(s.size);
    if (s.offset + size > bytes.length) {
      throw new IgvmError('elf-bad-section', `section ${s.index} (${s.name}) contents ${hex(s.offset)}+${hex(size)} run past the end of the file (${bytes.length} bytes)`, { offset: s.offset, path: `shdr[${s.index}]` });
    }
    image.set(bytes.subarray(s.offset, s.offset + size), Number(lma - low));
  }
  return { image, lowAddress: low };
}

/** Rule 2 above: LMA of an allocated section with contents. */
function lmaOf(s: ElfSection, segments: ElfSegment[]): bigint {
  const tls = (s.flags & SHF_TLS) !== 0n;
  const off = BigInt(s.offset);
  for (const p of segments) {
    if (!(tls ? p.type === PT_TLS : p.type === PT_LOAD)) continue;
    const pOff = BigInt(p.offset);
    const inFile = off >= pOff && U64(off - pOff + s.size) <= p.filesz;
    const inMem = s.addr >= p.vaddr && U64(s.addr - p.vaddr + s.size) <= p.memsz;
    if (inFile && inMem) return U64(p.paddr + off - pOff);
  }
  return s.addr;
}
