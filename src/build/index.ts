// `igvm build`: a Linux kernel as one NATIVE / SEV-ES / SEV-SNP IGVM file that QEMU 10.2 loads (QEMU-LOADER.md §3–§7, LINUX-NATIVE-BOOT.md, IGVMGEN.md §3.4).
import { IgvmError } from '../errors.js';
import { IgvmBuilder } from '../builder.js';
import { parseIgvm } from '../format/index.js';
import { buildDefaultAcpi } from '../acpi/default.js';
import { encodeCcBlob } from '../igvmgen/linux-boot.js';
import { cpuidPage } from '../igvmgen/cpuid-page.js';
import { measureSnp, type SnpVmm } from '../measure/snp/index.js';
import { signIdBlock, idBlockHeader } from '../snp/id-block.js';
import type { EcPrivateKey } from '../crypto/ec-key.js';
import { PAGE_DATA_TYPE } from '../spec/constants.js';
import { readKernel, PAGE, type KernelImage, type NamedBytes } from './kernel.js';
import { LAYOUT, KVM_VMSA_GPA, e820For, encodeBootParams, qemuRam, type E820Entry, type Machine } from './boot-params.js';
import { nativeEntry, vmsaEntry } from './vp-state.js';
import { checkOptions } from './options.js';

export { LAYOUT, KVM_VMSA_GPA, BP, E820_RAM, E820_RESERVED, type E820Entry, type Machine } from './boot-params.js';
export { readKernel, type KernelImage, type NamedBytes } from './kernel.js';
export { DEFAULT_SNP_POLICY } from './options.js';

export type BuildPlatform = 'native' | 'sev-es' | 'sev-snp';
export type BuildTarget = 'qemu' | 'cloud-hypervisor';
export const BUILD_PLATFORMS: readonly BuildPlatform[] = ['native', 'sev-es', 'sev-snp'];

export interface BuildOptions {
  /** bzImage or ELF, told apart by magic. */
  kernel: NamedBytes;
  initrd?: NamedBytes;
  /** Kernel command line, printable ASCII. */
  cmdline: string;
  /** One file serves all; each gets its own compatibility mask. */
  platforms: readonly BuildPlatform[];
  /** Guest RAM (QEMU -m); the e820 table follows QEMU's split for it. */
  memory: bigint;
  /** vCPUs: the MADT's local APICs, and the vCPU count of the launch digest. */
  vcpus: number;
  target: BuildTarget;
  /** SEV-SNP guest policy (default 0x30000). */
  policy?: bigint;
  /** P-384 key: adds a signed SNP_ID_BLOCK whose ld is the launch digest for `target`. */
  signKey?: EcPrivateKey;
  /** QEMU machine whose below-4G RAM split the e820 follows (default q35; the same as pc below 2.75 GiB). */
  machine?: Machine;
}

export interface BuildDigest {
  platform: 'sev-snp';
  vmm: SnpVmm;
  /** 48-byte launch digest, lower-case hex. */
  digest: string;
}

/** Where things went (GPAs), for tests and the CLI summary. */
export interface BuildLayout {
  kernel: { format: 'bzimage' | 'elf'; start: number; imageEnd: number; end: number; entry: number };
  bootParams: Partial<Record<BuildPlatform, number>>;
  cmdline: number;
  initrd: { addr: number; size: number } | undefined;
  rsdp: number;
  e820: E820Entry[];
  ccBlob: number | undefined;
  cpuid: number | undefined;
  secrets: number | undefined;
  vmsa: bigint | undefined;
}

export interface BuildResult {
  bytes: Uint8Array;
  digests: BuildDigest[];
  notes: string[];
  masks: Partial<Record<BuildPlatform, number>>;
  layout: BuildLayout;
}

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;
const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const alignDown = (v: number, a: number): number => Math.floor(v / a) * a;

