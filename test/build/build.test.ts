// buildIgvm: synthetic bzImage and as+ld ELF kernels → files that validate and that the QEMU 10.2 model loads per platform; the plan's memory and vCPU state; errors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { installNodeHash } from '../../src/io/node-hash.js';
import { installNodeEc } from '../../src/io/node-ec.js';
import { buildIgvm, LAYOUT, KVM_VMSA_GPA, BP, type BuildOptions, type BuildPlatform, type BuildResult } from '../../src/build/index.js';
import { validateIgvm } from '../../src/validate/index.js';
import { loadIgvm, ramLayout, type LoadPlan } from '../../src/load/index.js';
import { parseIgvm } from '../../src/format/index.js';
import { measureSnp } from '../../src/measure/snp/index.js';
import { decodeVmsa } from '../../src/format/contexts.js';
import { randomP384Key, verifyIdBlockSignature, idSignatureFromHeader } from '../../src/snp/id-block.js';
import { pseudoRandom } from '../../src/examples/synthetic-bzimage.js';
import { IgvmError } from '../../src/errors.js';
import { bzImage, protectedMode, elf32, elf64, madtCpus, u8, u32, u64, ascii } from './helpers.js';

installNodeHash();
installNodeEc();

const MiB = 1n << 20n;
const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
const QEMU_TYPES = new Set(['PAGE_DATA', 'VP_CONTEXT', 'PARAMETER_AREA', 'PARAMETER_INSERT', 'MEMORY_MAP', 'VP_COUNT_PARAMETER', 'ENVIRONMENT_INFO_PARAMETER', 'REQUIRED_MEMORY', 'SNP_ID_BLOCK', 'GUEST_POLICY']);
const ACCEL = { native: 'tcg', 'sev-es': 'kvm', 'sev-snp': 'kvm' } as const;

function build(o: Partial<BuildOptions> = {}): BuildResult {
  return buildIgvm({ kernel: { name: 'bzImage', bytes: bzImage() }, cmdline: 'console=ttyS0 panic=-1', platforms: ['native'], memory: 512n * MiB, vcpus: 1, target: 'qemu', ...o });
}

/** validateIgvm without errors or warnings, only header types QEMU handles, and a successful load per platform. */
function checkFile(r: BuildResult, platforms: readonly BuildPlatform[], memory: bigint, vcpus: number): Record<string, LoadPlan> {
  const v = validateIgvm(r.bytes);
  assert.equal(v.errors, 0, JSON.stringify(v.problems));
  assert.equal(v.warnings, 0, JSON.stringify(v.problems));
  const file = parseIgvm(r.bytes);
  for (const h of [...file.directives, ...file.initializations]) assert.ok(QEMU_TYPES.has(h.type), `QEMU 10.2 rejects ${h.type}`);
  const plans: Record<string, LoadPlan> = {};
  for (const p of platforms) {
    const l = loadIgvm(r.bytes, { platform: p, accel: ACCEL[p], memory, vcpus });
    assert.ok(l.ok, `${p}: ${l.ok ? '' : l.failure.message}`);
    assert.equal(l.plan.platform.mask, r.masks[p]);
    plans[p] = l.plan;
  }
  return plans;
}

const cstring = (plan: LoadPlan, gpa: bigint): string => {
  const b = plan.memory.read(gpa, 4096n);
  return ascii(b.subarray(0, b.indexOf(0)));
};

