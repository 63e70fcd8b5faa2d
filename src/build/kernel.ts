// Kernel inputs for `igvm build`: bzImage (Linux boot protocol ≥ 2.10, Documentation/arch/x86/boot.rst) or ELF PT_LOAD images (LINUX-NATIVE-BOOT.md).
import { IgvmError } from '../errors.js';
import { parseElf, PT_LOAD, EM_386, EM_X86_64 } from '../igvmgen/elf.js';

export const PAGE = 0x1000;
/** Where a kernel goes that is not relocatable or has no pref_address. */
export const DEFAULT_KERNEL_ADDRESS = 0x1000000;
/** Lowest boot protocol accepted: 2.10 has pref_address and init_size. */
export const MIN_BOOT_PROTOCOL = 0x020a;
const SETUP_HEADER_START = 0x1f1;
/** struct boot_params: the setup header must end before edd_mbr_sig_buffer. */
const SETUP_HEADER_LIMIT = 0x290;
const FOUR_GIB = 0x100000000;

export interface NamedBytes {
  name: string;
  bytes: Uint8Array;
}

/** One run of bytes to place at a page-aligned GPA (zero-padded to whole pages). */
export interface KernelChunk {
  gpa: number;
  bytes: Uint8Array;
}

export interface KernelImage {
  format: 'bzimage' | 'elf';
  /** Page-aligned pieces of the image in guest memory. */
  chunks: KernelChunk[];
  /** 32-bit entry point (code32_start for a bzImage). */
  entry: number;
  /** Lowest GPA the kernel occupies. */
  start: number;
  /** First GPA after the memory the kernel needs (bzImage: load address + max(image, init_size)); page-aligned. */
  end: number;
  /** End of the file's bytes in memory (page-aligned); pages from here to `end` are zero. */
  imageEnd: number;
  /** bzImage: the setup header bytes to copy into boot_params at 0x1F1. */
  setupHeader: Uint8Array | undefined;
  /** Highest address the initrd may end at + 1 (initrd_addr_max + 1), capped at 4 GiB. */
  initrdLimit: number;
  /** Longest command line the kernel accepts (without the NUL), when it says. */
  cmdlineMax: number | undefined;
  /** Boot protocol version (bzImage), e.g. 0x020f. */
  protocol: number | undefined;
  notes: string[];
}

const alignUp = (v: number, a: number): number => Math.ceil(v / a) * a;
const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** Detect the kernel format by magic and lay it out. */
export function readKernel(k: NamedBytes): KernelImage {
  const b = k.bytes;
  if (b.length >= 4 && b[0] === 0x7f && b[1] === 0x45 && b[2] === 0x4c && b[3] === 0x46) return readElfKernel(k);
  if (b.length >= 0x206 && new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0x202, true) === 0x53726448) return readBzImage(k);
  throw new IgvmError('kernel-unknown-format', 'not a Linux bzImage (no boot protocol signature "HdrS" at offset 0x202) or an ELF file (no 7f 45 4c 46 at offset 0)', { file: k.name, path: '--kernel' });
}