/** Build the IGVM file; throws IgvmError naming the option or input that is wrong. */
export function buildIgvm(opts: BuildOptions): BuildResult {
  const o = checkOptions(opts);
  const kernel = readKernel(opts.kernel);
  const notes: string[] = [...kernel.notes];
  const ram = qemuRam(opts.memory, o.machine);
  const e820 = e820For(ram);
  const ramTop = Number(ram.below4g);
  if (kernel.end > ramTop) {
    throw new IgvmError('kernel-too-large', `the kernel needs memory up to ${hex(kernel.end)} (load address ${hex(kernel.start)} + ${kernel.format === 'bzimage' ? 'init_size' : 'segments'}) but --memory gives RAM below 4 GiB up to ${hex(ramTop)}`, { file: opts.kernel.name, path: '--memory' });
  }
  const cmdline = cmdlineBytes(opts.cmdline, kernel, opts.kernel.name);
  const initrd = placeInitrd(opts.initrd, kernel, ramTop);
  const acpi = buildDefaultAcpi({ vcpus: opts.vcpus, base: LAYOUT.acpiBase });
  if (acpi.rsdp !== LAYOUT.rsdp || acpi.acpiEnd > LAYOUT.highRam) throw new Error('internal: default ACPI tables outside the reserved hole');

  const b = new IgvmBuilder();
  // SEV-SNP first: Cloud Hypervisor takes the first platform's mask.
  const masks: Partial<Record<BuildPlatform, number>> = {};
  for (const p of ['sev-snp', 'sev-es', 'native'] as const) {
    if (o.platforms.has(p)) masks[p] = b.platform(p === 'sev-snp' ? 'SEV_SNP' : p === 'sev-es' ? 'SEV_ES' : 'NATIVE');
  }
  const snp = masks['sev-snp'];
  const all = Object.values(masks).reduce((a, m) => a | m, 0);
  const plainMask = (masks.native ?? 0) | (masks['sev-es'] ?? 0);
  const confidential = (masks['sev-snp'] ?? 0) | (masks['sev-es'] ?? 0);
  if (snp !== undefined) b.guestPolicy(o.policy, snp);

  const bootParamsFor = (cc: number | undefined) => encodeBootParams({
    setupHeader: kernel.setupHeader, code32Start: kernel.entry, cmdLinePtr: LAYOUT.cmdline, ramdisk: initrd,
    acpiRsdpAddr: acpi.rsdp, ccBlobAddress: cc, e820,
  });
  const bootParams: Partial<Record<BuildPlatform, number>> = {};
  if (plainMask) {
    b.pages(BigInt(LAYOUT.bootParams), bootParamsFor(undefined), plainMask);
    if (masks.native) bootParams.native = LAYOUT.bootParams;
    if (masks['sev-es']) bootParams['sev-es'] = LAYOUT.bootParams;
  }
  if (snp !== undefined) {
    b.pages(BigInt(LAYOUT.bootParamsSnp), bootParamsFor(LAYOUT.ccBlob), snp);
    bootParams['sev-snp'] = LAYOUT.bootParamsSnp;
  }
  b.pages(BigInt(LAYOUT.cmdline), cmdline, all);

  // QEMU's parameters, each map in its own area (MEMORY_MAP is always written at offset 0, QEMU-LOADER.md §5.5).
  b.parameterArea(0, 0x1000n).parameter('MEMORY_MAP', 0, 0).parameterInsert(BigInt(LAYOUT.memoryMap), all, 0);
  b.parameterArea(1, 0x1000n).parameter('VP_COUNT_PARAMETER', 1, 0).parameter('ENVIRONMENT_INFO_PARAMETER', 1, 4).parameterInsert(BigInt(LAYOUT.vpInfo), all, 1);

  if (snp !== undefined) {
    b.pages(BigInt(LAYOUT.ccBlob), encodeCcBlob(LAYOUT.secrets, LAYOUT.cpuid), snp);
    b.pageData(BigInt(LAYOUT.cpuid), snp, cpuidPage(), { dataType: PAGE_DATA_TYPE.CPUID_DATA });
    b.pageData(BigInt(LAYOUT.secrets), snp, undefined, { dataType: PAGE_DATA_TYPE.SECRETS });
  }
  for (const [gpa, bytes] of [...acpi.pages].sort((x, y) => x[0] - y[0])) b.pages(BigInt(gpa), bytes, all);

  for (const c of kernel.chunks) b.pages(BigInt(c.gpa), c.bytes, all);
  if (confidential && kernel.end > kernel.imageEnd) {
    // Pre-validated (SNP) / encrypted (SEV-ES) zero pages for the decompressor's work area up to init_size.
    for (let gpa = kernel.imageEnd; gpa < kernel.end; gpa += PAGE) b.pageData(BigInt(gpa), confidential);
    notes.push(`confidential platforms: zero pages ${hex(kernel.imageEnd)}..${hex(kernel.end)} (the kernel's init_size) are part of the launch`);
  }
  if (initrd && opts.initrd) b.pages(BigInt(initrd.addr), opts.initrd.bytes, all);

  if (masks.native !== undefined) b.nativeContext(masks.native, 0, nativeEntry({ rip: kernel.entry, rsi: LAYOUT.bootParams }));
  if (masks['sev-es'] !== undefined) b.vmsa(KVM_VMSA_GPA, masks['sev-es'], 0, vmsaEntry({ rip: kernel.entry, rsi: LAYOUT.bootParams }, false));
  if (snp !== undefined) b.vmsa(KVM_VMSA_GPA, snp, 0, vmsaEntry({ rip: kernel.entry, rsi: LAYOUT.bootParamsSnp }, true));

  let bytes = b.toBytes();
  const digests: BuildDigest[] = [];
  if (snp !== undefined) {
    const vmm: SnpVmm = opts.target === 'qemu' ? 'qemu' : 'clh-kvm';
    const measure = (x: Uint8Array) => measureSnp(parseIgvm(x), vmm, { vcpus: opts.vcpus, memory: opts.memory, machine: o.machine }).digest;
    const ld = measure(bytes);
    if (opts.signKey) {
      const fields = { ld, familyId: new Uint8Array(16), imageId: new Uint8Array(16), version: 1, guestSvn: 0, policy: o.policy };
      b.directive(idBlockHeader(fields, signIdBlock(fields, opts.signKey, { deterministic: true }), snp));
      bytes = b.toBytes();
      if (toHex(measure(bytes)) !== toHex(ld)) throw new Error('internal: the ID block changed the launch digest');
      notes.push('SNP_ID_BLOCK signed (ECDSA P-384, RFC 6979 nonce): family_id and image_id zero, version 1, guest_svn 0');
    }
    digests.push({ platform: 'sev-snp', vmm, digest: toHex(ld) });
  }
  if (snp !== undefined) {
    notes.push('SEV-SNP: only the pages in the file are validated at launch; the rest of the e820 RAM is not pre-validated (there is no firmware to accept it) — to be confirmed on SNP hardware');
  }
  if (masks['sev-es'] !== undefined) notes.push('SEV-ES: the launch measurement is an HMAC keyed per launch (MEASUREMENT.md §4.2), so no digest is given');
  notes.push(
    "e820 comes from boot_params (Linux does not read IGVM parameters); QEMU's MEMORY_MAP and VP count are still inserted, unmeasured, at " +
    `${hex(LAYOUT.memoryMap)} and ${hex(LAYOUT.vpInfo)} in the reserved hole`,
  );
  if (opts.target === 'cloud-hypervisor') notes.push("e820 follows QEMU's RAM split for --memory; check it against Cloud Hypervisor's layout before relying on it");
  return {
    bytes, digests, notes, masks,
    layout: {
      kernel: { format: kernel.format, start: kernel.start, imageEnd: kernel.imageEnd, end: kernel.end, entry: kernel.entry },
      bootParams, cmdline: LAYOUT.cmdline, initrd, rsdp: acpi.rsdp, e820,
      ccBlob: snp !== undefined ? LAYOUT.ccBlob : undefined,
      cpuid: snp !== undefined ? LAYOUT.cpuid : undefined,
      secrets: snp !== undefined ? LAYOUT.secrets : undefined,
      vmsa: confidential ? KVM_VMSA_GPA : undefined,
    },
  };
}