function checkBootParams(plan: LoadPlan, bp: number, o: { kernel: Uint8Array; cmdline: string; vcpus: number; memory: bigint; initrd?: Uint8Array; cc?: number }): void {
  const p = plan.memory.read(BigInt(bp), 4096n);
  // The header as the kernel has it, apart from the fields a boot loader writes: type_of_loader, code32_start, ramdisk, cmd_line_ptr.
  const masked = (b: Uint8Array): Uint8Array => Uint8Array.from(b.subarray(0x1f1, 0x26c)).fill(0, 0x210 - 0x1f1, 0x211 - 0x1f1).fill(0, 0x214 - 0x1f1, 0x220 - 0x1f1).fill(0, 0x228 - 0x1f1, 0x22c - 0x1f1);
  assert.deepEqual(masked(p), masked(o.kernel), 'setup header copied');
  assert.equal(hex(p.subarray(0x26c, 0x290)), '00'.repeat(0x24), 'nothing past the header end (0x202 + byte 0x201)');
  assert.equal(u8(p, BP.typeOfLoader), 0xff);
  assert.equal(u32(p, BP.code32Start), 0x1000000);
  assert.equal(u32(p, 0x230), 0x200000, 'kernel_alignment from the header');
  assert.equal(u32(p, 0x260), 0x2000000, 'init_size from the header');
  assert.equal(u32(p, 0x238), 2048, "the kernel's cmdline_size is kept");
  assert.equal(u8(p, 0x1ef), 0, 'sentinel');
  assert.equal(cstring(plan, BigInt(u32(p, BP.cmdLinePtr))), o.cmdline);
  const ram = ramLayout({ memory: o.memory, machine: 'q35', accel: 'kvm', cpuVendor: 'amd', physBits: 48 });
  const e820 = Array.from({ length: u8(p, BP.e820Entries) }, (_, i) => [u64(p, 0x2d0 + i * 20), u64(p, 0x2d8 + i * 20), u32(p, 0x2e0 + i * 20)]);
  const want: [bigint, bigint, number][] = [[0n, 0x9a000n, 1], [0x9a000n, 0x66000n, 2], [0x100000n, ram.below4g - 0x100000n, 1]];
  if (ram.above4g > 0n) want.push([ram.above4gStart, ram.above4g, 1]);
  assert.deepEqual(e820, want);
  assert.equal(madtCpus((g, s) => plan.memory.read(g, s), u64(p, BP.acpiRsdpAddr)), o.vcpus);
  if (o.initrd) {
    const at = u32(p, BP.ramdiskImage);
    assert.equal(u32(p, BP.ramdiskSize), o.initrd.length);
    assert.equal(at % 4096, 0);
    assert.ok(at + o.initrd.length <= Number(ram.below4g) && at + o.initrd.length + 4096 > Number(ram.below4g), 'at the top of low RAM');
    assert.ok(at >= 0x3000000, 'above the kernel and its init_size');
    assert.equal(hex(plan.memory.read(BigInt(at), BigInt(o.initrd.length))), hex(o.initrd));
  } else {
    assert.equal(u32(p, BP.ramdiskImage), 0);
    assert.equal(u32(p, BP.ramdiskSize), 0);
  }
  assert.equal(u32(p, BP.ccBlobAddress), o.cc ?? 0);
}

