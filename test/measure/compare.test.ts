// compareSnpVmms (MEASUREMENT.md §3.1): every model is run and the directive that makes each differ from the crate is named.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import { installNodeHash } from '../../src/io/node-hash.js';
import type { IgvmFile } from '../../src/model.js';
import { SNP_MODELS, SNP_VMMS, compareSnpVmms, measureSnp, type SnpModelComparison, type SnpVmm } from '../../src/measure/snp/index.js';
import { parseIgvm } from '../../src/format/index.js';
import { storedVectors, manifest } from '../helpers.js';

installNodeHash();

const page = (fill: number): Uint8Array => new Uint8Array(4096).fill(fill);

function snp(): { b: IgvmBuilder; m: number } {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.guestPolicy(0x30000n, m);
  return { b, m };
}

function model(f: IgvmFile, vmm: SnpVmm, opts: Parameters<typeof compareSnpVmms>[1] = {}): SnpModelComparison {
  const c = compareSnpVmms(f, opts);
  assert.deepEqual(c.models.map((x) => x.vmm), [...SNP_VMMS]);
  const r = c.models.find((x) => x.vmm === vmm);
  assert.ok(r, vmm);
  return r;
}

function assertNames(r: SnpModelComparison, index: number | undefined, type: string | undefined, reason: RegExp): void {
  assert.ok(r.measurement, `${r.vmm} measured the file (${r.error ?? ''})`);
  assert.equal(r.sameAsIgvm, false, `${r.vmm} differs`);
  assert.ok(r.divergence, `${r.vmm} has a divergence`);
  assert.equal(r.divergence.directive?.index, index, r.divergence.reason);
  assert.equal(r.divergence.directive?.type, type, r.divergence.reason);
  assert.match(r.divergence.reason, reason);
}

test('SNP_MODELS has every VMM; measureSnp dispatches', () => {
  assert.deepEqual(Object.keys(SNP_MODELS).sort(), [...SNP_VMMS].sort());
  const { b, m } = snp();
  b.pageData(0x1000n, m);
  const f = b.build();
  assert.equal(measureSnp(f, 'clh-kvm').vmm, 'clh-kvm');
  assert.equal(measureSnp(f, 'igvm').vmm, 'igvm');
});

