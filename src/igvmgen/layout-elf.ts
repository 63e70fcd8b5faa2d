// igvmgen -inform elf: the security-monitor layout, monitor_params and the VMPL2 kernel's boot_params (IGVMGEN.md §5).
import { IgvmError } from '../errors.js';
import type { AcpiImage } from '../acpi/image.js';
import { alignUp, PAGE, type GuestMemory } from './guest-memory.js';
import { placeAcpi, placeFixedPages } from './layout-common.js';
import { CPUID_GPA, SECRETS_GPA, PARAM_GPA } from './emit.js';
import { readSetupHeader, encodeBootParams, E820_ACPI, E820_RAM, E820_RESERVED, type E820Entry } from './linux-boot.js';
import { layoutGdt, layoutPaging2, layoutPaging4, type BootMode, type PagingState } from './x86-state.js';
import { findSection, objcopyBinary, parseElf } from './elf.js';
import type { LayoutResult, NamedInput } from './layout-bzimage.js';

export interface ElfOptions {
  kernel: NamedInput;
  /** Command line bytes; the NUL terminator is added here. */
  cmdline: Uint8Array;
  vmpl2Kernel: NamedInput | undefined;
  bootMode: BootMode;
  pgtableLevel: number | undefined;
  encryptedPage: boolean;
  acpi: AcpiImage;
}

/** Where the VMPL2 kernel is copied. */
export const VMPL2_GPA = 0x3d00000;

export function layoutElf(mem: GuestMemory, o: ElfOptions): LayoutResult {
  const elf = parseElf(o.kernel.bytes, o.kernel.name);
  const text = findSection(elf, '.text');
  if (!text) throw new IgvmError('elf-no-text', 'the ELF has no .text section; igvmgen computes the entry point from it', { file: o.kernel.name, path: '.text' });
  const { image } = objcopyBinary(elf, o.kernel.bytes);
  const vmpl2Hdr = o.vmpl2Kernel ? readSetupHeader(o.vmpl2Kernel.bytes, o.vmpl2Kernel.name) : undefined;
  if (o.bootMode === 'x64' && o.pgtableLevel !== 2 && o.pgtableLevel !== 4) {
    throw new IgvmError('elf-pgtable-level', o.pgtableLevel === undefined
      ? '-inform elf -boot_mode x64 needs -pgtable_level 2 or 4'
      : `-pgtable_level ${o.pgtableLevel}: expected 2 or 4`, { path: '-pgtable_level' });
  }
  const validated: [number, number][] = [];

  placeAcpi(mem, o.acpi, false);
  placeFixedPages(mem);
  const stack = mem.allocate(0x1000, 16);
  const cmd = new Uint8Array(o.cmdline.length + 1);
  cmd.set(o.cmdline);
  const cl = mem.allocate(cmd.length);
  mem.write(cl, cmd);
  let paging: PagingState | undefined;
  if (o.bootMode === 'x64') paging = o.pgtableLevel === 4 ? layoutPaging4(mem, o.encryptedPage) : layoutPaging2(mem, o.encryptedPage);
  validated.push([stack, mem.cursor - stack]);

  const start = alignUp(mem.cursor, PAGE);
  mem.seek(start, 'ELF image');
  mem.allocate(image.length, PAGE);
  mem.write(start, image);
  validated.push([start, image.length]);
  // The original's entry and monitor-end arithmetic, kept as is (§5 steps 8–9, quirk ★8).
  const entryBig = BigInt(start) + (elf.entry - text.addr);
  let maxEnd = 0n;
  for (const s of elf.sections) if (s.addr + s.size > maxEnd) maxEnd = s.addr + s.size;
  const monitorEndBig = maxEnd - text.addr + entryBig;
  if (entryBig < 0n || entryBig >= 2n ** 52n || monitorEndBig >= 2n ** 52n) {
    throw new IgvmError('elf-bad-entry', `entry 0x${elf.entry.toString(16)} and .text at 0x${text.addr.toString(16)} give a guest address out of range`, { file: o.kernel.name, path: 'e_entry' });
  }
  const entry = Number(entryBig);
  const monitorEnd = Math.max(alignUp(mem.cursor, PAGE), alignUp(Math.max(0, Number(monitorEndBig)), PAGE));
  mem.seek(monitorEnd, 'monitor end');

  const a = mem.cursor;
  const segments = layoutGdt(mem, o.bootMode);
  const monitorParams = mem.allocate(48);
  const bootParams = mem.allocate(PAGE);
  validated.push([a, mem.cursor - a]);

  if (mem.cursor > VMPL2_GPA) {
    throw new IgvmError('layout-overlap', `the monitor layout ends at 0x${mem.cursor.toString(16)}, beyond 0x${VMPL2_GPA.toString(16)} where the VMPL2 kernel goes`);
  }
  mem.seek(VMPL2_GPA, 'VMPL2 kernel');
  const vmpl2Bytes = o.vmpl2Kernel?.bytes ?? new Uint8Array(0);
  mem.allocate(vmpl2Bytes.length, PAGE);
  mem.write(VMPL2_GPA, vmpl2Bytes);
  validated.push([VMPL2_GPA, vmpl2Bytes.length]);

  const e820: E820Entry[] = [
    { addr: 0, size: 0, type: E820_RAM },
    { addr: 0xa0000, size: 0x60000, type: E820_RESERVED },
    { addr: 0x100000, size: o.acpi.acpiEnd - 0x100000, type: E820_ACPI },
    { addr: CPUID_GPA, size: 0x4000, type: E820_RESERVED },
    ...validated.map(([addr, size]) => ({ addr, size, type: E820_RESERVED })),
  ];
  mem.write(bootParams, encodeBootParams({
    setupHeader: vmpl2Hdr?.raw,
    cmdLinePtr: cl,
    cmdlineSize: cmd.length,
    acpiRsdpAddr: o.acpi.rsdp,
    e820,
  }));
  const params = new Uint8Array(48);
  const dv = new DataView(params.buffer);
  [CPUID_GPA, SECRETS_GPA, PARAM_GPA, bootParams, VMPL2_GPA, vmpl2Bytes.length].forEach((v, i) => dv.setBigUint64(i * 8, BigInt(v), true));
  mem.write(monitorParams, params);
  return {
    vmsa: { mode: o.bootMode, segments, paging, rip: entry, rsp: stack + 0x1000, rsi: monitorParams },
    sharedRange: undefined,
    stdout: [],
    log: [`elf: image 0x${start.toString(16)} (${image.length} bytes) entry 0x${entry.toString(16)} monitor_params 0x${monitorParams.toString(16)} boot_params 0x${bootParams.toString(16)}`],
  };
}