test('bzImage for native, SEV-ES and SEV-SNP: validates, loads per platform, boot_params / kernel / contexts as specified', () => {
  const kernel = bzImage();
  const initrd = pseudoRandom(3 * 4096 + 17, 9);
  const cmdline = 'console=ttyS0 panic=-1 root=/dev/vda';
  const platforms = ['native', 'sev-es', 'sev-snp'] as const;
  const r = build({ kernel: { name: 'bz', bytes: kernel }, initrd: { name: 'initrd', bytes: initrd }, cmdline, platforms, vcpus: 4 });
  const plans = checkFile(r, platforms, 512n * MiB, 4);
  const native = plans['native']!;
  const es = plans['sev-es']!;
  const snp = plans['sev-snp']!;
  for (const plan of [native, es, snp]) {
    assert.equal(hex(plan.memory.read(0x1000000n, BigInt(protectedMode(kernel).length))), hex(protectedMode(kernel)), 'kernel at pref_address');
  }
  checkBootParams(native, LAYOUT.bootParams, { kernel, cmdline, vcpus: 4, memory: 512n * MiB, initrd });
  checkBootParams(es, LAYOUT.bootParams, { kernel, cmdline, vcpus: 4, memory: 512n * MiB, initrd });
  checkBootParams(snp, LAYOUT.bootParamsSnp, { kernel, cmdline, vcpus: 4, memory: 512n * MiB, initrd, cc: LAYOUT.ccBlob });

  // Native context (QEMU-LOADER.md §6).
  const vp = native.vps[0]!;
  assert.equal(vp.source, 'igvm-native');
  const regs = vp.registers;
  assert.equal(regs.rip, 0x1000000n);
  assert.equal(regs.rsi, BigInt(LAYOUT.bootParams));
  assert.equal(regs.cr0, 0x11n);
  assert.equal(regs.cr4, 0n);
  assert.equal(regs.efer, 0n);
  assert.equal(regs.rflags, 2n);
  assert.deepEqual([regs.cs.selector, regs.cs.base, regs.cs.limit], [0x10, 0n, 0xffffffff]);
  for (const s of [regs.ds, regs.es, regs.ss, regs.fs, regs.gs]) assert.deepEqual([s.selector, s.base, s.limit], [0x18, 0n, 0xffffffff]);
  const file = parseIgvm(r.bytes);
  const ctx = file.directives.filter((d) => d.type === 'VP_CONTEXT');
  const nat = ctx.find((d) => d.compatibility_mask === r.masks.native)!;
  assert.ok(nat.context.kind === 'native-x64');
  const nd = new DataView(nat.context.data.buffer, nat.context.data.byteOffset);
  assert.deepEqual([nd.getUint16(0xaa, true), nd.getUint16(0xb6, true)], [0xc09b, 0xc093], 'native attribute encoding');

  // VMSAs (§7.3).
  for (const [plan, mask, bp, features] of [[es, r.masks['sev-es'], LAYOUT.bootParams, 0n], [snp, r.masks['sev-snp'], LAYOUT.bootParamsSnp, 1n]] as const) {
    const d = ctx.find((c) => c.compatibility_mask === mask)!;
    assert.equal(d.gpa, KVM_VMSA_GPA);
    assert.ok(d.context.kind === 'vmsa');
    const v = decodeVmsa(d.context.data);
    assert.equal(v.sev_features, features);
    assert.equal(v.rip, 0x1000000n);
    assert.equal(v.rsi, BigInt(bp));
    assert.equal(v.cr0, 0x11n);
    assert.deepEqual([v.cs.selector, v.cs.attrib, v.cs.limit], [0x10, 0xc9b, 0xffffffff]);
    assert.deepEqual([v.ds.selector, v.ds.attrib], [0x18, 0xc93]);
    assert.equal(v.vmpl, 0);
    assert.equal(v.virtual_tom, 0n);
    assert.equal(plan.vps[0]!.source, 'igvm-vmsa');
    assert.equal(plan.vps[0]!.registers.rip, 0x1000000n);
  }
  assert.equal(snp.snp!.sevFeatures, 1n);
  assert.equal(snp.guestPolicy, 0x30000n);

  // SNP: cc_blob → secrets and CPUID pages with their IGVM types.
  const cc = snp.memory.read(BigInt(LAYOUT.ccBlob), 40n);
  assert.equal(ascii(cc.subarray(0, 4)), 'AMDE');
  assert.equal(u64(cc, 8), BigInt(LAYOUT.secrets));
  assert.equal(u64(cc, 24), BigInt(LAYOUT.cpuid));
  const types = new Map(snp.snp!.launchUpdates.map((u) => [u.gpa, u.pageType]));
  assert.equal(types.get(BigInt(LAYOUT.cpuid)), 6, 'CPUID (SNP page type 6)');
  assert.equal(types.get(BigInt(LAYOUT.secrets)), 5, 'SECRETS (5)');
  assert.equal(types.get(BigInt(LAYOUT.memoryMap)), 4, 'UNMEASURED (4)');
  // The native load does not see the SNP pages.
  assert.equal(hex(native.memory.read(BigInt(LAYOUT.ccBlob), 4n)), '00000000');

  // Parameters: QEMU's map at offset 0 of its own area, VP count / environment info in the other.
  const areas = native.parameterAreas;
  assert.equal(areas.length, 2);
  assert.deepEqual(areas[0]!.insertedAt?.gpa, BigInt(LAYOUT.memoryMap));
  assert.equal(u32(native.memory.read(BigInt(LAYOUT.vpInfo), 8n), 0), 4);
  assert.equal(u32(native.memory.read(BigInt(LAYOUT.vpInfo), 8n), 4), 1);

  // The digest is the QEMU/KVM model's for 4 vCPUs.
  assert.deepEqual(r.digests, [{ platform: 'sev-snp', vmm: 'qemu', digest: hex(measureSnp(file, 'qemu', { vcpus: 4 }).digest) }]);
  assert.equal(r.layout.kernel.end, 0x3000000);
});