test('zero page: clh-kvm and igvmmeasure --native-zero name the PAGE_DATA without data', () => {
  const { b, m } = snp();
  b.pageData(0x1000n, m, page(1)).pageData(0x801000n, m).pageData(0x802000n, m, page(2));
  const f = b.build();
  assertNames(model(f, 'clh-kvm'), 1, 'PAGE_DATA', /^PAGE_DATA #1 at 0x801000 has no data: ZERO under clh-kvm, NORMAL of zeros under igvm$/);
  assertNames(model(f, 'igvmmeasure', { nativeZero: true }), 1, 'PAGE_DATA', /has no data: ZERO under igvmmeasure, NORMAL of zeros under igvm/);
  const same = model(f, 'igvmmeasure');
  assert.equal(same.sameAsIgvm, true);
  assert.equal(same.divergence, undefined);
  assert.equal(model(f, 'clh-mshv').sameAsIgvm, true);
  assert.equal(model(f, 'clh-kvm').divergence?.step, 1);
});

test('shared page: igvmmeasure and clh-mshv name the shared PAGE_DATA', () => {
  const { b, m } = snp();
  b.pageData(0x1000n, m, page(1)).pageData(0x2000n, m, page(2), { flags: 4 }).pageData(0x3000n, m, page(3));
  const f = b.build();
  for (const vmm of ['igvmmeasure', 'clh-mshv'] as const) {
    assertNames(model(f, vmm), 1, 'PAGE_DATA', new RegExp(`^PAGE_DATA #1 at 0x2000 is shared \\(flag bit 2\\): skipped under igvm, measured as NORMAL under ${vmm}`));
  }
});

test('parameter insert size: igvmmeasure and clh-mshv name the PARAMETER_INSERT (one page vs one per 4 KiB)', () => {
  const { b, m } = snp();
  b.parameterArea(0, 0x2000n).pageData(0x1000n, m, page(1)).parameterInsert(0x10000n, m, 0).pageData(0x20000n, m, page(2));
  const f = b.build();
  for (const vmm of ['igvmmeasure', 'clh-mshv'] as const) {
    assertNames(model(f, vmm), 2, 'PARAMETER_INSERT', new RegExp(`^PARAMETER_INSERT #2 at 0x10000 inserts parameter area 0 \\(0x2000 bytes\\): UNMEASURED under ${vmm}, 2 UNMEASURED pages under igvm`));
  }
  assert.equal(model(f, 'clh-kvm').divergence?.directive, undefined, 'clh-kvm differs only by its KVM VMSA');
});

test('VMSA: clh-kvm names the VP_CONTEXT (measured by KVM at 0xfffffffff000 after all pages, per vCPU)', () => {
  const { b, m } = snp();
  const vmsa = new Uint8Array(4096);
  vmsa[0x3b0] = 1;
  b.pageData(0x1000n, m, page(1)).vmsa(0x803000n, m, 0, vmsa).pageData(0x900000n, m, page(2));
  const f = b.build();
  const r = model(f, 'clh-kvm', { vcpus: 4 });
  assertNames(r, 1, 'VP_CONTEXT', /^VP_CONTEXT #1 at 0x803000 \(vp 0\): VMSA measured at its position at 0x803000 under igvm; under clh-kvm KVM measures one VMSA per vCPU \(4\) at 0xfffffffff000 after all pages$/);
  assert.equal(r.divergence?.step, 1);
  assert.equal(r.divergence?.directive?.gpa, 0x803000n);
  assert.equal(model(f, 'clh-mshv').sameAsIgvm, true, 'GPAs ascending: MSHV order is the file order');
});

test('GPA sorting: clh-mshv names the page it moves ahead', () => {
  const { b, m } = snp();
  b.pageData(0x5000n, m, page(5)).pageData(0x6000n, m, page(6)).pageData(0x1000n, m, page(1));
  const f = b.build();
  assertNames(model(f, 'clh-mshv'), 2, 'PAGE_DATA', /^PAGE_DATA #2 at 0x1000 is measured at step 0 under clh-mshv but at step 2 under igvm: Cloud Hypervisor on MSHV sorts all pages by GPA$/);
  assert.equal(model(f, 'igvmmeasure').sameAsIgvm, true);
});

test('mask inclusion: igvmmeasure names the directive whose mask intersects but does not contain M (in-memory, M = 0x3)', () => {
  const f: IgvmFile = {
    revision: { format_version: 1, architecture: 0, page_size: 4096 },
    platforms: [{ type: 'SUPPORTED_PLATFORM', compatibility_mask: 3, highest_vtl: 0, platform_type: 2, platform_version: 1, shared_gpa_boundary: 0n }],
    initializations: [{ type: 'GUEST_POLICY', policy: 0x30000n, compatibility_mask: 3, reserved: 0 }],
    directives: [
      { type: 'PAGE_DATA', gpa: 0x1000n, compatibility_mask: 3, file_offset: 0, flags: 0, data_type: 0, reserved: 0, data: page(1) },
      { type: 'PAGE_DATA', gpa: 0x2000n, compatibility_mask: 2, file_offset: 0, flags: 0, data_type: 0, reserved: 0, data: page(2) },
    ],
  };
  assertNames(model(f, 'igvmmeasure'), 1, 'PAGE_DATA', /^PAGE_DATA #1 at 0x2000 has mask 0x2, which does not contain the SEV_SNP platform mask 0x3: excluded under igvm \(mask & M == M\), measured as NORMAL under igvmmeasure \(mask & M != 0\)$/);
});

test('SNP VP context for another platform: igvmmeasure names it (measured regardless of mask)', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  const es = b.platform('SEV_ES');
  b.guestPolicy(0x30000n, m);
  b.pageData(0x1000n, m, page(1)).vmsa(0x4000n, es, 0, new Uint8Array(4096)).pageData(0x5000n, m, page(5));
  const f = b.build();
  assertNames(model(f, 'igvmmeasure'), 1, 'VP_CONTEXT', /^VP_CONTEXT #1 at 0x4000 \(vp 0\) has mask 0x2, which does not contain the SEV_SNP platform mask 0x1: skipped under igvm, measured under igvmmeasure \(SNP VP contexts are measured regardless of mask\)$/);
});

test('no VP context: clh-kvm differs by the VMSA KVM adds at the end (no directive)', () => {
  const { b, m } = snp();
  b.pageData(0x1000n, m, page(1));
  const r = model(b.build(), 'clh-kvm', { vcpus: 2 });
  assertNames(r, undefined, undefined, /^clh-kvm adds KVM's VMSAs at 0xfffffffff000 after all pages \(2 vCPUs\); igvm measures nothing more$/);
  assert.equal(r.divergence?.step, 1);
});

test('a model that cannot measure the file is reported with its error; the others are still compared', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x1000n, m);
  const c = compareSnpVmms(b.build());
  const igvm = c.models.find((x) => x.vmm === 'igvm')!;
  assert.equal(igvm.measurement, undefined);
  assert.match(igvm.error ?? '', /MissingGuestPolicy.*\[measure-missing-guest-policy\]/);
  assert.equal(c.reference, undefined);
  const mshv = c.models.find((x) => x.vmm === 'clh-mshv')!;
  assert.ok(mshv.measurement);
  assert.equal(mshv.divergence, undefined);
  for (const x of c.models) assert.ok(x.measurement !== undefined || x.error !== undefined, x.vmm);
});

test('igvmgen vectors: clh-kvm names the first PAGE_DATA without data or the VP_CONTEXT; clh-mshv and igvmmeasure agree with igvm', () => {
  for (const v of storedVectors().slice(0, 3)) {
    const f = parseIgvm(v.bytes);
    const c = compareSnpVmms(f);
    const expected = manifest().find((x) => x.name === v.name)!.launch_digest;
    assert.equal(Buffer.from(c.reference!.digest).toString('hex'), expected);
    const kvm = c.models.find((x) => x.vmm === 'clh-kvm')!;
    const first = f.directives.findIndex((d) => (d.type === 'PAGE_DATA' && d.data === undefined && d.data_type === 0 && (d.flags & 6) === 0) || d.type === 'VP_CONTEXT');
    assert.equal(kvm.divergence?.directive?.index, first, `${v.name}: ${kvm.divergence?.reason ?? ''}`);
    assert.equal(c.models.find((x) => x.vmm === 'igvmmeasure')!.sameAsIgvm, !f.directives.some((d) => d.type === 'PAGE_DATA' && d.flags & 4), v.name);
  }
});
