// Tests of the ELF parser and the `objcopy -O binary` re-implementation (src/igvmgen/elf.ts) against GNU binutils run here.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IgvmError } from '../../src/errors.js';
import {
  EM_386,
  EM_X86_64,
  ET_DYN,
  ET_EXEC,
  ET_REL,
  PT_LOAD,
  SHF_ALLOC,
  SHT_NOBITS,
  SHT_PROGBITS,
  SHT_SYMTAB,
  STB_GLOBAL,
  STT_FUNC,
  elfSymbols,
  findSection,
  objcopyBinary,
  parseElf,
} from '../../src/igvmgen/elf.js';
import { VECTORS, assertSameBytes, rng } from '../helpers.js';

const TEST_ELF = join(VECTORS, 'inputs', 'test_elf');
const TMP = mkdtempSync(join(tmpdir(), 'igvmkit-elf-'));
after(() => rmSync(TMP, { recursive: true, force: true }));

/** Runs a binutils/gcc tool; a missing tool or a failure is a test failure with a clear message. */
function tool(cmd: string, args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd: TMP, encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) assert.fail(`cannot run ${cmd} (${r.error.message}): these tests need GNU binutils 2.40 and gcc (apt-get install binutils gcc)`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function mustRun(cmd: string, args: string[], input?: string): string {
  const r = tool(cmd, args, input);
  if (r.status !== 0) assert.fail(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${r.stderr}`);
  return r.stdout;
}
/** What the real `objcopy -O binary` writes for `elfPath`. */
function realObjcopy(elfPath: string): Uint8Array {
  const out = `${elfPath}.objcopy.bin`;
  mustRun('objcopy', ['-O', 'binary', elfPath, out]);
  return new Uint8Array(readFileSync(out));
}
function assertLikeObjcopy(elfPath: string, what: string): Uint8Array {
  const bytes = new Uint8Array(readFileSync(elfPath));
  const { image } = objcopyBinary(parseElf(bytes, elfPath), bytes);
  assertSameBytes(image, realObjcopy(elfPath), `${what}: objcopyBinary vs objcopy -O binary`);
  return image;
}
function isIgvmError(code: string, fileInMessage?: string) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof IgvmError, `expected IgvmError ${code}, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (fileInMessage !== undefined) {
      assert.equal(e.file, fileInMessage);
      assert.ok(e.describe().startsWith(`${fileInMessage}: `), `describe() names the file: ${e.describe()}`);
      assert.ok(!e.message.includes(fileInMessage), `the message does not repeat the file: ${e.message}`);
    }
    return true;
  };
}

// ---- test_elf (the igvmgen reference vector) -------------------------------------------------

test('test_elf: header, sections and symbols match readelf', () => {
  const bytes = new Uint8Array(readFileSync(TEST_ELF));
  assert.equal(bytes.length, 14016);
  const elf = parseElf(bytes, 'test_elf');
  // readelf -h: ELF64, DYN, x86-64, entry 0x1000, 13 program headers, 15 section headers.
  assert.equal(elf.elfClass, 64);
  assert.equal(elf.type, ET_DYN);
  assert.equal(elf.machine, EM_X86_64);
  assert.equal(elf.entry, 0x1000n);
  assert.equal(elf.segments.length, 13);
  assert.equal(elf.sections.length, 15);
  elf.sections.forEach((s, i) => assert.equal(s.index, i));
  // readelf -S
  const text = findSection(elf, '.text');
  assert.deepEqual(text, { index: 7, name: '.text', type: SHT_PROGBITS, flags: 0x6n, addr: 0x1000n, offset: 0x1000, size: 0xfn });
  assert.equal(findSection(elf, '.interp')?.addr, 0x318n);
  assert.equal(findSection(elf, '.dynamic')?.addr, 0x3f20n);
  assert.equal(findSection(elf, '.symtab')?.type, SHT_SYMTAB);
  assert.equal(findSection(elf, '.nope'), undefined);
  assert.deepEqual(elf.sections.map((s) => s.name), ['', '.interp', '.note.gnu.property', '.note.gnu.build-id', '.gnu.hash', '.dynsym', '.dynstr',
    '.text', '.eh_frame_hdr', '.eh_frame', '.dynamic', '.comment', '.symtab', '.strtab', '.shstrtab']);
  // readelf -l: the fourth program header is the R E PT_LOAD of .text.
  assert.deepEqual(elf.segments[3], { type: PT_LOAD, flags: 5, offset: 0x1000, vaddr: 0x1000n, paddr: 0x1000n, filesz: 0xfn, memsz: 0xfn });
  // readelf -s: 21 entries in .symtab (20 without the null symbol); main is FUNC GLOBAL 15 bytes in section 7.
  const syms = elfSymbols(elf, bytes, 'test_elf');
  assert.equal(syms.length, 20);
  assert.deepEqual(syms.find((s) => s.name === 'main'), { name: 'main', value: 0x1000n, size: 15n, type: STT_FUNC, bind: STB_GLOBAL, shndx: 7 });
  assert.equal(syms.find((s) => s.name === '_end')?.value, 0x4000n);
  assert.equal(syms.find((s) => s.name === '_start')?.shndx, 0);
});

test('test_elf: objcopyBinary equals objcopy -O binary (15592 bytes from .interp)', () => {
  const image = assertLikeObjcopy(TEST_ELF, 'test_elf');
  assert.equal(image.length, 15592); // IGVMGEN.md §5 worked example
  const bytes = new Uint8Array(readFileSync(TEST_ELF));
  const { lowAddress } = objcopyBinary(parseElf(bytes), bytes);
  assert.equal(lowAddress, 0x318n);
  assert.equal(new TextDecoder().decode(image.subarray(0, 27)), '/lib64/ld-linux-x86-64.so.2');
});

// ---- ELFs built with the system toolchain -------------------------------------------------------

const ASM64 = `
.globl _start
.section .text,"ax"
_start: mov $1, %eax
  ret
.section .rodata,"a"
.globl msg
msg: .ascii "RODATA!!"
.section .data,"aw"
.globl dvar
.type dvar, @object
.size dvar, 8
dvar: .quad 0x1122334455667788
.section .lmadata,"aw"
.globl lmavar
lmavar: .ascii "LMA-DIFF"
.section .bss,"aw",@nobits
.globl bvar
bvar: .zero 256
.section .note.test,"a",@note
.long 4,4,1
.ascii "GNU\\0"
.long 0x42
.section .comment,"",@progbits
.ascii "not loaded"
`;
/** Gaps between sections, a .bss between .data and an AT() section, a NOTE, a .bss at the very end. */
const SCRIPT64 = `
ENTRY(_start)
SECTIONS {
  . = 0x100000;
  .text : { *(.text) }
  . = 0x100200;
  .rodata : { *(.rodata) }
  .note.test : { *(.note.test) }
  . = 0x101000;
  .data : { *(.data) }
  .bss : { *(.bss) }
  .lmadata 0x200000 : AT(0x103000) { *(.lmadata) }
  .bss2 (NOLOAD) : { . += 0x40; }
}
`;
const ASM32 = `
.globl _start
.section .text,"ax"
_start: movl $2, %eax
  ret
.section .rodata,"a"
.globl ro32
ro32: .ascii "ELF32 rodata"
.section .data,"aw"
.globl d32
d32: .long 0xdeadbeef
.section .bss,"aw",@nobits
.zero 64
.section .high,"aw"
.ascii "HIGH"
`;
const SCRIPT32 = `
ENTRY(_start)
SECTIONS {
  . = 0xc0100000;
  .text : AT(0x100000) { *(.text) }
  .rodata : AT(0x100400) { *(.rodata) }
  . = ALIGN(0x1000);
  .data : { *(.data) }
  .bss : { *(.bss) }
  .high 0xc0300000 : AT(0x104000) { *(.high) }
}
`;
const C_SRC = `
int counter = 42;
const char banner[] = "freestanding banner";
static int table[64];
__thread int tls_var = 7;
__thread int tls_zero;
int helper(int x) { table[x & 63] += x; return table[x & 7] + counter + tls_var + tls_zero; }
void _start(void) { for (;;) helper(counter++); }
`;
const C_SCRIPT = `
ENTRY(_start)
SECTIONS {
  . = 0x400000;
  .text : { *(.text*) }
  . = ALIGN(0x2000);
  .rodata : { *(.rodata*) }
  .eh_frame : { *(.eh_frame*) }
  .tdata : { *(.tdata*) }
  .tbss : { *(.tbss*) }
  . = 0x600000;
  .data : AT(0x500000) { *(.data*) }
  .bss : { *(.bss*) *(COMMON) }
  /DISCARD/ : { *(.note.GNU-stack) }
}
`;

let built: Map<string, string> | undefined;
/** Builds the toolchain ELFs once; name → path. */
function buildAll(): Map<string, string> {
  if (built) return built;
  const m = new Map<string, string>();
  const f = (n: string) => join(TMP, n);
  writeFileSync(f('a64.s'), ASM64);
  writeFileSync(f('a64.ld'), SCRIPT64);
  writeFileSync(f('a32.s'), ASM32);
  writeFileSync(f('a32.ld'), SCRIPT32);
  writeFileSync(f('c.c'), C_SRC);
  writeFileSync(f('c.ld'), C_SCRIPT);
  mustRun('as', ['--64', f('a64.s'), '-o', f('a64.o')]);
  mustRun('ld', ['-m', 'elf_x86_64', '-T', f('a64.ld'), f('a64.o'), '-o', f('as64-script.elf')]);
  m.set('as64-script', f('as64-script.elf'));
  mustRun('ld', ['-m', 'elf_x86_64', f('a64.o'), '-o', f('as64-default.elf')]);
  m.set('as64-default', f('as64-default.elf'));
  m.set('as64-object', f('a64.o')); // ET_REL: every section at address 0, so they overlap
  // ELF32 with binutils only (gcc -m32 would need gcc-multilib).
  mustRun('as', ['--32', f('a32.s'), '-o', f('a32.o')]);
  mustRun('ld', ['-m', 'elf_i386', '-T', f('a32.ld'), f('a32.o'), '-o', f('as32-script.elf')]);
  m.set('as32-script', f('as32-script.elf'));
  mustRun('ld', ['-m', 'elf_i386', f('a32.o'), '-o', f('as32-default.elf')]);
  m.set('as32-default', f('as32-default.elf'));
  m.set('as32-object', f('a32.o'));
  // C, freestanding: custom script (TLS, AT(), .bss), the default static layout and a PIE like test_elf.
  mustRun('gcc', ['-O2', '-ffreestanding', '-fno-pie', '-c', f('c.c'), '-o', f('c.o')]);
  mustRun('ld', ['-m', 'elf_x86_64', '-T', f('c.ld'), f('c.o'), '-o', f('c-script.elf')]);
  m.set('c-script', f('c-script.elf'));
  mustRun('gcc', ['-nostdlib', '-static', '-no-pie', f('c.o'), '-o', f('c-static.elf')]);
  m.set('c-static', f('c-static.elf'));
  mustRun('gcc', ['-O2', '-ffreestanding', '-nostdlib', '-fpie', '-pie', f('c.c'), '-o', f('c-pie.elf')]);
  m.set('c-pie', f('c-pie.elf'));
  built = m;
  return m;
}

test('toolchain ELFs: objcopyBinary equals objcopy -O binary byte for byte', () => {
  const m = buildAll();
  for (const [name, path] of m) assertLikeObjcopy(path, name);
});

test('toolchain ELFs: layout facts (gaps, AT(), .bss, ELF32)', () => {
  const m = buildAll();
  const load = (n: string) => {
    const bytes = new Uint8Array(readFileSync(m.get(n)!));
    return { bytes, elf: parseElf(bytes, n) };
  };
  {
    const { bytes, elf } = load('as64-script');
    assert.equal(elf.elfClass, 64);
    assert.equal(elf.type, ET_EXEC);
    assert.equal(elf.entry, 0x100000n);
    assert.equal(findSection(elf, '.bss')?.type, SHT_NOBITS);
    assert.equal(findSection(elf, '.lmadata')?.addr, 0x200000n);
    const { image, lowAddress } = objcopyBinary(elf, bytes);
    assert.equal(lowAddress, 0x100000n);
    assert.equal(image.length, 0x3008); // ends with .lmadata at its LMA 0x103000, not its VMA
    assert.equal(new TextDecoder().decode(image.subarray(0x3000)), 'LMA-DIFF');
    assert.equal(new TextDecoder().decode(image.subarray(0x200, 0x208)), 'RODATA!!');
  }
  {
    const { bytes, elf } = load('as32-script');
    assert.equal(elf.elfClass, 32);
    assert.equal(elf.machine, EM_386);
    assert.equal(elf.entry, 0xc0100000n);
    assert.equal(findSection(elf, '.high')?.addr, 0xc0300000n);
    const { image, lowAddress } = objcopyBinary(elf, bytes);
    assert.equal(lowAddress, 0x100000n);
    assert.equal(new TextDecoder().decode(image.subarray(0x4000)), 'HIGH');
  }
  {
    const { elf } = load('as64-object');
    assert.equal(elf.type, ET_REL);
    assert.equal(elf.segments.length, 0);
  }
});

test('symbols: elfSymbols agrees with nm', () => {
  const m = buildAll();
  for (const name of ['c-script', 'as32-script', 'as64-script', 'c-pie']) {
    const path = m.get(name)!;
    const bytes = new Uint8Array(readFileSync(path));
    const syms = elfSymbols(parseElf(bytes, name), bytes, name);
    // nm -P: "name type value [size]", hex; defined symbols only.
    const lines = mustRun('nm', ['-P', '--defined-only', path]).trim().split('\n').filter((l) => l !== '');
    assert.ok(lines.length >= 3, `${name}: nm lists symbols`);
    for (const line of lines) {
      const [sym, , value, size] = line.split(' ');
      const found = syms.filter((s) => s.name === sym && s.value === BigInt('0x' + value));
      assert.ok(found.length >= 1, `${name}: nm symbol ${line} not found by elfSymbols`);
      if (size !== undefined && size !== '') assert.ok(found.some((s) => s.size === BigInt('0x' + size)), `${name}: size of ${line}`);
    }
  }
  const bytes = new Uint8Array(readFileSync(m.get('c-script')!));
  const syms = elfSymbols(parseElf(bytes), bytes);
  const helper = syms.find((s) => s.name === 'helper');
  assert.equal(helper?.type, STT_FUNC);
  assert.equal(helper?.bind, STB_GLOBAL);
  const banner = syms.find((s) => s.name === 'banner');
  assert.equal(banner?.size, 20n); // "freestanding banner" + NUL
  assert.equal(syms.find((s) => s.name === 'counter')?.value, 0x600000n); // VMA, though loaded at 0x500000
  const noSymtab = new Uint8Array(readFileSync(m.get('as64-script')!));
  const stripped = join(TMP, 'stripped.elf');
  mustRun('objcopy', ['--strip-all', m.get('as64-script')!, stripped]);
  const sb = new Uint8Array(readFileSync(stripped));
  assert.deepEqual(elfSymbols(parseElf(sb), sb), []);
  assert.ok(noSymtab.length > sb.length);
});

// ---- Hand-made ELFs for objcopy's corner cases ----------------------------------------------

interface SegSpec { type?: number; offset: number; vaddr: number; paddr?: number; filesz: number; memsz?: number; }
interface SecSpec { name: string; type?: number; flags?: number; addr?: number; offset: number; data?: Uint8Array; size?: number; link?: number; entsize?: number; }
interface ElfSpec { cls?: 32 | 64; type?: number; segments?: SegSpec[]; sections?: SecSpec[]; }

/** A minimal little-endian ELF: header, program headers, section data at the given offsets, .shstrtab (section 1), section headers. */
function makeElf(spec: ElfSpec): Uint8Array {
  const is64 = spec.cls !== 32;
  const [eh, ph, sh] = is64 ? [64, 56, 64] : [52, 32, 40];
  const segs = spec.segments ?? [];
  const secs = spec.sections ?? [];
  const enc = new TextEncoder();
  const names: number[] = [0];
  const nameAt = new Map<string, number>();
  for (const n of ['.shstrtab', ...secs.map((s) => s.name)]) {
    if (!nameAt.has(n)) { nameAt.set(n, names.length); names.push(...enc.encode(n), 0); }
  }
  let end = eh + ph * segs.length;
  for (const s of secs) if (s.data) end = Math.max(end, s.offset + s.data.length);
  const shstrOff = end;
  const shoff = (shstrOff + names.length + 7) & ~7;
  const shnum = secs.length + 2;
  const out = new Uint8Array(shoff + sh * shnum);
  const dv = new DataView(out.buffer);
  const w = (o: number, v: number, n: number) => (n === 2 ? dv.setUint16(o, v, true) : n === 4 ? dv.setUint32(o, v, true) : dv.setBigUint64(o, BigInt(v), true));
  const A = is64 ? 8 : 4;
  out.set([0x7f, 0x45, 0x4c, 0x46, is64 ? 2 : 1, 1, 1]);
  w(16, spec.type ?? ET_EXEC, 2); w(18, is64 ? EM_X86_64 : EM_386, 2); w(20, 1, 4);
  w(24 + A, segs.length ? eh : 0, A); w(24 + 2 * A, shoff, A);
  const h = 24 + 3 * A + 4;
  w(h, eh, 2); w(h + 2, ph, 2); w(h + 4, segs.length, 2); w(h + 6, sh, 2); w(h + 8, shnum, 2); w(h + 10, 1, 2);
  segs.forEach((s, i) => {
    const b = eh + i * ph;
    const v = [s.type ?? PT_LOAD, s.offset, s.vaddr, s.paddr ?? s.vaddr, s.filesz, s.memsz ?? s.filesz];
    if (is64) { w(b, v[0]!, 4); w(b + 4, 7, 4); for (let k = 1; k < 6; k++) w(b + 8 * k, v[k]!, 8); }
    else { for (let k = 0; k < 6; k++) w(b + 4 * k, v[k]!, 4); w(b + 24, 7, 4); w(b + 28, 1, 4); }
  });
  for (const s of secs) if (s.data) out.set(s.data, s.offset);
  out.set(names, shstrOff);
  const hdr = (i: number, name: number, type: number, flags: number, addr: number, off: number, size: number, link: number, entsize: number) => {
    const b = shoff + i * sh;
    w(b, name, 4); w(b + 4, type, 4);
    if (is64) { w(b + 8, flags, 8); w(b + 16, addr, 8); w(b + 24, off, 8); w(b + 32, size, 8); w(b + 40, link, 4); w(b + 48, 1, 8); w(b + 56, entsize, 8); }
    else { w(b + 8, flags, 4); w(b + 12, addr, 4); w(b + 16, off, 4); w(b + 20, size, 4); w(b + 24, link, 4); w(b + 32, 1, 4); w(b + 36, entsize, 4); }
  };
  hdr(1, nameAt.get('.shstrtab')!, 3, 0, 0, shstrOff, names.length, 0, 0);
  secs.forEach((s, i) => hdr(i + 2, nameAt.get(s.name)!, s.type ?? SHT_PROGBITS, s.flags ?? Number(SHF_ALLOC), s.addr ?? 0, s.offset, s.size ?? s.data?.length ?? 0, s.link ?? 0, s.entsize ?? 0));
  return out;
}
const fill = (n: number, v: number) => new Uint8Array(n).fill(v);
const A16 = fill(0x10, 0xaa);
const B16 = fill(0x10, 0xbb);

/** Each case: what objcopy does, checked by running it, plus the expected length as a readable fact. */
const CORNER_CASES: Record<string, { spec: ElfSpec; length: number }> = {
  'empty sections change neither start nor end': { length: 0x10, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, filesz: 0x20 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.high', offset: 0x1010, addr: 0x9000, size: 0 }, { name: '.low', offset: 0x1010, addr: 0x10, size: 0 }] } },
  'section outside every segment: LMA = VMA': { length: 0x3e10, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0x5000, filesz: 0x10 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1100, addr: 0x1200, data: B16 }] } },
  'overlap: the later section header wins': { length: 0x30, spec: { sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: fill(0x20, 0xaa) }, { name: '.b', offset: 0x1100, addr: 0x1010, data: fill(0x20, 0xbb) }] } },
  'overlap, reversed header order': { length: 0x30, spec: { sections: [
    { name: '.b', offset: 0x1100, addr: 0x1010, data: fill(0x20, 0xbb) }, { name: '.a', offset: 0x1000, addr: 0x1000, data: fill(0x20, 0xaa) }] } },
  'no allocated section: empty output': { length: 0, spec: { sections: [{ name: '.c', flags: 0, offset: 0x1000, data: fill(0x20, 0xcc) }] } },
  'all p_paddr 0 with two PT_LOADs: LMA = VMA': { length: 0x2010, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0, filesz: 0x10 }, { offset: 0x1100, vaddr: 0x3000, paddr: 0, filesz: 0x10 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1100, addr: 0x3000, data: B16 }] } },
  'p_paddr 0 with one PT_LOAD is used': { length: 0x60, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0, filesz: 0x10 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.c', offset: 0x1100, addr: 0x50, data: B16 }] } },
  'a non-zero PT_PHDR p_paddr disables the p_paddr-0 rule': { length: 0x10, spec: { segments: [{ type: 6, offset: 0x40, vaddr: 0x40, paddr: 0x40, filesz: 0x10 }, { offset: 0x1000, vaddr: 0x1000, paddr: 0, filesz: 0x10 }, { offset: 0x1100, vaddr: 0x3000, paddr: 0, filesz: 0x10 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1100, addr: 0x3000, data: B16 }] } },
  'packed segment: LMA follows the file offset, not the VMA': { length: 0x20, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0x8000, filesz: 0x200 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1010, addr: 0x1100, data: B16 }] } },
  'two segments contain a section: the first wins': { length: 0x6f10, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0x8000, filesz: 0x100 }, { offset: 0x1000, vaddr: 0x1000, paddr: 0x9000, filesz: 0x100 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1100, addr: 0x1100, data: B16 }] } },
  'contiguous segments: each section in its own': { length: 0x1010, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0x8000, filesz: 0x10 }, { offset: 0x1010, vaddr: 0x1010, paddr: 0x9000, filesz: 0x10 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1010, addr: 0x1010, data: B16 }] } },
  'p_memsz too small: not in the segment': { length: 0x6ff0 + 0x10, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0x8000, filesz: 0x100, memsz: 0x18 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1010, addr: 0x1010, data: B16 }] } },
  'sh_addr below p_vaddr: not in the segment': { length: 0x7810, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0x8000, filesz: 0x100 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1010, addr: 0x800, data: B16 }] } },
  'SHT_NULL with SHF_ALLOC is ignored': { length: 0x10, spec: { sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.n', type: 0, offset: 0x1100, addr: 0x1100, data: B16 }] } },
  '.bss in the middle is a gap, at the end is dropped; NOTE is copied': { length: 0x210, spec: { sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.bss', type: SHT_NOBITS, flags: 3, offset: 0x1010, addr: 0x1010, size: 0x100 },
    { name: '.note', type: 7, offset: 0x1010, addr: 0x1200, data: fill(0x10, 0xdd) }, { name: '.bss2', type: SHT_NOBITS, flags: 3, offset: 0x1020, addr: 0x1300, size: 0x100 }] } },
  'PT_NOTE does not set an LMA': { length: 0x110, spec: { segments: [{ type: 4, offset: 0x1000, vaddr: 0x1000, paddr: 0x7000, filesz: 0x10 }], sections: [
    { name: '.a', type: 7, offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1100, addr: 0x1100, data: B16 }] } },
  'SHF_TLS sections take their LMA from PT_TLS only': { length: 0x1000, spec: { segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0x8000, filesz: 0x100 }, { type: 7, offset: 0x1000, vaddr: 0x1000, paddr: 0x9000, filesz: 0x10 }], sections: [
    { name: '.tdata', flags: 0x403, offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1010, addr: 0x1010, data: B16 }] } },
  'SHF_EXCLUDE and OS-specific types are copied': { length: 0x210, spec: { sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.x', flags: 0x80000002, offset: 0x1100, addr: 0x1100, data: B16 },
    { name: '.u', type: 0x60000123, offset: 0x1200, addr: 0x1200, data: B16 }] } },
  'ELF32 kernel-style: VMA 0xc0001000, LMA 0x1000': { length: 0x110, spec: { cls: 32, segments: [{ offset: 0x1000, vaddr: 0xc0001000, paddr: 0x1000, filesz: 0x200 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0xc0001000, data: A16 }, { name: '.b', offset: 0x1100, addr: 0xc0001100, data: B16 }] } },
  'ELF32: LMA arithmetic is 64-bit (no wrap at 4 GiB)': { length: 0x910, spec: { cls: 32, segments: [{ offset: 0x1000, vaddr: 0x1000, paddr: 0xfffff800, filesz: 0x1000 }], sections: [
    { name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1900, addr: 0x1900, data: B16 }] } },
  'ET_REL: all sections at 0': { length: 0x10, spec: { type: ET_REL, sections: [
    { name: '.text', flags: 6, offset: 0x100, data: A16 }, { name: '.data', flags: 3, offset: 0x200, data: fill(8, 0xbb) }] } },
};

