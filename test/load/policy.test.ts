// SNP_ID_BLOCK and GUEST_POLICY (QEMU-LOADER.md §5.9, §5.10, §7.5, §7.6): the structures QEMU builds, one ID block,
// the policy from GUEST_POLICY, and what SEV/SEV-ES and native loads do with them.
import test from 'node:test';
import assert from 'node:assert/strict';
import { IgvmBuilder } from '../../src/builder.js';
import { failsWith, filled, loaded, nativeBuilder, SNP_KVM, snpBuilder } from './fixtures.js';

const bytes = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (seed + i) & 0xff);

/** An IGVM public key: curve u32, reserved u32 (non-zero here, to show it is dropped), qx[72], qy[72]. */
function igvmKey(curve: number, seed: number): Uint8Array {
  const k = new Uint8Array(152);
  new DataView(k.buffer).setUint32(0, curve, true);
  new DataView(k.buffer).setUint32(4, 0xdeadbeef, true);
  k.set(bytes(72, seed), 8);
  k.set(bytes(72, seed + 100), 80);
  return k;
}

function withIdBlock(author: boolean, policy: bigint | null = 0x3001fn): Uint8Array {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  if (policy !== null) b.guestPolicy(policy, m);
  b.pageData(0x100000n, m, filled(1, 4));
  b.snpIdBlock({
    compatibility_mask: m, ld: bytes(48, 1), family_id: bytes(16, 50), image_id: bytes(16, 70), version: 7, guest_svn: 3,
    id_key_algorithm: 1, author_key_algorithm: author ? 1 : 0, id_key_signature: bytes(144, 90), id_public_key: igvmKey(2, 10),
    author_key_signature: author ? bytes(144, 200) : new Uint8Array(144), author_public_key: author ? igvmKey(2, 30) : new Uint8Array(152),
  });
  return b.toBytes();
}

test('§5.9: the ID block: ld, family_id, image_id, guest_svn copied, version forced to 1, policy = GUEST_POLICY', () => {
  const id = loaded(withIdBlock(false), SNP_KVM).snp?.idBlock;
  assert.ok(id);
  const v = new DataView(id.idBlock.buffer);
  assert.equal(id.idBlock.length, 96);
  assert.deepEqual(id.idBlock.subarray(0, 48), bytes(48, 1));
  assert.deepEqual(id.idBlock.subarray(0x30, 0x40), bytes(16, 50));
  assert.deepEqual(id.idBlock.subarray(0x40, 0x50), bytes(16, 70));
  assert.equal(v.getUint32(0x50, true), 1, 'version forced to 1 (the file says 7)');
  assert.equal(v.getUint32(0x54, true), 3);
  assert.equal(v.getBigUint64(0x58, true), 0x3001fn);
});

test('§5.9: the ID auth structure: algorithms, signatures at 0x40/0x680, keys as curve ‖ Qx ‖ Qy at 0x240/0x880', () => {
  const id = loaded(withIdBlock(true), SNP_KVM).snp!.idBlock!;
  const a = id.idAuth;
  const v = new DataView(a.buffer);
  assert.equal(a.length, 4096);
  assert.deepEqual([v.getUint32(0, true), v.getUint32(4, true)], [1, 1]);
  assert.deepEqual(a.subarray(0x40, 0x40 + 144), bytes(144, 90));
  assert.ok(a.subarray(0x40 + 144, 0x240).every((x) => x === 0));
  assert.equal(v.getUint32(0x240, true), 2);
  assert.deepEqual(a.subarray(0x244, 0x244 + 72), bytes(72, 10), 'Qx right after the curve (reserved u32 dropped)');
  assert.deepEqual(a.subarray(0x28c, 0x28c + 72), bytes(72, 110));
  assert.deepEqual(a.subarray(0x680, 0x680 + 144), bytes(144, 200));
  assert.equal(v.getUint32(0x880, true), 2);
  assert.deepEqual(a.subarray(0x884, 0x884 + 72), bytes(72, 30));
  assert.equal(id.authorKeyEnabled, true);
});

test('§5.9: the author key is enabled iff the first byte of the author key (its curve) is non-zero', () => {
  assert.equal(loaded(withIdBlock(false), SNP_KVM).snp?.idBlock?.authorKeyEnabled, false);
});

test('§5.9: a second matching ID block is fatal', () => {
  const { b, m } = snpBuilder();
  b.snpIdBlock({ compatibility_mask: m }).snpIdBlock({ compatibility_mask: m });
  failsWith(b.toBytes(), 'IGVM: Multiple ID blocks encountered in IGVM file.', SNP_KVM);
});

test('§5.9: ID blocks are processed whatever the platform, but used only for SEV-SNP', () => {
  const { b, m } = nativeBuilder();
  b.pageData(0x100000n, m).snpIdBlock({ compatibility_mask: m });
  const plan = loaded(b.toBytes());
  assert.equal(plan.snp, undefined);
  const two = nativeBuilder();
  two.b.snpIdBlock({ compatibility_mask: two.m }).snpIdBlock({ compatibility_mask: two.m });
  failsWith(two.b.toBytes(), 'IGVM: Multiple ID blocks encountered in IGVM file.');
});

test('§5.10/§7.5: the GUEST_POLICY value is handed over at the end; the launch policy is the object\'s', () => {
  const f = withIdBlock(false, 0x3001fn);
  const dflt = loaded(f, SNP_KVM).snp!;
  assert.deepEqual([dflt.guestPolicy, dflt.launchPolicy], [0x3001fn, 0x3001fn], 'by default the object gets the file\'s policy');
  const other = loaded(f, { ...SNP_KVM, snpPolicy: 0x30000n });
  assert.deepEqual([other.snp?.guestPolicy, other.snp?.launchPolicy], [0x3001fn, 0x30000n]);
  assert.ok(other.notes.some((n) => n.includes('differs from the file')));
});

test('§7.5: without a GUEST_POLICY the policy handed over (and in the ID block) is 0', () => {
  const snp = loaded(withIdBlock(false, null), SNP_KVM).snp!;
  assert.equal(snp.guestPolicy, 0n);
  assert.equal(new DataView(snp.idBlock!.idBlock.buffer).getBigUint64(0x58, true), 0n);
  assert.equal(snp.launchPolicy, 0x30000n, 'QEMU\'s default object policy');
});

test('§7.6: for SEV and SEV-ES the GUEST_POLICY and an ID block are ignored', () => {
  const b = new IgvmBuilder();
  const m = b.platform('SEV_ES');
  b.guestPolicy(0x7n, m).pageData(0x100000n, m).snpIdBlock({ compatibility_mask: m });
  const plan = loaded(b.toBytes(), { platform: 'sev-es', accel: 'kvm' });
  assert.equal(plan.sev?.launchPolicy, 0x5);
  assert.equal(plan.snp, undefined);
  assert.equal(plan.guestPolicy, 0x7n, 'selected by the mask, but not used');
});
