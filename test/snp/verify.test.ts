// igvm verify: ID block signature, ld against the launch digest, key digests (MEASUREMENT.md §7), on the igvmgen vectors.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, VECTORS, storedVectors } from '../helpers.js';
import { refreshChecksum, walkRecords } from '../raw-igvm.js';
import { parseIgvm } from '../../src/format/index.js';
import { verifyIdBlocks } from '../../src/snp/verify.js';

const CLI = join(REPO_ROOT, 'dist', 'src', 'cli', 'igvm.js');

/** ID_KEY_DIGEST computed independently: curve 2 ‖ x, y little-endian in 72-byte fields, zero-padded to 1028, SHA-384. */
function expectedIdKeyDigest(): string {
  const jwk = createPublicKey(readFileSync(join(VECTORS, 'inputs', 'sign_key.pem'))).export({ format: 'jwk' }) as { x: string; y: string };
  const s = Buffer.alloc(1028);
  s.writeUInt32LE(2, 0);
  Buffer.from(jwk.x, 'base64url').reverse().copy(s, 4);
  Buffer.from(jwk.y, 'base64url').reverse().copy(s, 4 + 72);
  return createHash('sha384').update(s).digest('hex');
}

test('every stored igvmgen vector: signature valid, ld = the crate digest, ID key digest as computed independently', () => {
  const want = expectedIdKeyDigest();
  for (const v of storedVectors()) {
    const [r] = verifyIdBlocks(parseIgvm(v.bytes));
    assert.ok(r, v.name);
    assert.equal(r.signatureValid, true, v.name);
    assert.equal(r.ldMatches, true, v.name);
    assert.deepEqual(r.problems, [], v.name);
    assert.equal(Buffer.from(r.idKeyDigest).toString('hex'), want, v.name);
    assert.equal(r.authorKeyDigest, undefined);
    assert.equal(r.policy, 0x3001fn);
  }
});

test('a changed signature byte or ld is detected; the CLI exits 1 and names the problem', () => {
  const v = storedVectors().find((x) => x.name === 'T_bzImage');
  assert.ok(v);
  const rec = walkRecords(v.bytes).find((r) => r.type === 0x30b);
  assert.ok(rec);
  const dir = mkdtempSync(join(tmpdir(), 'igvmkit-verify-'));
  try {
    for (const [what, at, re] of [['signature', rec.body + 0x68, /signature does not verify/], ['ld', rec.body + 0x08, /ld differs from the igvm launch digest/]] as const) {
      const changed = v.bytes.slice();
      changed[at] = (changed[at] ?? 0) ^ 1;
      const bytes = refreshChecksum(changed);
      const [r] = verifyIdBlocks(parseIgvm(bytes));
      assert.ok(r && r.problems.some((p) => re.test(p)), `${what}: ${r?.problems.join('; ')}`);
      const path = join(dir, `${what}.igvm`);
      writeFileSync(path, bytes);
      const cli = spawnSync(process.execPath, [CLI, 'verify', path], { encoding: 'utf8' });
      assert.equal(cli.status, 1, cli.stderr);
      assert.match(cli.stdout, /NOT usable/);
      assert.match(cli.stdout, re);
    }
    const ok = spawnSync(process.execPath, [CLI, 'verify', v.path, '--json'], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    const j = JSON.parse(ok.stdout) as { blocks: { signatureValid: boolean; ldMatches: boolean }[] };
    assert.equal(j.blocks[0]?.signatureValid, true);
    const qemu = spawnSync(process.execPath, [CLI, 'verify', v.path, '--vmm', 'clh-kvm'], { encoding: 'utf8' });
    assert.equal(qemu.status, 1, 'igvmgen ld is not the Cloud Hypervisor/KVM digest');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
