// `igvm sign` run as a child process: igvmgen vectors reproduced, offline export → node:crypto → import → `igvm verify`,
// --policy, --export-id-key + offline author signature, errors and exit codes (0 ok, 1 problems, 2 usage, 3 I/O), no output left on error.
import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, verify as nodeVerify } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VECTORS, EXPECTED, assertSameBytes } from '../helpers.js';
import { parseIgvm } from '../../src/format/index.js';
import { IgvmBuilder } from '../../src/builder.js';
import type { SnpIdBlock } from '../../src/model.js';
import { runIgvm, runInfo, type Run } from './run-cli.js';

const KEY = join(VECTORS, 'inputs', 'sign_key.pem');
const T_BZ = join(EXPECTED, 'T_bzImage.igvm');


const igvm = (args: string[]): Run => runIgvm([...args]);
const info = runInfo;

const dir = mkdtempSync(join(tmpdir(), 'igvm-sign-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const at = (name: string): string => join(dir, name);
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(at(name)));

function keyPair(name: string, curve = 'P-384'): { priv: string; pub: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: curve });
  writeFileSync(at(`${name}.pem`), privateKey.export({ type: 'sec1', format: 'pem' }));
  writeFileSync(at(`${name}-pub.pem`), publicKey.export({ type: 'spki', format: 'pem' }));
  return { priv: at(`${name}.pem`), pub: at(`${name}-pub.pem`) };
}

function idBlock(bytes: Uint8Array): SnpIdBlock {
  const d = parseIgvm(bytes).directives.find((x) => x.type === 'SNP_ID_BLOCK');
  assert.ok(d && d.type === 'SNP_ID_BLOCK');
  return d;
}

function idBlockOf(file: ReturnType<typeof parseIgvm>): SnpIdBlock {
  return file.directives.find((x) => x.type === 'SNP_ID_BLOCK') as SnpIdBlock;
}

/** node:crypto check of an IGVM {r, s} field by an IGVM public key field over `message`. */
function nodeVerifies(message: Uint8Array, sigField: Uint8Array, keyField: Uint8Array): boolean {
  const be = (f: Uint8Array, o: number) => Buffer.from(f.subarray(o, o + 48)).reverse();
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: be(keyField, 8).toString('base64url'), y: be(keyField, 80).toString('base64url') }, format: 'jwk' });
  return nodeVerify('sha384', message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([be(sigField, 0), be(sigField, 72)]));
}

/** Nothing named `name` (nor a temp file of it) was left in the directory. */
function noOutput(name: string): void {
  assert.ok(!existsSync(at(name)), `${name} must not exist`);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith(`${name}.`)), [], 'no temp files');
}

