// SEV, SEV-ES and SEV-SNP (QEMU-LOADER.md §2 pre-pass, §5.7, §5.8, §7): TCG, page types, VMSA checks, vCPU indices.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import { loadIgvmFile } from '../../src/load/index.js';
import { parseIgvm } from '../../src/format/index.js';
import { checkVmsaSupported } from '../../src/load/qemu/vmsa-check.js';
import { failsWith, filled, KVM_VMSA_GPA, loaded, SNP_KVM, snpBuilder, snpOrder, snpVmsa } from './fixtures.js';

const UNSYNC = 'check_vmsa_supported: The VMSA contains fields that are not synchronized with KVM. Continuing would result in either unpredictable guest behavior, or a mismatched launch measurement.';

function snpWithVmsa(page: Uint8Array, gpa = KVM_VMSA_GPA, vp = 0): Uint8Array {
  const { b, m } = snpBuilder();
  b.pageData(0x100000n, m, filled(0x90, 16));
  b.vmsa(gpa, m, vp, page);
  return b.toBytes();
}

function esFile(add: (b: IgvmBuilder, m: number) => void): Uint8Array {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_ES');
  add(b, m);
  return b.toBytes();
}

test('§7 [exp]: an SEV-SNP object under TCG fails before the file is read', () => {
  const r = failsWith(new Uint8Array(4), 'cannot set up private guest memory for sev-snp-guest: KVM required', { platform: 'sev-snp' });
  assert.equal(r.failure.stage, 'machine-memory');
});

test('§7: a sev-guest object under TCG is processed (uninitialised) and then refused after machine creation', () => {
  const f = esFile((b, m) => b.pageData(0x100000n, m, filled(1, 8)));
  const r = failsWith(f, 'accelerator does not support confidential guest sev-guest', { platform: 'sev-es' });
  assert.equal(r.failure.stage, 'machine-done');
  assert.equal(r.progress?.populations.length, 1);
  assert.deepEqual(r.progress?.sev?.launchUpdateData, [], 'nothing reaches the SEV firmware');
});

test('§7.3: the VMSA GPA must be 0xFFFFFFFFF000', () => {
  const r = failsWith(snpWithVmsa(snpVmsa(), 0x803000n), 'check_vmsa_supported: The VMSA GPA must be FFFFFFFFF000 but is specified as 803000', SNP_KVM);
  assert.equal(r.failure.stage, 'directives');
});

test('§7.3: a VMSA with only synchronised fields is accepted', () => {
  const plan = loaded(snpWithVmsa(snpVmsa({ rax: 1n, rbx: 2n, r15: 3n, dr7: 0x400n, dr6: 0xffff0ff0n, cr3: 0x1000n, cr4: 0x20n })), SNP_KVM);
  assert.equal(plan.vps[0]?.source, 'igvm-vmsa');
});

for (const [field, value] of [['vmpl', 1], ['virtual_tom', 0x1000n], ['xss', 1n], ['star', 1n], ['cpl', 3]] as const) {
  test(`§7.3: a non-zero unsynchronised field (${field}) is fatal`, () => {
    const r = failsWith(snpWithVmsa(snpVmsa({ [field]: value })), UNSYNC, SNP_KVM);
    assert.match(r.failure.detail ?? '', new RegExp(`^the first unsynchronised non-zero field is ${field} \\(page offset 0x[0-9a-f]+\\)$`));
  });
}

test('§7.3: bytes beyond sev_es_save_area (0x670) are not checked by QEMU — but the igvm 0.4.0 library rejects them (-11)', () => {
  const page = snpVmsa();
  page[0x800] = 1;
  assert.equal(checkVmsaSupported(KVM_VMSA_GPA, page, true, 0x21n), undefined);
  failsWith(snpWithVmsa(page), 'Unable to parse IGVM file test.igvm: -11', SNP_KVM);
});

test('§7.3: under SEV-SNP, SEV_FEATURES must have SNP_ACTIVE (checked in the pre-pass for vp 0)', () => {
  const r = failsWith(snpWithVmsa(snpVmsa({ sev_features: 0n })), 'check_sev_features: SEV_SNP is enabled but is not enabled in VMSA sev_features', SNP_KVM);
  assert.equal(r.failure.stage, 'pre-pass');
});

test('§7.3: without SNP, SEV_FEATURES must not have SNP_ACTIVE', () => {
  const f = esFile((b, m) => b.vmsa(KVM_VMSA_GPA, m, 0, snpVmsa({ sev_features: 1n })));
  failsWith(f, 'check_sev_features: SEV_SNP is not enabled but is enabled in VMSA sev_features', { platform: 'sev-es', accel: 'kvm' });
});

test('§7.3: SEV_FEATURES outside what KVM supports are fatal (KVM supports DebugSwap by default)', () => {
  failsWith(snpWithVmsa(snpVmsa({ sev_features: 0x9n })), 'check_sev_features: VMSA contains unsupported sev_features: 9, supported features: 21', SNP_KVM);
  assert.equal(loaded(snpWithVmsa(snpVmsa({ sev_features: 0x21n })), SNP_KVM).snp?.sevFeatures, 0x21n);
  assert.equal(loaded(snpWithVmsa(snpVmsa({ sev_features: 0x9n })), { ...SNP_KVM, kvmVmsaFeatures: 0x28n }).snp?.sevFeatures, 0x9n);
});

