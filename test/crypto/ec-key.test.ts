// EC key parsing (RFC 5915 SEC1, RFC 5208/5958 PKCS#8, RFC 5480 SPKI) against keys made by node:crypto (IGVMGEN.md §9.3).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IgvmError } from '../../src/errors.js';
import { parseEcPrivateKey, parseEcPublicKey, ecPublicKeyOf, describeCurve } from '../../src/crypto/ec-key.js';
import { base64Decode, parsePem } from '../../src/crypto/der.js';
import { VECTORS } from '../helpers.js';

const SIGN_KEY = join(VECTORS, 'inputs', 'sign_key.pem');

function throwsIgvm(fn: () => unknown, code: string, messageIncludes?: RegExp): IgvmError {
  let caught: IgvmError | undefined;
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IgvmError, `expected IgvmError, got ${String(e)}`);
    assert.equal(e.code, code, `error code (message: ${e.message})`);
    if (messageIncludes) assert.match(e.message, messageIncludes);
    caught = e;
    return true;
  });
  return caught!;
}

const b64url = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

function jwkOf(k: KeyObject): { d: Uint8Array; x: Uint8Array; y: Uint8Array } {
  const j = k.export({ format: 'jwk' });
  return { d: b64url(j.d!), x: b64url(j.x!), y: b64url(j.y!) };
}

test('the reference sign_key.pem (SEC1 P-384) parses to the scalar and public point node:crypto sees', () => {
  const pem = readFileSync(SIGN_KEY);
  const key = parseEcPrivateKey(new Uint8Array(pem), 'sign_key.pem');
  assert.equal(key.curve, 'P-384');
  assert.equal(key.file, 'sign_key.pem');
  const ref = jwkOf(createPrivateKey(pem));
  assert.deepEqual(key.d, ref.d);
  const pub = ecPublicKeyOf(key);
  assert.deepEqual(pub.x, ref.x);
  assert.deepEqual(pub.y, ref.y);
  // The same key given as a string parses identically.
  assert.deepEqual(parseEcPrivateKey(pem.toString('latin1')).d, key.d);
});

const CURVES = [
  { node: 'P-384', name: 'P-384', size: 48 },
  { node: 'P-256', name: 'P-256', size: 32 },
  { node: 'secp256k1', name: 'secp256k1', size: 32 },
  { node: 'P-521', name: 'P-521', size: 66 },
] as const;

for (const c of CURVES) {
  test(`${c.name}: SEC1 and PKCS#8, PEM and DER, private and public keys parse`, () => {
    for (let round = 0; round < 4; round++) {
      const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: c.node });
      const ref = jwkOf(privateKey);
      const forms: (string | Uint8Array)[] = [
        privateKey.export({ type: 'sec1', format: 'pem' }) as string,
        privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
        new Uint8Array(privateKey.export({ type: 'sec1', format: 'der' })),
        new Uint8Array(privateKey.export({ type: 'pkcs8', format: 'der' })),
        new Uint8Array(Buffer.from(privateKey.export({ type: 'sec1', format: 'pem' }) as string)),
      ];
      for (const f of forms) {
        const key = parseEcPrivateKey(f);
        assert.equal(key.curve, c.name);
        assert.equal(key.d.length, c.size);
        assert.deepEqual(key.d, ref.d);
      }
      for (const f of [publicKey.export({ type: 'spki', format: 'pem' }) as string, new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }))]) {
        const pub = parseEcPublicKey(f);
        assert.equal(pub.curve, c.name);
        assert.deepEqual(pub.x, ref.x);
        assert.deepEqual(pub.y, ref.y);
      }
      if (c.name !== 'secp256k1') {
        const derived = ecPublicKeyOf(parseEcPrivateKey(forms[0]!));
        assert.deepEqual([derived.x, derived.y], [ref.x, ref.y]);
      }
    }
  });
}

test('a compressed SPKI point is decompressed on the NIST curves', () => {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const ref = publicKey.export({ format: 'jwk' });
  const spki = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  // Rewrite the uncompressed point (last 97 bytes) as 02/03 ‖ x and fix the lengths (BIT STRING 0x62 → 0x32, outer 0x76 → 0x46).
  const x = b64url(ref.x!);
  const y = b64url(ref.y!);
  const head = spki.slice(0, spki.length - 97);
  assert.equal(head[1], 0x76);
  head[1] = 0x46;
  assert.equal(head[head.length - 2], 0x62);
  head[head.length - 2] = 0x32;
  const compressed = new Uint8Array([...head, 2 + (y[47]! & 1), ...x]);
  const pub = parseEcPublicKey(compressed);
  assert.deepEqual([pub.x, pub.y], [x, y]);
});

test('SEC1 keys from the outside world: EC PARAMETERS block first, explanatory text, CRLF line ends', () => {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const sec1 = privateKey.export({ type: 'sec1', format: 'pem' }) as string;
  const params = '-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n';
  const text = `Subject: test key\n${params}${sec1}`.replace(/\n/g, '\r\n');
  assert.deepEqual(parseEcPrivateKey(text).d, jwkOf(privateKey).d);
});

