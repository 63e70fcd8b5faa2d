// Platform selection (QEMU-LOADER.md §3): what each SEV object accepts, the priority, and the platforms QEMU ignores.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import type { PlatformTypeName } from '../../src/spec/constants.js';
import { failsWith, loaded, nativeBuilder } from './fixtures.js';
import type { QemuConfig } from '../../src/load/index.js';

const NO_PLATFORM = 'IGVM file does not describe a compatible supported platform';

/** A file declaring `types` (masks 1, 2, 4, …) with one zero page for all of them. */
function declaring(types: PlatformTypeName[]): Uint8Array {
  const b = new IgvmBuilder();
  let all = 0;
  for (const t of types) all |= b.platform(t, t === 'VSM_ISOLATION' ? { highestVtl: 2 } : {});
  b.pageData(0x100000n, all);
  return b.toBytes();
}

const kvm = (platform: NonNullable<QemuConfig['platform']>): QemuConfig => ({ platform, accel: 'kvm' });

test('§3: NATIVE is always acceptable, with or without an SEV object', () => {
  const f = declaring(['NATIVE']);
  assert.equal(loaded(f).platform.type, 'NATIVE');
  for (const p of ['sev', 'sev-es', 'sev-snp'] as const) assert.equal(loaded(f, kvm(p)).platform.type, 'NATIVE', p);
});

test('§3: SEV_SNP is acceptable only with a sev-snp-guest object', () => {
  const f = declaring(['SEV_SNP']);
  for (const p of ['native', 'sev', 'sev-es'] as const) failsWith(f, NO_PLATFORM, kvm(p));
  assert.deepEqual(loaded(f, kvm('sev-snp')).platform, { type: 'SEV_SNP', mask: 1 });
});

test('§3: SEV_ES is acceptable with sev-snp-guest or a sev-guest with the ES policy bit', () => {
  const f = declaring(['SEV_ES']);
  failsWith(f, NO_PLATFORM, kvm('native'));
  failsWith(f, NO_PLATFORM, kvm('sev'));
  assert.equal(loaded(f, kvm('sev-es')).platform.type, 'SEV_ES');
  assert.equal(loaded(f, kvm('sev-snp')).platform.type, 'SEV_ES');
});

test('§3: SEV is acceptable with any SEV object', () => {
  const f = declaring(['SEV']);
  failsWith(f, NO_PLATFORM, kvm('native'));
  for (const p of ['sev', 'sev-es', 'sev-snp'] as const) assert.equal(loaded(f, kvm(p)).platform.type, 'SEV', p);
});

test('§3: the strongest acceptable platform wins: SEV_SNP > SEV_ES > SEV > NATIVE, for each object', () => {
  const f = declaring(['NATIVE', 'SEV', 'SEV_ES', 'SEV_SNP']);
  assert.deepEqual(loaded(f, kvm('native')).platform, { type: 'NATIVE', mask: 1 });
  assert.deepEqual(loaded(f, kvm('sev')).platform, { type: 'SEV', mask: 2 });
  assert.deepEqual(loaded(f, kvm('sev-es')).platform, { type: 'SEV_ES', mask: 4 });
  assert.deepEqual(loaded(f, kvm('sev-snp')).platform, { type: 'SEV_SNP', mask: 8 });
});

test('§3 [exp]: a NATIVE + SEV_SNP file loads as NATIVE without an SEV object', () => {
  assert.deepEqual(loaded(declaring(['NATIVE', 'SEV_SNP']), { platform: 'native' }).platform, { type: 'NATIVE', mask: 1 });
});

test('§3: --platform auto configures the object for the strongest platform the file declares', () => {
  const f = declaring(['NATIVE', 'SEV_ES']);
  const r = loaded(f, { accel: 'kvm' });
  assert.equal(r.platform.type, 'SEV_ES');
  assert.equal(loaded(declaring(['NATIVE']), {}).platform.type, 'NATIVE');
});

test('§3: VSM_ISOLATION and TDX are never acceptable (ignored)', () => {
  failsWith(declaring(['VSM_ISOLATION', 'TDX']), NO_PLATFORM, kvm('sev-snp'));
  assert.equal(loaded(declaring(['VSM_ISOLATION', 'TDX', 'NATIVE'])).platform.type, 'NATIVE');
});

test('§3: CCA never reaches selection: the igvm 0.4.0 library does not know platform type 6 (-9)', () => {
  const b = new IgvmBuilder({ formatVersion: 2, architecture: 'AARCH64' });
  b.platform('CCA');
  b.pageData(0x100000n, 1);
  failsWith(b.toBytes(), 'Unable to parse IGVM file test.igvm: -9', kvm('sev-snp'));
});

test('§3: platform version, highest VTL and shared GPA boundary are not checked', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP', { highestVtl: 2, sharedGpaBoundary: 0x8000000000n });
  b.guestPolicy(0x30000n, m).pageData(0x100000n, m);
  assert.equal(loaded(b.toBytes(), kvm('sev-snp')).platform.type, 'SEV_SNP');
});

test('§3: the file\'s platform mask is "the mask" (a page for another platform is not loaded)', () => {
  const { b, m } = nativeBuilder();
  const snp = b.platform('SEV_SNP');
  b.pageData(0x100000n, snp, new Uint8Array([1])).pageData(0x200000n, m, new Uint8Array([2]));
  const plan = loaded(b.toBytes(), { platform: 'native' });
  assert.deepEqual(plan.populations.map((p) => p.gpa), [0x200000n]);
});

test('§1: -smp beyond the machine limit is refused before the file is read; invalid values are config errors', () => {
  failsWith(new Uint8Array(4), "Invalid SMP CPUs 300. The max CPUs supported by machine 'pc-i440fx-10.2' is 255", { machine: 'pc', vcpus: 300 });
  assert.equal(loaded(declaring(['NATIVE']), { machine: 'q35', vcpus: 300 }).vps.length, 300);
  assert.throws(() => loaded(declaring(['NATIVE']), { vcpus: 0 }), /vcpus must be a positive integer/);
});