test('§2: the pre-pass checks vp 0 before anything else (an unknown header later in the file is not reached)', () => {
  const { b, m } = snpBuilder();
  b.parameterArea(0, 0x1000n).parameter('COMMAND_LINE', 0, 0);
  b.vmsa(KVM_VMSA_GPA, m, 0, snpVmsa({ sev_features: 0n }));
  failsWith(b.toBytes(), 'check_sev_features: SEV_SNP is enabled but is not enabled in VMSA sev_features', SNP_KVM);
});

test('§2: the pre-pass looks only at vp 0; other vCPUs are checked in the real pass', () => {
  const { b, m } = snpBuilder();
  b.pageData(0x100000n, m, filled(1, 4));
  b.vmsa(KVM_VMSA_GPA, m, 0, snpVmsa());
  b.vmsa(KVM_VMSA_GPA, m, 1, snpVmsa({ sev_features: 0n }));
  const r = failsWith(b.toBytes(), 'check_sev_features: SEV_SNP is enabled but is not enabled in VMSA sev_features', { ...SNP_KVM, vcpus: 2 });
  assert.equal(r.failure.stage, 'directives');
  assert.equal(r.failure.directive, 2);
});

test('§7.3: a VP context for a vCPU that does not exist is fatal', () => {
  const f = snpWithVmsa(snpVmsa(), KVM_VMSA_GPA, 1);
  failsWith(f, 'SEV: unable to set CPU context for out of bounds CPU index 1', SNP_KVM);
  assert.equal(loaded(f, { ...SNP_KVM, vcpus: 2 }).vps[1]?.source, 'igvm-vmsa');
});

test('§7.3: a second context for the same vCPU replaces the first', () => {
  const { b, m } = snpBuilder();
  b.vmsa(KVM_VMSA_GPA, m, 0, snpVmsa({ rip: 0x1000n })).vmsa(KVM_VMSA_GPA, m, 0, snpVmsa({ rip: 0x2000n }));
  const plan = loaded(b.toBytes(), SNP_KVM);
  assert.equal(plan.vps[0]?.registers.rip, 0x2000n);
  assert.equal(plan.snp?.launchUpdates.filter((u) => u.type === 'VMSA').length, 1);
});

test('§5.8: a VP context under plain SEV is fatal', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV');
  b.nativeContext(m, 0, { rip: 0x100000n });
  failsWith(b.toBytes(), 'cgs_set_guest_state: attempt to configure initial VMSA, but SEV-ES is not supported', { platform: 'sev', accel: 'kvm' });
});

test('§7.1: a SECRETS page under SEV-ES is fatal', () => {
  const f = esFile((b, m) => b.pageData(0x100000n, m, filled(1, 4), { dataType: 1 }));
  failsWith(f, 'cgs_set_guest_state: attempt to configure secrets page, but SEV-SNP is not supported', { platform: 'sev-es', accel: 'kvm' });
});

test('§7.1: a CPUID page under SEV (and SEV-ES) is fatal', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV');
  b.pageData(0x100000n, m, filled(1, 4), { dataType: 2 });
  failsWith(b.toBytes(), 'cgs_set_guest_state: attempt to configure CPUID page, but SEV-SNP is not supported', { platform: 'sev', accel: 'kvm' });
  const es = esFile((e, em) => e.pageData(0x100000n, em, filled(1, 4), { dataType: 3 }));
  failsWith(es, 'cgs_set_guest_state: attempt to configure CPUID page, but SEV-SNP is not supported', { platform: 'sev-es', accel: 'kvm' });
});

test('§7.1: SEV/SEV-ES: NORMAL and ZERO regions are LAUNCH_UPDATE_DATA at once, UNMEASURED ones are not passed', () => {
  const f = esFile((b, m) => {
    b.pageData(0x100000n, m, filled(1, 4)).pageData(0x101000n, m);
    b.pageData(0x300000n, m, filled(2, 4), { flags: 2 });
    b.parameterArea(0, 0x1000n).parameterInsert(0x200000n, m, 0);
  });
  const plan = loaded(f, { platform: 'sev-es', accel: 'kvm', vcpus: 2 });
  assert.deepEqual(plan.sev?.launchUpdateData.map((d) => [d.gpa, d.length, d.directive]), [[0x100000n, 0x1000n, 0], [0x101000n, 0x1000n, 1]]);
  assert.equal(plan.sev?.vmsaUpdates, 2);
  assert.equal(plan.sev?.launchPolicy, 0x5);
});