test('hand-made corner cases: objcopyBinary equals objcopy -O binary', () => {
  let n = 0;
  for (const [what, { spec, length }] of Object.entries(CORNER_CASES)) {
    const path = join(TMP, `corner${n++}.elf`);
    writeFileSync(path, makeElf(spec));
    const image = assertLikeObjcopy(path, what);
    assert.equal(image.length, length, what);
  }
});

test('files objcopy calls "no sections": IgvmError elf-no-sections', () => {
  const sym = new Uint8Array(48);
  sym[24] = 1;
  const cases: Record<string, ElfSpec> = {
    'only .shstrtab': {},
    '.symtab and its .strtab': { sections: [{ name: '.symtab', type: SHT_SYMTAB, flags: 0, offset: 0x100, data: sym, link: 3, entsize: 24 }, { name: '.strtab', type: 3, flags: 0, offset: 0x200, data: new Uint8Array([0, 0x41, 0]) }] },
    'SHT_NULL entries only': { sections: [{ name: '.n', type: 0, offset: 0x100, data: fill(4, 1) }] },
  };
  let n = 0;
  for (const [what, spec] of Object.entries(cases)) {
    const path = join(TMP, `nosec${n++}.elf`);
    const bytes = makeElf(spec);
    writeFileSync(path, bytes);
    const r = tool('objcopy', ['-O', 'binary', path, `${path}.bin`]);
    assert.notEqual(r.status, 0, `${what}: objcopy fails`);
    assert.match(r.stderr, /has no sections/, what);
    assert.throws(() => objcopyBinary(parseElf(bytes), bytes), isIgvmError('elf-no-sections'), what);
  }
  // A lone extra string table is a section: objcopy writes an empty file.
  const path = join(TMP, 'strtab-only.elf');
  const bytes = makeElf({ sections: [{ name: '.str2', type: 3, flags: 0, offset: 0x200, data: new Uint8Array([0, 0x41, 0]) }] });
  writeFileSync(path, bytes);
  assert.equal(realObjcopy(path).length, 0);
  assert.equal(objcopyBinary(parseElf(bytes), bytes).image.length, 0);
  // e_shnum = 0: the section header table is absent.
  const none = makeElf({ segments: [{ offset: 0x1000, vaddr: 0x1000, filesz: 0x10 }], sections: [{ name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }] });
  const dv = new DataView(none.buffer);
  dv.setBigUint64(40, 0n, true);
  dv.setUint16(60, 0, true);
  dv.setUint16(62, 0, true);
  const elf = parseElf(none);
  assert.equal(elf.sections.length, 0);
  assert.equal(elf.segments.length, 1);
  assert.throws(() => objcopyBinary(elf, none), isIgvmError('elf-no-sections'));
});

