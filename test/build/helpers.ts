// Shared fixtures for the `igvm build` tests: a synthetic bzImage with the setup-header jump, ELF kernels from as + ld, ACPI/boot_params readers.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeBzImage, pseudoRandom, type BzImageSpec } from '../../src/examples/synthetic-bzimage.js';

/**
 * makeBzImage with the short jump at 0x200 that every real bzImage has: its displacement (byte 0x201) gives the end of
 * the setup header, 0x202 + 0x6A = 0x26C for protocol 2.15 (makeBzImage leaves both bytes zero).
 */
export function bzImage(spec: Partial<BzImageSpec> & { version?: number; relocatable?: boolean } = {}): Uint8Array {
  const k = makeBzImage({ payload: spec.payload ?? pseudoRandom(3 * 4096 + 100, 7), ...spec });
  k[0x200] = 0xeb;
  k[0x201] = 0x6a;
  if (spec.version !== undefined) new DataView(k.buffer).setUint16(0x206, spec.version, true);
  if (spec.relocatable === false) k[0x234] = 0;
  return k;
}

export const SETUP_SECTS = 4;
export const protectedMode = (k: Uint8Array): Uint8Array => k.subarray((SETUP_SECTS + 1) * 512);

/** Assemble and link an ELF kernel; `script` is a GNU ld linker script. */
export function linkElf(source: string, args: { bits: 32 | 64; script?: string; ldArgs?: string[] }): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'igvm-build-elf-'));
  try {
    writeFileSync(join(dir, 'k.s'), source);
    execFileSync('as', [args.bits === 32 ? '--32' : '--64', '-o', join(dir, 'k.o'), join(dir, 'k.s')]);
    const ld = ['-m', args.bits === 32 ? 'elf_i386' : 'elf_x86_64', '-nostdlib', '-static', '-e', '_start', '-o', join(dir, 'k.elf')];
    if (args.script) {
      writeFileSync(join(dir, 'k.ld'), args.script);
      ld.push('-T', join(dir, 'k.ld'));
    }
    execFileSync('ld', [...ld, ...(args.ldArgs ?? []), join(dir, 'k.o')]);
    return new Uint8Array(readFileSync(join(dir, 'k.elf')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two PT_LOADs: code at 0x200000, data (with .bss) at 0x300000. */
export function elf32(): Uint8Array {
  return linkElf(
    '.code32\n.text\n.globl _start\n_start: hlt\njmp _start\n.data\nmsg: .ascii "igvm build elf"\n.bss\n.lcomm buf, 8192\n',
    { bits: 32, script: 'ENTRY(_start)\nSECTIONS {\n . = 0x200000;\n .text : { *(.text) }\n . = 0x300000;\n .data : { *(.data) }\n .bss : { *(.bss) }\n}\n' },
  );
}

/** 64-bit ELF linked high (vaddr 0xffffffff80400000) and loaded low (paddr 0x400000). */
export function elf64(): Uint8Array {
  return linkElf('.code32\n.text\n.globl _start\nnop\n_start: hlt\njmp _start\n', {
    bits: 64,
    script: 'ENTRY(_start)\nSECTIONS {\n . = 0xffffffff80400000;\n .text : AT(0x400000) { *(.text) }\n}\n',
  });
}

export const u8 = (b: Uint8Array, at: number): number => b[at]!;
export const u32 = (b: Uint8Array, at: number): number => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
export const u64 = (b: Uint8Array, at: number): bigint => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(at, true);
export const ascii = (b: Uint8Array): string => String.fromCharCode(...b);

/** Count the enabled local APICs of the MADT reachable from the RSDP at `rsdp`. */
export function madtCpus(read: (gpa: bigint, size: bigint) => Uint8Array, rsdp: bigint): number {
  const r = read(rsdp, 36n);
  if (ascii(r.subarray(0, 8)) !== 'RSD PTR ') throw new Error(`no RSDP at 0x${rsdp.toString(16)}`);
  const xsdtAt = u64(r, 24);
  const xsdtLen = u32(read(xsdtAt, 36n), 4);
  const xsdt = read(xsdtAt, BigInt(xsdtLen));
  for (let at = 36; at < xsdtLen; at += 8) {
    const t = u64(xsdt, at);
    const head = read(t, 36n);
    if (ascii(head.subarray(0, 4)) !== 'APIC') continue;
    const madt = read(t, BigInt(u32(head, 4)));
    let cpus = 0;
    for (let e = 44; e < madt.length; e += u8(madt, e + 1)) if (u8(madt, e) === 0 && (u32(madt, e + 4) & 1) === 1) cpus++;
    return cpus;
  }
  throw new Error('no MADT in the XSDT');
}