test('§7.1: SEV-SNP page types: data NORMAL, zero NORMAL (ZERO region), unmeasured, SECRETS, CPUID, insert UNMEASURED', () => {
  const { b, m } = snpBuilder();
  b.pageData(0x100000n, m, filled(1, 4)).pageData(0x200000n, m).pageData(0x300000n, m, filled(1, 4), { flags: 2 });
  b.pageData(0x400000n, m, filled(1, 4), { dataType: 1 }).pageData(0x500000n, m, filled(1, 4), { dataType: 2 }).pageData(0x600000n, m, filled(1, 4), { dataType: 3 });
  const plan = loaded(b.toBytes(), SNP_KVM);
  assert.deepEqual(plan.populations.map((p) => p.sevType), ['NORMAL', 'ZERO', 'UNMEASURED', 'SECRETS', 'CPUID', 'CPUID']);
  assert.deepEqual(snpOrder(plan), ['100000 NORMAL', '200000 NORMAL', '300000 UNMEASURED', '400000 SECRETS', '500000 CPUID', '600000 CPUID', 'fffffffff000 VMSA']);
  assert.deepEqual(plan.populations.map((p) => p.replaced), [undefined, undefined, undefined, 'psp-secrets', 'kvm-cpuid-table', 'kvm-cpuid-table']);
});

test('§5.7: REQUIRED_MEMORY under SEV-SNP is converted to private (nothing measured)', () => {
  const { b, m } = snpBuilder();
  b.requiredMemory(0x40000000n, m, 0x2000);
  const plan = loaded(b.toBytes(), SNP_KVM);
  assert.deepEqual(plan.populations.map((p) => [p.source, p.sevType, p.ram.name, p.ram.guestMemfd]), [['required-memory', 'REQUIRED_MEMORY', 'igvm.0', true]]);
  assert.deepEqual(snpOrder(plan), ['fffffffff000 VMSA']);
});

test('§5.7: REQUIRED_MEMORY under sev-guest cannot be converted (no guest_memfd): two error lines', () => {
  const f = esFile((b, m) => b.requiredMemory(0x200000n, m, 0x1000));
  const r = failsWith(f, 'cgs_set_guest_state: failed to configure required memory. gpa: 200000, type: 6', { platform: 'sev-es', accel: 'kvm' });
  assert.deepEqual(r.failure.stderr.map((l) => l.text), ['Convert non guest_memfd backed memory region (0x200000 ,+ 0x1000) to private', r.failure.message]);
});

test('§7.1: a data type QEMU does not know is fatal (unreachable through the library: a hand-made model)', () => {
  const { b, m } = snpBuilder();
  b.pageData(0x100000n, m, filled(1, 4)).pageData(0x101000n, m, filled(1, 4));
  const file = parseIgvm(b.toBytes());
  for (const d of file.directives) if (d.type === 'PAGE_DATA') d.data_type = 4;
  const r = loadIgvmFile(file, SNP_KVM);
  assert.equal(r.ok ? '' : r.failure.message, 'Invalid page type in IGVM file. Directives: 0 to 2, page type: 4');
});

test('§5.1: page data larger than the page is fatal (unreachable through the library: a hand-made model)', () => {
  const { b, m } = snpBuilder();
  b.pageData(0x100000n, m, filled(1, 4));
  const file = parseIgvm(b.toBytes());
  const page = file.directives.find((d) => d.type === 'PAGE_DATA');
  if (page?.type === 'PAGE_DATA') page.data = new Uint8Array(8192);
  const r = loadIgvmFile(file, SNP_KVM);
  assert.equal(r.ok ? '' : r.failure.message, 'IGVM file contains page data with invalid size for directive with index 0');
});

test('§7.3: the KVM VMSA: synchronised fields with KVM\'s adjustments, SEV_FEATURES of vp 0 for every vCPU', () => {
  const { b, m } = snpBuilder();
  b.vmsa(KVM_VMSA_GPA, m, 0, snpVmsa({ efer: 0n, cr0: 0x60000011n, cr4: 0n, rflags: 0n, sev_features: 0x21n, ldtr: { selector: 0, attrib: 0x82, limit: 0xffff, base: 0x5000n } }));
  const plan = loaded(b.toBytes(), { ...SNP_KVM, vcpus: 2 });
  const v = new DataView(plan.vps[0]!.kvmVmsa!.buffer);
  assert.equal(v.getBigUint64(0xd0, true), 0x1000n, 'EFER.SVME');
  assert.equal(v.getBigUint64(0x158, true), 0x11n, 'CR0 without CD/NW');
  assert.equal(v.getBigUint64(0x148, true), 0x40n, 'CR4.MCE');
  assert.equal(v.getBigUint64(0x170, true), 2n, 'RFLAGS bit 1');
  assert.equal(v.getBigUint64(0x98, true), 0x5000n, 'TR base = LDTR base (QEMU)');
  const ap = new DataView(plan.vps[1]!.kvmVmsa!.buffer);
  assert.equal(ap.getBigUint64(0x3b0, true), 0x21n, 'the reset-state vCPU gets the VM features');
  assert.equal(ap.getBigUint64(0x178, true), 0xfff0n);
  assert.equal(ap.getBigUint64(0x310, true), 0x800f12n, 'RDX = EPYC-v4 signature');
});