/** The command line + NUL, checked against the kernel's cmdline_size and the space before the reserved area. */
function cmdlineBytes(cmdline: string, kernel: KernelImage, file: string): Uint8Array {
  const room = LAYOUT.reservedStart - LAYOUT.cmdline - 1;
  const max = Math.min(kernel.cmdlineMax ?? room, room);
  if (cmdline.length > max) {
    const why = kernel.cmdlineMax !== undefined && kernel.cmdlineMax <= room ? `the kernel's cmdline_size (setup header 0x238) is ${kernel.cmdlineMax}` : `at most ${room} bytes fit`;
    throw new IgvmError('cmdline-too-long', `the command line is ${cmdline.length} bytes; ${why}`, { file, path: '--cmdline' });
  }
  const out = new Uint8Array(cmdline.length + 1);
  for (let i = 0; i < cmdline.length; i++) out[i] = cmdline.charCodeAt(i);
  return out;
}

/** The initrd, page-aligned, as high as possible below the top of low RAM and initrd_addr_max, above the kernel. */
function placeInitrd(initrd: NamedBytes | undefined, kernel: KernelImage, ramTop: number): { addr: number; size: number } | undefined {
  if (initrd === undefined || initrd.bytes.length === 0) return undefined;
  const top = Math.min(ramTop, kernel.initrdLimit);
  const addr = alignDown(top - initrd.bytes.length, PAGE);
  if (addr < kernel.end) {
    throw new IgvmError('initrd-too-large', `initrd too large for --memory: ${initrd.bytes.length} bytes do not fit between the kernel's end ${hex(kernel.end)} and ${hex(top)} (top of RAM below 4 GiB${top < ramTop ? ', capped by initrd_addr_max' : ''})`, { file: initrd.name, path: '--initrd' });
  }
  return { addr, size: initrd.bytes.length };
}
