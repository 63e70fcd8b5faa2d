// The igvmgen files under QEMU (QEMU-LOADER.md §3, §7.3, §9): every stored vector, with and without an SEV-SNP object.
//
// Where this model goes further than §9 (which expects the VP-context GPA check to be the failure):
// * QEMU's pre-pass checks vp 0's SEV_FEATURES first; the files use 0x9 (SNP + RestrictInjection), which a KVM that
//   supports only DebugSwap (upstream Linux) refuses;
// * with a KVM that also supports RestrictInjection, the first page region (0xA0000 or 0x0 onwards, merged across
//   0xC0000) runs into the pc.rom option-ROM region at 0xC0000 ("region size exceeded") before the VP context;
// * without the pages below 1 MiB the GPA check is reached (0x803000).
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadIgvm, loadIgvmFile } from '../../src/load/index.js';
import { parseIgvm } from '../../src/format/index.js';
import { storedVectors } from '../helpers.js';
import './fixtures.js';

const VECTORS = storedVectors();
const SNP = { platform: 'sev-snp', accel: 'kvm' } as const;
const RESTRICTED = { ...SNP, kvmVmsaFeatures: 0x28n } as const;
const message = (r: ReturnType<typeof loadIgvm>): string => (r.ok ? 'loads' : r.failure.message);

/** The vector without its page data below 1 MiB (a model the loader accepts as given). */
function withoutLowPages(bytes: Uint8Array) {
  const f = parseIgvm(bytes);
  f.directives = f.directives.filter((d) => !(d.type === 'PAGE_DATA' && d.gpa < 0x100000n));
  return f;
}

test('the vectors are stored', () => {
  assert.ok(VECTORS.length >= 10, `found ${VECTORS.length}`);
});

for (const v of VECTORS) {
  test(`§9 ${v.name}: no SEV object → no compatible platform; default --accel tcg → KVM required`, () => {
    assert.equal(message(loadIgvm(v.bytes, { platform: 'native' }, v.path)), 'IGVM file does not describe a compatible supported platform');
    assert.equal(message(loadIgvm(v.bytes, {}, v.path)), 'cannot set up private guest memory for sev-snp-guest: KVM required');
  });

  test(`§9 ${v.name}: sev-snp-guest on KVM: SEV_FEATURES 0x9, then pc.rom, then the VMSA GPA 803000`, () => {
    const upstream = loadIgvm(v.bytes, SNP, v.path);
    assert.equal(message(upstream), 'check_sev_features: VMSA contains unsupported sev_features: 9, supported features: 21');
    assert.equal(upstream.ok ? '' : upstream.failure.stage, 'pre-pass');
    const low = v.name === 'T_bzImageNoOpt' || v.name === 'T_bzImage_x64_clh' ? '0x0' : '0xA0000';
    assert.equal(message(loadIgvm(v.bytes, RESTRICTED, v.path)), `Processing of IGVM file failed: Could not prepare memory at address ${low}: region size exceeded`);
    const gpa = loadIgvmFile(withoutLowPages(v.bytes), RESTRICTED, v.path);
    assert.equal(message(gpa), 'check_vmsa_supported: The VMSA GPA must be FFFFFFFFF000 but is specified as 803000');
    assert.equal(gpa.ok ? '' : gpa.failure.stage, 'directives');
  });
}

test('§9: the parameter insert (0x802000) is queued before the still pending secrets page (0x801000)', () => {
  const v = VECTORS.find((x) => x.name === 'T_bzImage');
  assert.ok(v);
  const r = loadIgvmFile(withoutLowPages(v.bytes), RESTRICTED, v.path);
  assert.equal(r.ok, false);
  if (r.ok) return;
  const order = r.progress?.populations.map((p) => `${p.gpa.toString(16)} ${p.sevType ?? ''}`) ?? [];
  assert.deepEqual(order.slice(-2), ['800000 CPUID', '802000 UNMEASURED'], order.join(', '));
  assert.ok(!order.some((o) => o.startsWith('801000 ')), 'the secrets page is still pending when the VP context fails');
});
