// igvmgen -inform bzImage / bzImage2: Linux kernel layout, boot_params, e820 and cc_blob (IGVMGEN.md §3, §4).
import { IgvmError } from '../errors.js';
import type { AcpiImage } from '../acpi/image.js';
import { alignUp, hexSigned, PAGE, type GuestMemory } from './guest-memory.js';
import { placeAcpi, placeFixedPages } from './layout-common.js';
import { CPUID_GPA, SECRETS_GPA } from './emit.js';
import {
  readSetupHeader, protectedModeImage, encodeBootParams, encodeCcBlob, E820_ACPI, E820_RAM, E820_RESERVED, type E820Entry,
} from './linux-boot.js';
import { layoutGdt, layoutPaging2, type BootMode, type VmsaInputs } from './x86-state.js';
import { elfSymbols, parseElf } from './elf.js';

export interface NamedInput {
  name: string;
  bytes: Uint8Array;
}

export interface BzImageOptions {
  kernel: NamedInput;
  cmdline: Uint8Array;
  initrd: NamedInput | undefined;
  symbolElf: NamedInput | undefined;
  sharedPayload: NamedInput | undefined;
  bootMode: BootMode;
  pvalidateOpt: boolean;
  encryptedPage: boolean;
  acpi: AcpiImage;
}

export interface LayoutResult {
  vmsa: Omit<VmsaInputs, 'svme' | 'intel'>;
  sharedRange: { start: number; end: number } | undefined;
  /** Lines the original prints to stdout during layout. */
  stdout: string[];
  /** Notable addresses for logs. */
  log: string[];
}

/** GPA of the bzImage2 shared payload. */
export const SHARED_PAYLOAD_GPA = 0x10000000;

/** Pre-validated regions (offset from pref_address, size) of §3.3 step 4. */
function extraRegions(o: BzImageOptions, vmlinuxSize: number, initSize: number): [number, number][] {
  if (!o.symbolElf) return [[vmlinuxSize + 0x10000, 0x4000], [initSize - 0x7000, 0x7000]];
  const elf = parseElf(o.symbolElf.bytes, o.symbolElf.name);
  const syms = elfSymbols(elf, o.symbolElf.bytes, o.symbolElf.name);
  const file = o.symbolElf.name;
  const one = (name: string): { value: number; size: number } => {
    const found = syms.filter((s) => s.name === name);
    if (found.length !== 1) {
      throw new IgvmError('symbol-elf-missing', `the symbol table must define ${name} exactly once; found ${found.length}`, { file, path: name });
    }
    const s = found[0]!;
    return { value: Number(s.value), size: Number(s.size) };
  };
  const end = one('_end');
  const stack = one('boot_stack');
  const pgtable = one('pgtable');
  const regions: [number, number][] = [[stack.value, stack.size], [initSize - end.value + pgtable.value, pgtable.size]];
  return regions.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
}

/** A pre-validated region must be page-aligned, start at or after `used` (offset from pref_address) and end by init_size. */
function checkRegion(o: BzImageOptions, used: number, off: number, size: number, initSize: number, vmlinuxSize: number): void {
  const ok = off % PAGE === 0 && off >= used && off + size <= initSize;
  if (ok) return;
  const region = `[pref_address${off < 0 ? ' - ' : ' + '}0x${Math.abs(off).toString(16)}, +0x${size.toString(16)})`;
  const why = off % PAGE !== 0 ? 'is not page-aligned' : off < used ? `starts before offset 0x${used.toString(16)}, where the previous region ends (the image is 0x${vmlinuxSize.toString(16)} bytes)` : `ends beyond init_size 0x${initSize.toString(16)}`;
  if (o.symbolElf) {
    throw new IgvmError('bzimage-regions', `the pre-validated region ${region} from the boot_stack/pgtable/_end symbols ${why}`, { file: o.symbolElf.name, path: '.symtab' });
  }
  throw new IgvmError('bzimage-regions', `init_size 0x${initSize.toString(16)} is too small for this kernel: the default pre-validated region ${region} ${why}`, { file: o.kernel.name, offset: 0x260, path: 'setup_header.init_size' });
}