function readBzImage(k: NamedBytes): KernelImage {
  const b = k.bytes;
  const file = k.name;
  const fail = (code: string, message: string, offset: number, path: string): never => {
    throw new IgvmError(code, message, { file, offset, path });
  };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (b.length < 0x208) fail('bzimage-truncated', `the setup header's version field is at 0x206; the file is only ${b.length} bytes`, b.length, 'setup_header.version');
  const version = dv.getUint16(0x206, true);
  const versionText = `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
  if (version < MIN_BOOT_PROTOCOL) {
    fail('kernel-too-old', `kernel too old for the boot protocol: it speaks ${versionText}, igvm build needs 2.10 or later (pref_address, init_size)`, 0x206, 'setup_header.version');
  }
  if (b.length < 0x268) fail('bzimage-truncated', `the 2.10 setup header ends at 0x268; the file is only ${b.length} bytes`, b.length, 'setup_header');
  const headerEnd = 0x202 + (b[0x201] ?? 0);
  if (headerEnd < 0x268 || headerEnd > SETUP_HEADER_LIMIT || headerEnd > b.length) {
    fail('bzimage-bad-header-length', `the setup header ends at 0x${headerEnd.toString(16)} (0x202 + the byte at 0x201); expected 0x268..0x${SETUP_HEADER_LIMIT.toString(16)} within the file`, 0x201, 'setup_header.jump');
  }
  const loadflags = b[0x211] ?? 0;
  if ((loadflags & 1) === 0) fail('bzimage-not-loaded-high', `loadflags 0x${loadflags.toString(16)} lacks LOADED_HIGH (bit 0): a zImage loads at 0x10000, only bzImages are supported`, 0x211, 'setup_header.loadflags');
  const setupSects = (b[SETUP_HEADER_START] ?? 0) || 4;
  const pmStart = (setupSects + 1) * 512;
  if (pmStart >= b.length) fail('bzimage-truncated', `setup_sects ${setupSects} puts the protected-mode kernel at 0x${pmStart.toString(16)}, beyond the end of the ${b.length}-byte file`, SETUP_HEADER_START, 'setup_header.setup_sects');
  const image = b.subarray(pmStart);
  const relocatable = (b[0x234] ?? 0) !== 0;
  const pref = dv.getBigUint64(0x258, true);
  const initSize = dv.getUint32(0x260, true);
  const notes: string[] = [];
  let load = DEFAULT_KERNEL_ADDRESS;
  if (relocatable && pref !== 0n) {
    if (pref % BigInt(PAGE) !== 0n || pref < 0x100000n || pref + BigInt(Math.max(initSize, image.length)) > BigInt(FOUR_GIB)) {
      fail('bzimage-bad-pref-address', `pref_address ${hex(pref)} must be page-aligned, at or above 1 MiB and leave room for init_size 0x${initSize.toString(16)} below 4 GiB`, 0x258, 'setup_header.pref_address');
    }
    load = Number(pref);
  } else {
    notes.push(`kernel is ${relocatable ? 'relocatable without a pref_address' : 'not relocatable'}: loaded at ${hex(DEFAULT_KERNEL_ADDRESS)}`);
  }
  const imageEnd = load + alignUp(image.length, PAGE);
  const end = Math.max(imageEnd, alignUp(load + initSize, PAGE));
  const initrdMax = dv.getUint32(0x22c, true);
  const cmdlineSize = version >= 0x0206 ? dv.getUint32(0x238, true) : 255;
  return {
    format: 'bzimage',
    chunks: [{ gpa: load, bytes: image }],
    entry: load,
    start: load,
    end,
    imageEnd,
    setupHeader: b.slice(SETUP_HEADER_START, headerEnd),
    initrdLimit: initrdMax === 0 ? 0x38000000 : Math.min(FOUR_GIB, initrdMax + 1),
    cmdlineMax: cmdlineSize,
    protocol: version,
    notes,
  };
}

function readElfKernel(k: NamedBytes): KernelImage {
  const file = k.name;
  const elf = parseElf(k.bytes, file);
  if (elf.machine !== EM_386 && elf.machine !== EM_X86_64) {
    throw new IgvmError('elf-bad-machine', `e_machine ${elf.machine} is not x86 (3 EM_386 or 62 EM_X86_64)`, { file, offset: 18, path: 'e_machine' });
  }
  const loads = elf.segments.map((s, i) => ({ s, i })).filter(({ s }) => s.type === PT_LOAD && s.memsz > 0n);
  if (loads.length === 0) throw new IgvmError('elf-no-load', 'the ELF file has no PT_LOAD segment with memory', { file, path: 'program headers' });
  const pages = new Map<number, Uint8Array>();
  let start = Infinity;
  let end = 0;
  const spans: [number, number, number][] = [];
  for (const { s, i } of loads) {
    const path = `program header ${i}`;
    if (s.filesz > s.memsz) throw new IgvmError('elf-bad-segment', `p_filesz 0x${s.filesz.toString(16)} exceeds p_memsz 0x${s.memsz.toString(16)}`, { file, path });
    if (s.paddr < 0x100000n || s.paddr + s.memsz > BigInt(FOUR_GIB)) {
      throw new IgvmError('elf-segment-placement', `PT_LOAD at p_paddr ${hex(s.paddr)} (+0x${s.memsz.toString(16)}) must lie between 1 MiB and 4 GiB (the 32-bit entry runs with paging off; the loader's pages are below 1 MiB)`, { file, path });
    }
    if (s.offset + Number(s.filesz) > k.bytes.length) throw new IgvmError('elf-truncated', `PT_LOAD file range 0x${s.offset.toString(16)}+0x${s.filesz.toString(16)} is beyond the end of the ${k.bytes.length}-byte file`, { file, path });
    const from = Number(s.paddr);
    const to = from + Number(s.memsz);
    for (const [a, z, j] of spans) {
      if (from < z && a < to) throw new IgvmError('elf-segment-overlap', `PT_LOAD [${hex(from)}, ${hex(to)}) overlaps program header ${j} [${hex(a)}, ${hex(z)})`, { file, path });
    }
    spans.push([from, to, i]);
    start = Math.min(start, from);
    end = Math.max(end, to);
    const data = k.bytes.subarray(s.offset, s.offset + Number(s.filesz));
    for (let p = Math.floor(from / PAGE) * PAGE; p < to; p += PAGE) if (!pages.has(p)) pages.set(p, new Uint8Array(PAGE));
    for (let off = 0; off < data.length;) {
      const gpa = from + off;
      const page = Math.floor(gpa / PAGE) * PAGE;
      const n = Math.min(PAGE - (gpa - page), data.length - off);
      pages.get(page)!.set(data.subarray(off, off + n), gpa - page);
      off += n;
    }
  }
  const entry = elfEntry(elf.entry, loads.map(({ s }) => s), file);
  const sorted = [...pages.keys()].sort((a, b) => a - b);
  const chunks: KernelChunk[] = [];
  for (const gpa of sorted) {
    const last = chunks[chunks.length - 1];
    const page = pages.get(gpa)!;
    if (last && last.gpa + last.bytes.length === gpa) {
      const merged = new Uint8Array(last.bytes.length + PAGE);
      merged.set(last.bytes);
      merged.set(page, last.bytes.length);
      last.bytes = merged;
    } else chunks.push({ gpa, bytes: page });
  }
  const pageEnd = alignUp(end, PAGE);
  return {
    format: 'elf', chunks, entry, start: Math.floor(start / PAGE) * PAGE, end: pageEnd, imageEnd: pageEnd, setupHeader: undefined,
    initrdLimit: FOUR_GIB, cmdlineMax: undefined, protocol: undefined,
    notes: [`ELF kernel: ${loads.length} PT_LOAD segment${loads.length === 1 ? '' : 's'} at their physical addresses, 32-bit entry ${hex(entry)}`],
  };
}

/** e_entry as a physical address: translated through the PT_LOAD whose virtual range holds it. */
function elfEntry(entry: bigint, loads: { vaddr: bigint; paddr: bigint; memsz: bigint }[], file: string): number {
  const byV = loads.find((s) => entry >= s.vaddr && entry < s.vaddr + s.memsz);
  const phys = byV ? entry - byV.vaddr + byV.paddr : loads.some((s) => entry >= s.paddr && entry < s.paddr + s.memsz) ? entry : undefined;
  if (phys === undefined || phys >= BigInt(FOUR_GIB)) {
    throw new IgvmError('elf-bad-entry', `e_entry ${hex(entry)} is not inside a PT_LOAD segment below 4 GiB`, { file, offset: 24, path: 'e_entry' });
  }
  return Number(phys);
}