test('native only: no SNP pages, no VMSA; memory above the 4G split gets a high e820 entry like QEMU', () => {
  const memory = 5n << 30n;
  const r = build({ memory });
  const plans = checkFile(r, ['native'], memory, 1);
  const file = parseIgvm(r.bytes);
  assert.equal(file.platforms.length, 1);
  assert.ok(!file.directives.some((d) => d.type === 'VP_CONTEXT' && d.context.kind === 'vmsa'));
  assert.ok(!file.directives.some((d) => d.type === 'PAGE_DATA' && d.data_type !== 0));
  assert.deepEqual(r.digests, []);
  const p = plans['native']!.memory.read(BigInt(LAYOUT.bootParams), 4096n);
  assert.equal(u8(p, BP.e820Entries), 4);
  assert.deepEqual([u64(p, 0x2d0 + 3 * 20), u64(p, 0x2d8 + 3 * 20)], [1n << 32n, 3n << 30n]);
  assert.equal(u64(p, 0x2d8 + 2 * 20), (2n << 30n) - 0x100000n, 'q35 keeps 2 GiB below 4 GiB');
  // QEMU's own map (parameter area 0) agrees on the RAM.
  const map = plans['native']!.parameterAreas[0]!.writes[0]!.entries!;
  assert.deepEqual(map.filter((e) => e.entryType === 0).map((e) => [e.startingPage << 12n, e.pageCount << 12n]), [[0n, 2n << 30n], [1n << 32n, 3n << 30n]]);
});

test('non-relocatable kernel loads at 0x1000000 whatever its pref_address', () => {
  const r = build({ kernel: { name: 'bz', bytes: bzImage({ prefAddress: 0x2000000, relocatable: false }) } });
  checkFile(r, ['native'], 512n * MiB, 1);
  assert.equal(r.layout.kernel.start, 0x1000000);
  assert.match(r.notes.join('\n'), /not relocatable/);
});

test('relocatable kernel with another pref_address goes there', () => {
  const kernel = bzImage({ prefAddress: 0x400000 });
  const r = build({ kernel: { name: 'bz', bytes: kernel }, platforms: ['native', 'sev-snp'] });
  const plans = checkFile(r, ['native', 'sev-snp'], 512n * MiB, 1);
  assert.equal(plans['native']!.vps[0]!.registers.rip, 0x400000n);
  assert.equal(hex(plans['sev-snp']!.memory.read(0x400000n, 64n)), hex(protectedMode(kernel).subarray(0, 64)));
});

test('ELF32 kernel: PT_LOAD segments at p_paddr, entry, same register state; loads native and SEV-SNP', () => {
  const elf = elf32();
  const r = build({ kernel: { name: 'k.elf', bytes: elf }, platforms: ['native', 'sev-snp'], vcpus: 2 });
  const plans = checkFile(r, ['native', 'sev-snp'], 512n * MiB, 2);
  for (const plan of Object.values(plans)) {
    assert.equal(hex(plan.memory.read(0x200000n, 2n)), 'f4eb', 'hlt; jmp at the text segment');
    assert.equal(ascii(plan.memory.read(0x300000n, 14n)), 'igvm build elf');
    const p = plan.memory.read(BigInt(plan.platform.type === 'SEV_SNP' ? LAYOUT.bootParamsSnp : LAYOUT.bootParams), 4096n);
    assert.equal(u32(p, 0x202), 0, 'no setup header for an ELF kernel');
    assert.equal(cstring(plan, BigInt(u32(p, BP.cmdLinePtr))), 'console=ttyS0 panic=-1');
    assert.equal(madtCpus((g, s) => plan.memory.read(g, s), u64(p, BP.acpiRsdpAddr)), 2);
    assert.equal(plan.vps[0]!.registers.rip, 0x200000n);
    assert.equal(plan.vps[0]!.registers.cr0, 0x11n);
  }
  assert.equal(r.layout.kernel.format, 'elf');
  assert.equal(r.digests[0]!.digest, hex(measureSnp(parseIgvm(r.bytes), 'qemu', { vcpus: 2 }).digest));
});