export function layoutBzImage(mem: GuestMemory, o: BzImageOptions): LayoutResult {
  // The original parses -symbol_elf up front (even when pvalidate_opt is false and its symbols go unused).
  if (o.symbolElf) parseElf(o.symbolElf.bytes, o.symbolElf.name);
  const hdr = readSetupHeader(o.kernel.bytes, o.kernel.name);
  const vmlinux = protectedModeImage(o.kernel.bytes, hdr);
  const vmlinuxSize = alignUp(vmlinux.length, PAGE);
  const pref = hdr.prefAddress;
  const entry = o.bootMode === 'x64' ? pref + 0x200 : pref;
  const log: string[] = [`kernel: pref_address 0x${pref.toString(16)} init_size 0x${hdr.initSize.toString(16)} image ${vmlinux.length} bytes`];
  const validated: [number, number][] = [];
  const at = (what: string): string => `${what} (pref_address 0x${pref.toString(16)})`;

  placeAcpi(mem, o.acpi, !o.pvalidateOpt);
  placeFixedPages(mem);
  if (pref < mem.cursor) {
    throw new IgvmError('bzimage-low-pref-address', `pref_address 0x${pref.toString(16)} is below 0x${mem.cursor.toString(16)}, the end of igvmgen's fixed pages`, { file: o.kernel.name, offset: 0x258, path: 'setup_header.pref_address' });
  }
  mem.seek(pref, at('kernel'));
  if (!o.pvalidateOpt) {
    if (vmlinux.length > hdr.initSize) {
      throw new IgvmError('bzimage-too-large', `the protected-mode image (${vmlinux.length} bytes) is larger than init_size 0x${hdr.initSize.toString(16)}`, { file: o.kernel.name, offset: 0x260, path: 'setup_header.init_size' });
    }
    mem.allocate(hdr.initSize);
    mem.write(pref, vmlinux);
  } else {
    mem.allocate(vmlinuxSize);
    for (const [off, size] of extraRegions(o, vmlinuxSize, hdr.initSize)) {
      checkRegion(o, mem.cursor - pref, off, size, hdr.initSize, vmlinuxSize);
      mem.seek(pref + off, at(`pre-validated region at offset ${hexSigned(off)}`));
      mem.allocate(size);
      validated.push([pref + off, size]);
    }
    mem.write(pref, vmlinux);
  }
  mem.seek(pref + hdr.initSize, at('end of init_size'));

  // After-code area (§3.4).
  const start = mem.cursor;
  const paging = o.bootMode === 'x64' ? layoutPaging2(mem, o.encryptedPage) : undefined;
  const segments = layoutGdt(mem, o.bootMode);
  const bootParams = mem.allocate(PAGE);
  const cmdline = mem.allocate(o.cmdline.length + 1);
  mem.write(cmdline, o.cmdline);
  const initrdBytes = o.initrd?.bytes ?? new Uint8Array(0);
  const initrd = mem.allocate(initrdBytes.length, PAGE);
  mem.write(initrd, initrdBytes);
  const stack = mem.allocate(PAGE);
  const ccBlob = mem.allocate(PAGE);
  const end = mem.allocate(0, PAGE);
  validated.push([start, end - start]);
  mem.write(ccBlob, encodeCcBlob(SECRETS_GPA, CPUID_GPA));

  const e820: E820Entry[] = [
    { addr: 0, size: o.pvalidateOpt ? 0 : 0xa0000, type: E820_RAM },
    { addr: 0xa0000, size: 0x60000, type: E820_RESERVED },
    { addr: 0x100000, size: o.acpi.acpiEnd - 0x100000, type: E820_ACPI },
    { addr: pref, size: o.pvalidateOpt ? vmlinuxSize : end - pref, type: E820_RAM },
  ];
  if (o.pvalidateOpt) for (const [addr, size] of validated) e820.push({ addr, size, type: E820_RAM });
  mem.write(bootParams, encodeBootParams({
    setupHeader: hdr.raw,
    typeOfLoader: 0xff,
    code32Start: entry,
    ramdiskImage: initrd,
    ramdiskSize: initrdBytes.length,
    cmdLinePtr: cmdline,
    cmdlineSize: o.cmdline.length,
    acpiRsdpAddr: o.acpi.rsdp,
    ccBlobAddress: ccBlob,
    e820,
  }));
  log.push(`boot_params 0x${bootParams.toString(16)} cmdline 0x${cmdline.toString(16)} initrd 0x${initrd.toString(16)} (${initrdBytes.length} bytes) stack 0x${stack.toString(16)} cc_blob 0x${ccBlob.toString(16)} end 0x${end.toString(16)}`);

  let sharedRange: { start: number; end: number } | undefined;
  const stdout: string[] = [];
  if (o.sharedPayload) {
    mem.seek(SHARED_PAYLOAD_GPA, 'shared payload');
    const p = mem.allocate(o.sharedPayload.bytes.length);
    mem.write(p, o.sharedPayload.bytes);
    sharedRange = { start: p, end: p + o.sharedPayload.bytes.length };
    stdout.push(`write_not_validated ${sharedRange.start.toString(16)} ${sharedRange.end.toString(16)}`);
  }
  return {
    vmsa: { mode: o.bootMode, segments, paging, rip: entry, rsp: stack + PAGE, rsi: bootParams },
    sharedRange,
    stdout,
    log,
  };
}