// ---- Bad input --------------------------------------------------------------------------------

function testElfBytes(): Uint8Array {
  return new Uint8Array(readFileSync(TEST_ELF));
}

test('bad input: precise IgvmErrors', () => {
  const notElf = new TextEncoder().encode('MZ this is not an ELF file at all, just some bytes');
  assert.throws(() => parseElf(notElf, 'kernel.bin'), isIgvmError('elf-bad-magic', 'kernel.bin'));
  assert.throws(() => parseElf(new Uint8Array(0)), isIgvmError('elf-bad-magic'));
  assert.throws(() => parseElf(new Uint8Array([0x7f, 0x45, 0x4c])), isIgvmError('elf-bad-magic'));
  try {
    parseElf(notElf, 'kernel.bin');
  } catch (e) {
    assert.match((e as Error).message, /expected magic 7f 45 4c 46 at offset 0/);
  }
  const good = testElfBytes();
  // Truncated header.
  assert.throws(() => parseElf(good.subarray(0, 40), 'test_elf'), isIgvmError('elf-truncated', 'test_elf'));
  assert.throws(() => parseElf(good.subarray(0, 10)), isIgvmError('elf-truncated'));
  // Class and encoding.
  const cls = good.slice();
  cls[4] = 3;
  assert.throws(() => parseElf(cls), isIgvmError('elf-bad-class'));
  const be = good.slice();
  be[5] = 2;
  assert.throws(() => parseElf(be), (e: unknown) => isIgvmError('elf-bad-encoding')(e) && /big-endian/.test((e as Error).message));
  // Section header table past the end (the file cut inside it, or e_shoff moved).
  assert.throws(() => parseElf(good.subarray(0, 13056 + 100), 'test_elf'), isIgvmError('elf-truncated', 'test_elf'));
  const shoff = good.slice();
  new DataView(shoff.buffer).setBigUint64(40, 14000n, true);
  assert.throws(() => parseElf(shoff), isIgvmError('elf-truncated'));
  new DataView(shoff.buffer).setBigUint64(40, 0xffffffffffffff00n, true);
  assert.throws(() => parseElf(shoff), isIgvmError('elf-truncated'));
  // Program header table past the end.
  const phnum = good.slice();
  new DataView(phnum.buffer).setUint16(56, 300, true);
  assert.throws(() => parseElf(phnum), isIgvmError('elf-truncated'));
  // A section (.comment, index 11) whose contents run past the end.
  const sec = good.slice();
  new DataView(sec.buffer).setBigUint64(13056 + 11 * 64 + 32, 0x100000n, true);
  assert.throws(() => parseElf(sec, 'test_elf'), (e: unknown) => isIgvmError('elf-bad-section', 'test_elf')(e) && (e as IgvmError).path === 'shdr[11].sh_offset');
  // ... but a big .bss-like NOBITS section is fine.
  const nobits = good.slice();
  new DataView(nobits.buffer).setUint32(13056 + 11 * 64 + 4, SHT_NOBITS, true);
  assert.equal(parseElf(nobits).sections[11]?.size, 0x2an);
  // e_shstrndx out of range, or naming a non-STRTAB section.
  const strndx = good.slice();
  new DataView(strndx.buffer).setUint16(62, 99, true);
  assert.throws(() => parseElf(strndx, 'test_elf'), (e: unknown) => isIgvmError('elf-bad-strtab', 'test_elf')(e) && /out of range/.test((e as Error).message));
  new DataView(strndx.buffer).setUint16(62, 7, true);
  assert.throws(() => parseElf(strndx), isIgvmError('elf-bad-strtab'));
  // A section name offset outside .shstrtab.
  const name = good.slice();
  new DataView(name.buffer).setUint32(13056 + 7 * 64, 0x1000, true);
  assert.throws(() => parseElf(name), isIgvmError('elf-bad-strtab'));
  // Bad e_shentsize.
  const ent = good.slice();
  new DataView(ent.buffer).setUint16(58, 12, true);
  assert.throws(() => parseElf(ent), isIgvmError('elf-bad-header'));
  // .symtab linked to a non-string-table section, or with a tiny sh_entsize.
  const link = good.slice();
  new DataView(link.buffer).setUint32(13056 + 12 * 64 + 40, 7, true);
  assert.throws(() => elfSymbols(parseElf(link), link, 'test_elf'), isIgvmError('elf-bad-symtab', 'test_elf'));
  const symEnt = good.slice();
  new DataView(symEnt.buffer).setBigUint64(13056 + 12 * 64 + 56, 4n, true);
  assert.throws(() => elfSymbols(parseElf(symEnt), symEnt), isIgvmError('elf-bad-symtab'));
  // An image spanning more than 1 GiB.
  const huge = makeElf({ sections: [{ name: '.a', offset: 0x1000, addr: 0x1000, data: A16 }, { name: '.b', offset: 0x1100, addr: 0x80001000, data: B16 }] });
  assert.throws(() => objcopyBinary(parseElf(huge), huge), isIgvmError('elf-image-too-large'));
});