test('ELF64 kernel linked high: loaded at p_paddr, entry translated from virtual to physical', () => {
  const r = build({ kernel: { name: 'k64.elf', bytes: elf64() } });
  const plans = checkFile(r, ['native'], 512n * MiB, 1);
  assert.equal(plans['native']!.vps[0]!.registers.rip, 0x400001n);
  assert.equal(hex(plans['native']!.memory.read(0x400000n, 3n)), '90f4eb');
});

test('signed ID block: ld = the QEMU/KVM digest, signature verifies with the policy, QEMU attaches it', () => {
  const key = randomP384Key();
  const r = build({ platforms: ['sev-snp'], signKey: key, policy: 0x30000n, vcpus: 2 });
  const plans = checkFile(r, ['sev-snp'], 512n * MiB, 2);
  const file = parseIgvm(r.bytes);
  const id = file.directives.find((d) => d.type === 'SNP_ID_BLOCK')!;
  assert.ok(id.type === 'SNP_ID_BLOCK');
  assert.equal(hex(id.ld), r.digests[0]!.digest);
  assert.equal(hex(id.ld), hex(measureSnp(file, 'qemu', { vcpus: 2 }).digest));
  assert.ok(verifyIdBlockSignature({ ld: id.ld, familyId: id.family_id, imageId: id.image_id, version: id.version, guestSvn: id.guest_svn, policy: 0x30000n }, idSignatureFromHeader(id)));
  assert.ok(plans['sev-snp']!.snp!.idBlock);
});

test('cloud-hypervisor target: digest of the clh-kvm model; SNP only', () => {
  const r = build({ platforms: ['sev-snp'], target: 'cloud-hypervisor' });
  assert.equal(r.digests[0]!.vmm, 'clh-kvm');
  assert.equal(r.digests[0]!.digest, hex(measureSnp(parseIgvm(r.bytes), 'clh-kvm', {}).digest));
  assert.throws(() => build({ platforms: ['native', 'sev-snp'], target: 'cloud-hypervisor' }), { code: 'build-target-platforms' });
});

const kernelTooOld = bzImage({ version: 0x0209 });
const errors: [string, Partial<BuildOptions>, string, RegExp][] = [
  ['not a kernel', { kernel: { name: 'x', bytes: new Uint8Array(4096) } }, 'kernel-unknown-format', /not a Linux bzImage .* or an ELF file/],
  ['kernel too old', { kernel: { name: 'old', bytes: kernelTooOld } }, 'kernel-too-old', /kernel too old for the boot protocol: it speaks 2\.09/],
  ['no setup header jump', { kernel: { name: 'nojmp', bytes: (() => { const k = bzImage(); k[0x201] = 0; return k; })() } }, 'bzimage-bad-header-length', /0x202 \+ the byte at 0x201/],
  ['initrd too large', { initrd: { name: 'big', bytes: new Uint8Array(20 << 20) }, memory: 64n * MiB }, 'initrd-too-large', /initrd too large for --memory/],
  ['kernel beyond memory', { memory: 32n * MiB }, 'kernel-too-large', /init_size/],
  ['unknown platform', { platforms: ['tdx' as BuildPlatform] }, 'build-unknown-platform', /unknown platform 'tdx'/],
  ['no platform', { platforms: [] }, 'build-no-platform', /no platform/],
  ['key on the wrong curve', { platforms: ['sev-snp'], signKey: { curve: 'P-256', d: new Uint8Array(32).fill(1) } }, 'key-unsupported-curve', /P-384/],
  ['cmdline not ASCII', { cmdline: 'console=ttyS0 café' }, 'cmdline-not-ascii', /printable ASCII .* U\+00E9 at index 17/],
  ['cmdline too long', { cmdline: 'x'.repeat(2049) }, 'cmdline-too-long', /cmdline_size .* 2048/],
  ['policy without SNP', { policy: 0x30000n }, 'policy-without-snp', /SEV-SNP/],
  ['policy bit 17 clear', { platforms: ['sev-snp'], policy: 0x10000n }, 'policy-bad', /bit 17/],
  ['vcpus out of range', { vcpus: 0 }, 'build-bad-vcpus', /1\.\.255/],
];
for (const [name, o, code, message] of errors) {
  test(`error: ${name}`, () => {
    assert.throws(() => build(o), (e: unknown) => {
      assert.ok(e instanceof IgvmError, String(e));
      assert.equal(e.code, code);
      assert.match(e.message, message);
      return true;
    });
  });
}
