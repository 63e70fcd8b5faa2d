// SEV / SEV-ES GCTX.LD under QEMU + KVM (src/measure/sev-qemu.ts, MEASUREMENT.md §4.2): a node:crypto SHA-256 over the pages QEMU passes.
import '../helpers.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';
import { loadIgvmFile } from '../../src/load/index.js';
import { measureSevQemu } from '../../src/measure/sev-qemu.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const UNMEASURED = 2;
const bytes = (n: number, seed: number): Uint8Array => new Uint8Array(n).map((_, i) => (seed * 13 + i * 7 + 1) & 0xff);
const padded = (d: Uint8Array): Buffer => {
  const p = Buffer.alloc(4096);
  Buffer.from(d).copy(p);
  return p;
};

function sevEsFile(): ReturnType<IgvmBuilder['build']> {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_ES');
  b.pageData(0x100000n, m, bytes(700, 1)); // zero-padded
  b.pageData(0x101000n, m); // no data: 4096 zero bytes are passed
  b.pageData(0x102000n, m, bytes(4096, 2), { flags: UNMEASURED }); // not passed
  b.parameterArea(0, 0x1000n);
  b.parameter('VP_COUNT_PARAMETER', 0, 0);
  b.parameterInsert(0x200000n, m, 0); // not passed
  b.pageData(0x300000n, m, bytes(4096, 3));
  b.vmsa(0xfffffffff000n, m, 0, { rip: 0xfff0n, cr0: 0x10n, xcr0: 1n, efer: 0x1000n });
  return b.build();
}

test('SEV-ES: data pages (pages without data as zeros, unmeasured and parameter pages skipped), then one KVM VMSA per vCPU', () => {
  const file = sevEsFile();
  const r = measureSevQemu(file, 'sev-es', { vcpus: 2, trace: true });
  const load = loadIgvmFile(file, { platform: 'sev-es', accel: 'kvm', vcpus: 2 });
  assert.ok(load.ok);
  const vmsas = load.plan.vps.map((v) => v.kvmVmsa);
  assert.equal(vmsas.length, 2);
  const parts = [padded(bytes(700, 1)), Buffer.alloc(4096), Buffer.from(bytes(4096, 3)), ...vmsas.map((v) => Buffer.from(v ?? new Uint8Array()))];
  assert.equal(hex(r.digest), createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
  assert.equal(r.records, 5);
  assert.equal(r.launchPolicy, 0x5);
  const steps = r.steps ?? [];
  assert.deepEqual(steps.map((s) => [s.kind, s.gpa, s.source === undefined ? undefined : file.directives[s.source]?.type]), [
    ['PAGE', 0x100000n, 'PAGE_DATA'], ['PAGE', 0x101000n, 'PAGE_DATA'], ['PAGE', 0x300000n, 'PAGE_DATA'],
    ['VMSA', undefined, 'VP_CONTEXT'], ['VMSA', undefined, undefined],
  ]);
  steps.forEach((s, i) => assert.equal(hex(s.contents), createHash('sha256').update(parts[i]!).digest('hex')));
  // the vCPU count changes the digest (one more VMSA)
  assert.notEqual(hex(measureSevQemu(file, 'sev-es', { vcpus: 1 }).digest), hex(r.digest));
  assert.equal(measureSevQemu(file, 'sev-es', { policy: 0x7 }).launchPolicy, 0x7);
});

test('SEV: data pages only, no VMSA', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV');
  b.pageData(0x100000n, m, bytes(4096, 5));
  b.pageData(0x101000n, m);
  const r = measureSevQemu(b.build(), 'sev', { vcpus: 3 });
  assert.equal(hex(r.digest), createHash('sha256').update(Buffer.from(bytes(4096, 5))).update(Buffer.alloc(4096)).digest('hex'));
  assert.equal(r.records, 2);
  assert.equal(r.launchPolicy, 0x1);
});

test('what QEMU rejects is measure-qemu-rejected with its message; no SEV platform is measure-no-sev-platform', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_ES');
  b.pageData(0x100000n, m, bytes(10, 1), { dataType: 1 }); // SECRETS: refused without SEV-SNP
  const file = b.build();
  const load = loadIgvmFile(file, { platform: 'sev-es', accel: 'kvm' });
  assert.ok(!load.ok);
  assert.throws(() => measureSevQemu(file, 'sev-es'), (e: unknown) => e instanceof IgvmError && e.code === 'measure-qemu-rejected' && e.message === load.failure.message);
  const n = new IgvmBuilder();
  n.pageData(0n, n.platform('NATIVE'), bytes(10, 1));
  assert.throws(() => measureSevQemu(n.build(), 'sev'), (e: unknown) => e instanceof IgvmError && e.code === 'measure-no-sev-platform');
});