test('malformed keys give IgvmError with a specific code', () => {
  const pem = readFileSync(SIGN_KEY, 'latin1');
  const lines = pem.trim().split('\n');
  const body = lines.slice(1, -1).join('\n');
  const der = base64Decode(body);
  const armour = (label: string, b64: string) => `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;

  // Armour and base64.
  throwsIgvm(() => parseEcPrivateKey('just some text'), 'key-bad-pem', /PEM block/);
  throwsIgvm(() => parseEcPrivateKey(new Uint8Array([1, 2, 3])), 'key-bad-pem', /neither/);
  throwsIgvm(() => parseEcPrivateKey(pem.replace('MIGk', 'MI*k')), 'key-bad-pem', /invalid base64 character "\*"/);
  throwsIgvm(() => parseEcPrivateKey(pem.replace('Kdax8=', 'Kdax8')), 'key-bad-pem', /multiple of 4/);
  throwsIgvm(() => parseEcPrivateKey(pem.replace('-----END EC PRIVATE KEY-----', '')), 'key-bad-pem', /no "-----END EC PRIVATE KEY-----"/);
  throwsIgvm(() => parseEcPrivateKey(pem.replace('END EC PRIVATE KEY', 'END PRIVATE KEY')), 'key-bad-pem', /does not close/);
  const wrong = throwsIgvm(() => parseEcPrivateKey(armour('CERTIFICATE', body), 'k.pem'), 'key-bad-pem', /expected a "-----BEGIN EC PRIVATE KEY-----".*found "CERTIFICATE"/);
  assert.equal(wrong.file, 'k.pem');
  assert.match(wrong.describe(), /^k\.pem: /);

  // DER structure.
  throwsIgvm(() => parseEcPrivateKey(armour('EC PRIVATE KEY', Buffer.from(der.subarray(0, 100)).toString('base64'))), 'key-bad-der', /truncated DER/);
  const truncated = throwsIgvm(() => parseEcPrivateKey(der.subarray(0, 60)), 'key-bad-der', /truncated DER/);
  assert.equal(truncated.offset, 0, 'raw DER input reports the file offset');
  throwsIgvm(() => parseEcPrivateKey(new Uint8Array([...der, 0])), 'key-bad-der', /unexpected bytes/);
  const v2 = der.slice();
  v2[5] = 2; // version INTEGER 1 → 2
  throwsIgvm(() => parseEcPrivateKey(v2), 'key-bad-der', /ecPrivkeyVer1/);

  // Not EC, encrypted, curve problems.
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  throwsIgvm(() => parseEcPrivateKey(rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), 'key-not-ec', /RSA key \(1\.2\.840\.113549\.1\.1\.1\)/);
  throwsIgvm(() => parseEcPrivateKey(rsa.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string), 'key-not-ec', /RSA PRIVATE KEY/);
  throwsIgvm(() => parseEcPrivateKey(new Uint8Array(rsa.privateKey.export({ type: 'pkcs8', format: 'der' }))), 'key-not-ec');
  throwsIgvm(() => parseEcPublicKey(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string), 'key-not-ec');
  const ed = generateKeyPairSync('ed25519');
  throwsIgvm(() => parseEcPrivateKey(ed.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string), 'key-not-ec', /Ed25519/);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const encrypted = ec.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
  throwsIgvm(() => parseEcPrivateKey(encrypted), 'key-encrypted');
  const legacy = ec.privateKey.export({ type: 'sec1', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'x' }) as string;
  throwsIgvm(() => parseEcPrivateKey(legacy), 'key-encrypted', /Proc-Type/);
  // SEC1 without [0] parameters (strip them: the DER has no curve then).
  const noParams = stripSec1Params(der);
  throwsIgvm(() => parseEcPrivateKey(noParams), 'key-no-curve');
  // A private key where a public key is expected, and the other way round.
  throwsIgvm(() => parseEcPublicKey(pem), 'key-bad-pem', /PUBLIC KEY/);
  throwsIgvm(() => parseEcPrivateKey(ec.publicKey.export({ type: 'spki', format: 'pem' }) as string), 'key-bad-pem');
  // Public key embedded in SEC1 that belongs to another key.
  const other = new Uint8Array(generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ type: 'sec1', format: 'der' }));
  const mixed = der.slice();
  mixed.set(other.subarray(other.length - 96), der.length - 96);
  throwsIgvm(() => parseEcPrivateKey(mixed), 'key-mismatch');
  // A zero scalar.
  const zero = der.slice();
  zero.fill(0, 8, 8 + 48);
  throwsIgvm(() => parseEcPrivateKey(zero), 'key-bad-scalar');
});

/** Rebuild the reference SEC1 DER without its [0] parameters element. */
function stripSec1Params(der: Uint8Array): Uint8Array {
  // 30 81 a4 | 02 01 01 | 04 30 <48> | a0 07 06 05 2b 81 04 00 22 (bytes 56..64) | a1 64 ...
  assert.equal(der[0], 0x30);
  assert.equal(der[56], 0xa0);
  assert.equal(der[65], 0xa1);
  const rest = [...der.subarray(3, 56), ...der.subarray(65)];
  return new Uint8Array([0x30, 0x81, rest.length, ...rest]);
}

test('curve descriptions and PEM helpers', () => {
  assert.equal(describeCurve('P-256'), 'P-256 (1.2.840.10045.3.1.7)');
  assert.equal(describeCurve('1.3.132.0.10'), 'secp256k1 (1.3.132.0.10)');
  assert.equal(describeCurve('1.2.3.4'), 'an unknown curve (1.2.3.4)');
  const blocks = parsePem('x\n-----BEGIN A-----\nAAEC\n-----END A-----\n-----BEGIN B-----\nAw==\n-----END B-----', 'e');
  assert.deepEqual(blocks.map((b) => [b.label, [...b.der]]), [['A', [0, 1, 2]], ['B', [3]]]);
  for (let n = 0; n < 40; n++) {
    const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff);
    assert.deepEqual(base64Decode(Buffer.from(bytes).toString('base64')), bytes);
  }
});