test('fuzz: mutated and truncated test_elf never throws anything but IgvmError', () => {
  const good = testElfBytes();
  const next = rng(1234);
  const pick = (n: number) => Math.floor(next() * n);
  // Where the structure is: ELF header + program headers, and the section header table.
  const regions: [number, number][] = [[0, 64 + 13 * 56], [13056, good.length]];
  let ok = 0;
  let rejected = 0;
  const codes = new Map<string, number>();
  for (let iter = 0; iter < 3000; iter++) {
    let bytes = good.slice();
    const mode = next();
    if (mode < 0.15) {
      bytes = bytes.slice(0, pick(bytes.length));
    } else {
      const edits = 1 + pick(6);
      for (let k = 0; k < edits; k++) {
        const region = next() < 0.8 ? regions[pick(2)]! : [0, bytes.length] as [number, number];
        const at = region[0] + pick(region[1] - region[0]);
        const r = next();
        bytes[at] = r < 0.2 ? 0 : r < 0.35 ? 0xff : r < 0.5 ? bytes[at]! ^ (1 << pick(8)) : pick(256);
      }
      if (next() < 0.1) bytes = bytes.slice(0, bytes.length - pick(2000));
    }
    try {
      const elf = parseElf(bytes, 'fuzz');
      elfSymbols(elf, bytes, 'fuzz');
      const { image } = objcopyBinary(elf, bytes);
      assert.ok(image.length <= 0x40000000);
      ok++;
    } catch (e) {
      if (!(e instanceof IgvmError)) assert.fail(`iteration ${iter}: ${e instanceof Error ? e.stack : String(e)}`);
      rejected++;
      codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
    }
  }
  assert.ok(ok > 300, `some mutants still parse (${ok})`);
  assert.ok(rejected > 300, `some mutants are rejected (${rejected}; ${[...codes].join(' ')})`);
});