test('igvmgen vectors: --deterministic with the igvmgen key and fields reproduces the file byte for byte', () => {
  for (const name of ['T_bzImage', 'T_bzImage2', 'T_elf_x64_pgt2']) {
    const r = igvm(['sign', join(EXPECTED, `${name}.igvm`), '--id-key', KEY, '--family-id', '01', '--image-id', '02', '--svn', '2', '--deterministic', '-o', at(`${name}.igvm`)]);
    assert.equal(r.status, 0, info(r));
    assert.match(r.stdout, /replaced SNP_ID_BLOCK #\d+, mask 0x1; signature verified/);
    assert.match(r.stdout, /^  family_id: 01000000000000000000000000000000$/m);
    assertSameBytes(read(`${name}.igvm`), new Uint8Array(readFileSync(join(EXPECTED, `${name}.igvm`))), name);
  }
});

test('offline round trip: export the block, sign it with node:crypto, import it; igvm verify accepts the output', () => {
  const hsm = keyPair('hsm');
  const fields = ['--family-id', 'aabb', '--image-id', '02', '--svn', '7', '--vmm', 'clh-kvm', '--vcpus', '3'];
  const ex = igvm(['sign', '--export-id-block', T_BZ, ...fields, '-o', at('block.bin')]);
  assert.equal(ex.status, 0, info(ex));
  assert.match(ex.stdout, /^wrote .*block\.bin: the 96-byte SEV-SNP ID block to sign/m);
  assert.match(ex.stdout, /^  model: +clh-kvm: .*, 3 vCPUs$/m);
  assert.match(ex.stdout, /^  policy: +0x3001f \(from the GUEST_POLICY\)$/m);
  const block = read('block.bin');
  assert.equal(block.length, 96);
  assert.deepEqual([...block.subarray(48, 50)], [0xaa, 0xbb]);
  const ld = /^  ld: +([0-9a-f]{96})$/m.exec(ex.stdout)![1]!;
  assert.equal(Buffer.from(block.subarray(0, 48)).toString('hex'), ld);

  const priv = createPrivateKey(readFileSync(hsm.priv));
  writeFileSync(at('block.der'), nodeSign('sha384', block, { key: priv, dsaEncoding: 'der' }));
  writeFileSync(at('block.raw'), nodeSign('sha384', block, { key: priv, dsaEncoding: 'ieee-p1363' }));
  const online = igvm(['sign', T_BZ, ...fields, '--id-key', hsm.priv, '-o', at('online.igvm')]);
  assert.equal(online.status, 0, info(online));
  for (const [sig, out] of [['block.der', 'offline.igvm'], ['block.raw', 'offline-raw.igvm']] as const) {
    const r = igvm(['sign', T_BZ, ...fields, '--id-signature', at(sig), '--id-public-key', hsm.pub, '-o', at(out)]);
    assert.equal(r.status, 0, info(r));
    const v = igvm(['verify', at(out), '--vmm', 'clh-kvm', '--vcpus', '3']);
    assert.equal(v.status, 0, info(v));
    const h = idBlock(read(out));
    assert.ok(nodeVerifies(block, h.id_key_signature, h.id_public_key));
    // Equal to the online result except the checksum and the 144 signature bytes.
    const a = read('online.igvm');
    const b = read(out);
    assert.equal(a.length, b.length);
    const diff: number[] = [];
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff.push(i);
    const parsed = parseIgvm(a);
    const sigStart = parsed.source!.records.get(idBlockOf(parsed))!.offset + 8 + 0x68;
    assert.ok(diff.every((i) => (i >= 0x14 && i < 0x18) || (i >= sigStart && i < sigStart + 144)), `differences at ${diff.slice(0, 5).map((x) => x.toString(16))}`);
  }
  // --id-block instead of the field options.
  const viaBlock = igvm(['sign', T_BZ, '--vmm', 'clh-kvm', '--vcpus', '3', '--id-block', at('block.bin'), '--id-signature', at('block.der'), '--id-public-key', hsm.pub, '-o', at('via-block.igvm')]);
  assert.equal(viaBlock.status, 0, info(viaBlock));
  assertSameBytes(read('via-block.igvm'), read('offline.igvm'), '--id-block');
  // The block's ld is not the digest of the default model: exit 1, nothing written.
  const wrongModel = igvm(['sign', T_BZ, '--id-block', at('block.bin'), '--id-signature', at('block.der'), '--id-public-key', hsm.pub, '-o', at('wrong-model.igvm')]);
  assert.equal(wrongModel.status, 1, info(wrongModel));
  assert.match(wrongModel.stderr, /ld .* is not the file's igvm launch digest/);
  noOutput('wrong-model.igvm');

  // Tampered signature / other field options: exit 1, a hint about the options, no output file.
  const t = read('block.raw');
  t[10]! ^= 0x40;
  writeFileSync(at('tampered.raw'), t);
  for (const [sig, extra] of [['tampered.raw', fields], ['block.der', fields.map((x) => (x === '7' ? '8' : x))]] as const) {
    const r = igvm(['sign', T_BZ, ...extra, '--id-signature', at(sig), '--id-public-key', hsm.pub, '-o', at('bad.igvm')]);
    assert.equal(r.status, 1, info(r));
    assert.match(r.stderr, /^igvm: error: .*: the ID signature .* does not verify over this file's ID block .*--export-id-block.* \[sign-signature-invalid\]\n$/);
    noOutput('bad.igvm');
  }
  // A signature file that is neither DER nor raw: exit 2.
  writeFileSync(at('junk.sig'), 'hello');
  const junk = igvm(['sign', T_BZ, '--id-signature', at('junk.sig'), '--id-public-key', hsm.pub, '-o', at('bad.igvm')]);
  assert.equal(junk.status, 2, info(junk));
  assert.match(junk.stderr, /junk\.sig: expected a DER ECDSA-Sig-Value .* or a raw 96-byte/);
  noOutput('bad.igvm');
});

test('--policy replaces the GUEST_POLICY and the signature covers it; on a file without one it is added', () => {
  const r = igvm(['sign', T_BZ, '--id-key', KEY, '--policy', '0x30000', '-o', at('policy.igvm')]);
  assert.equal(r.status, 0, info(r));
  assert.match(r.stdout, /policy: +0x30000 \(set by --policy, GUEST_POLICY replaced\)/);
  const bytes = read('policy.igvm');
  const file = parseIgvm(bytes);
  const gp = file.initializations.find((x) => x.type === 'GUEST_POLICY');
  assert.ok(gp && gp.type === 'GUEST_POLICY' && gp.policy === 0x30000n);
  const h = idBlock(bytes);
  const message = new Uint8Array(96);
  message.set(h.ld, 0);
  const dv = new DataView(message.buffer);
  dv.setUint32(80, 1, true);
  dv.setBigUint64(88, 0x30000n, true);
  assert.ok(nodeVerifies(message, h.id_key_signature, h.id_public_key), 'signed with policy 0x30000');
  dv.setBigUint64(88, 0x3001fn, true);
  assert.ok(!nodeVerifies(message, h.id_key_signature, h.id_public_key), 'not with the old policy');
  const v = igvm(['verify', at('policy.igvm')]);
  assert.equal(v.status, 0, info(v));

  const b = new IgvmBuilder();
  const m = b.platform('SEV_SNP');
  b.pageData(0x1000n, m, new Uint8Array(4096).fill(3));
  writeFileSync(at('nopolicy.igvm'), b.toBytes());
  const missing = igvm(['sign', at('nopolicy.igvm'), '--id-key', KEY, '-o', at('np.igvm')]);
  assert.equal(missing.status, 1, info(missing));
  assert.match(missing.stderr, /no GUEST_POLICY .* pass --policy HEX/);
  noOutput('np.igvm');
  const added = igvm(['sign', at('nopolicy.igvm'), '--id-key', KEY, '--policy', '30000', '-o', at('np.igvm')]);
  assert.equal(added.status, 0, info(added));
  assert.match(added.stdout, /GUEST_POLICY added/);
  assert.equal(igvm(['verify', at('np.igvm')]).status, 0);
});

test('author key: online, and offline through --export-id-key; the author signature covers the ID key structure', () => {
  const id = keyPair('id');
  const author = keyPair('author');
  const ex = igvm(['sign', '--export-id-key', id.pub, '-o', at('idkey.bin')]);
  assert.equal(ex.status, 0, info(ex));
  assert.match(ex.stdout, /1028-byte SEV-SNP ID key structure/);
  const structure = read('idkey.bin');
  assert.equal(structure.length, 1028);
  writeFileSync(at('idkey.sig'), nodeSign('sha384', structure, { key: createPrivateKey(readFileSync(author.priv)), dsaEncoding: 'der' }));
  const off = igvm(['sign', T_BZ, '--id-key', id.priv, '--author-signature', at('idkey.sig'), '--author-public-key', author.pub, '-o', at('author-off.igvm')]);
  assert.equal(off.status, 0, info(off));
  const on = igvm(['sign', T_BZ, '--id-key', id.priv, '--author-key', author.priv, '-o', at('author-on.igvm')]);
  assert.equal(on.status, 0, info(on));
  for (const [out, r] of [['author-off.igvm', off], ['author-on.igvm', on]] as const) {
    const h = idBlock(read(out));
    assert.equal(h.author_key_enabled, 1);
    assert.equal(h.author_key_algorithm, 1);
    assert.ok(nodeVerifies(structure, h.author_key_signature, h.author_public_key), out);
    const idDigest = /id key digest: +([0-9a-f]{96})/.exec(r.stdout)![1];
    assert.equal(idDigest, /id key digest: ([0-9a-f]{96})/.exec(ex.stdout)![1]);
    assert.match(r.stdout, /author key digest: +[0-9a-f]{96}/);
  }
  // An author signature over another ID key: exit 1.
  const other = keyPair('other');
  const bad = igvm(['sign', T_BZ, '--id-key', other.priv, '--author-signature', at('idkey.sig'), '--author-public-key', author.pub, '-o', at('author-bad.igvm')]);
  assert.equal(bad.status, 1, info(bad));
  assert.match(bad.stderr, /author signature .* does not verify/);
  noOutput('author-bad.igvm');
});

test('errors: P-256 key, no SEV-SNP platform, bad ids and option combinations; exit codes and no output', () => {
  const p256 = keyPair('p256', 'P-256');
  const cases: { args: string[]; status: number; stderr: RegExp }[] = [
    { args: [T_BZ, '--id-key', p256.priv], status: 2, stderr: /p256\.pem: the key is on curve P-256 .*needs P-384/ },
    { args: [T_BZ, '--id-signature', KEY, '--id-public-key', p256.pub], status: 2, stderr: /p256-pub\.pem: the public key is on curve P-256/ },
    { args: [T_BZ, '--id-key', KEY, '--family-id', '00'.repeat(17)], status: 2, stderr: /--family-id' expects 1 to 16 bytes.*17 bytes, more than 16/ },
    { args: [T_BZ, '--id-key', KEY, '--image-id', '0x01'], status: 2, stderr: /without 0x/ },
    { args: [T_BZ, '--id-key', KEY, '--image-id', '123'], status: 2, stderr: /odd number of hex digits/ },
    { args: [T_BZ, '--id-key', KEY, '--svn', '-1'], status: 2, stderr: /--svn' expects an integer/ },
    { args: [T_BZ, '--id-key', KEY, '--policy', 'xyz'], status: 2, stderr: /--policy' expects a hexadecimal/ },
    { args: [T_BZ], status: 2, stderr: /give '--id-key'/ },
    { args: [T_BZ, '--id-key', KEY, '--id-signature', KEY], status: 2, stderr: /cannot be combined/ },
    { args: [T_BZ, '--id-signature', KEY], status: 2, stderr: /needs '--id-public-key'/ },
    { args: ['--export-id-block', T_BZ, '--id-key', KEY], status: 2, stderr: /'--id-key' cannot be combined with '--export-id-block'/ },
    { args: [at('missing.igvm'), '--id-key', KEY], status: 3, stderr: /cannot read '.*missing\.igvm': no such file/ },
  ];
  for (const c of cases) {
    const r = igvm(['sign', ...c.args, '-o', at('err.igvm')]);
    assert.equal(r.status, c.status, `${c.args.join(' ')}\n${info(r)}`);
    assert.match(r.stderr, c.stderr, c.args.join(' '));
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    noOutput('err.igvm');
  }
  const b = new IgvmBuilder();
  b.pageData(0x1000n, b.platform('NATIVE'), new Uint8Array(4096));
  writeFileSync(at('native.igvm'), b.toBytes());
  const r = igvm(['sign', at('native.igvm'), '--id-key', KEY, '-o', at('err.igvm')]);
  assert.equal(r.status, 1, info(r));
  assert.match(r.stderr, /native\.igvm: the file declares no SEV_SNP platform .*cannot carry an SNP ID block \[sign-no-snp\]/);
  noOutput('err.igvm');
  const v2 = igvm(['sign', T_BZ, '--id-key', KEY, '--version', '2', '-o', at('v2.igvm')]);
  assert.equal(v2.status, 0, info(v2));
  assert.match(v2.stderr, /^igvm: warning: version is 2: the firmware requires 1 and QEMU forces 1/);
});
