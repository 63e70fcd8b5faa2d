// Reference values (src/measure/reference.ts): every field checked against the igvmgen vectors, node:crypto and the per-platform modules.
import '../helpers.js';
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS, manifest, storedVectors } from '../helpers.js';
import { IgvmBuilder } from '../../src/builder.js';
import { IgvmError } from '../../src/errors.js';
import { parseIgvm } from '../../src/format/index.js';
import { REFERENCE_SCHEMA, referenceValues } from '../../src/measure/reference.js';
import { measureTdx } from '../../src/measure/tdx.js';
import { measureSevIgvmmeasure } from '../../src/measure/sev.js';
import { measureSevQemu } from '../../src/measure/sev-qemu.js';
import { measureSnp } from '../../src/measure/snp/index.js';

const hex = (b: Uint8Array | null): string | null => (b === null ? null : Buffer.from(b).toString('hex'));

function idKeyDigest(): string {
  const jwk = createPublicKey(readFileSync(join(VECTORS, 'inputs', 'sign_key.pem'))).export({ format: 'jwk' }) as { x: string; y: string };
  const s = Buffer.alloc(1028);
  s.writeUInt32LE(2, 0);
  Buffer.from(jwk.x, 'base64url').reverse().copy(s, 4);
  Buffer.from(jwk.y, 'base64url').reverse().copy(s, 76);
  return createHash('sha384').update(s).digest('hex');
}

test('igvmgen vectors: digest = manifest launch digest, policy 0x3001f, svn 2, family 01…, image 02…, ID key digest from the PEM', () => {
  const cases = new Map(manifest().map((c) => [c.name, c]));
  const keyDigest = idKeyDigest();
  for (const v of storedVectors()) {
    const ref = referenceValues(parseIgvm(v.bytes), v.bytes);
    assert.equal(ref.schema, REFERENCE_SCHEMA);
    assert.equal(hex(ref.file_sha256), createHash('sha256').update(v.bytes).digest('hex'), v.name);
    assert.equal(ref.platforms.length, 1, v.name);
    const p = ref.platforms[0]!;
    assert.equal(p.platform, 'sev-snp');
    assert.equal(p.vmm, 'igvm');
    assert.equal(p.algorithm, 'sha384');
    assert.equal(p.vcpus, null);
    assert.equal(hex(p.digest), cases.get(v.name)?.launch_digest, v.name);
    assert.equal(p.policy, 0x3001fn);
    assert.equal(p.svn, 2);
    assert.equal(hex(p.family_id), '01' + '00'.repeat(15));
    assert.equal(hex(p.image_id), '02' + '00'.repeat(15));
    assert.equal(hex(p.id_key_digest), keyDigest);
    assert.equal(p.author_key_digest, null);
    assert.deepEqual(p.id_block && { s: p.id_block.signature_valid, l: p.id_block.ld_matches, p: p.id_block.problems }, { s: true, l: true, p: [] });
    assert.equal(p.error, null);
  }
});

test('multi-platform file: one entry per declared measured platform in header order, NATIVE skipped, errors per platform', () => {
  const b = new IgvmBuilder();
  const tdx = b.platform('TDX');
  b.platform('NATIVE');
  const snp = b.platform('SEV_SNP'); // no GUEST_POLICY: the crate rule cannot measure it
  const es = b.platform('SEV_ES');
  b.guestPolicy(0x12345n, tdx);
  b.pages(0x100000n, Uint8Array.of(1, 2, 3), tdx | snp | es);
  const bytes = b.toBytes();
  const file = parseIgvm(bytes);
  const ref = referenceValues(file, bytes);
  assert.deepEqual(ref.platforms.map((p) => p.platform), ['tdx', 'sev-snp', 'sev-es']);
  const [t, s, e] = ref.platforms;
  assert.equal(hex(t?.digest ?? null), hex(measureTdx(file).digest));
  assert.equal(t?.policy, 0x12345n);
  assert.equal(t?.svn, null);
  assert.equal(s?.digest, null);
  assert.match(s?.error ?? '', /GUEST_POLICY|policy/i);
  assert.equal(hex(e?.digest ?? null), hex(measureSevIgvmmeasure(file, 'sev-es').digest));
  assert.equal(e?.vmm, 'igvmmeasure');
  assert.equal(e?.algorithm, 'sha256');
  // the qemu model measures the SNP platform without a policy (QEMU uses 0)
  const q = referenceValues(file, bytes, { platforms: ['sev-snp'], vmm: 'qemu', vcpus: 2 });
  assert.equal(q.platforms.length, 1);
  assert.equal(hex(q.platforms[0]?.digest ?? null), hex(measureSnp(file, 'qemu', { vcpus: 2 }).digest));
  assert.equal(q.platforms[0]?.vcpus, 2);
  // asking for an undeclared platform is the platform's own error
  assert.throws(() => referenceValues(file, bytes, { platforms: ['vbs'] }), (x: unknown) => x instanceof IgvmError && x.code === 'measure-no-vbs-platform');
});

test('vmm qemu: SEV-ES reference values are the QEMU + KVM LD with the sev-guest launch policy', () => {
  const b = new IgvmBuilder();
  const es = b.platform('SEV_ES');
  b.guestPolicy(0x7n, es);
  b.pageData(0x100000n, es, Uint8Array.of(4, 5, 6));
  b.vmsa(0xfffffffff000n, es, 0, { rip: 0xfff0n, xcr0: 1n });
  const bytes = b.toBytes();
  const file = parseIgvm(bytes);
  const q = referenceValues(file, bytes, { vmm: 'qemu', vcpus: 2 }).platforms[0];
  assert.equal(hex(q?.digest ?? null), hex(measureSevQemu(file, 'sev-es', { vcpus: 2 }).digest));
  assert.equal(q?.policy, 0x5n); // QEMU's sev-guest default for SEV-ES, not the file's 0x7
  assert.equal(q?.vcpus, 2);
  const i = referenceValues(file, bytes).platforms[0];
  assert.equal(i?.vmm, 'igvmmeasure');
  assert.equal(i?.policy, 0x7n);
});
