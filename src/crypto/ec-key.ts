// EC key files for IGVMGEN.md §9.3: SEC1 ECPrivateKey (RFC 5915), PKCS#8 PrivateKeyInfo (RFC 5208/5958), SPKI public keys (RFC 5480).
import { ecBackend, type NistCurve } from './ec-backend.js';
import { IgvmError } from '../errors.js';
import { DER_BIT_STRING, DER_NULL, DER_OCTET_STRING, DER_OID, DER_SEQUENCE, DerReader, ctxTag, latin1, looksLikePem, parsePem } from './der.js';
import type { DerNode } from './der.js';

/** An EC private key: the curve name ('P-256', 'P-384', 'P-521', 'secp256k1', 'P-224') or the curve OID when unknown. */
export interface EcPrivateKey {
  curve: 'P-256' | 'P-384' | 'P-521' | string;
  /** Big-endian private scalar, curve size (for unknown curves: as stored in the key). */
  d: Uint8Array;
  /** The file the key came from, for error messages. */
  file?: string;
}

export interface EcPublicKey {
  curve: string;
  /** Big-endian affine coordinates, curve size each. */
  x: Uint8Array;
  y: Uint8Array;
}

/** id-ecPublicKey (RFC 5480 §2.1.1). */
export const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';

interface CurveInfo { name: string; oid: string; size: number }
const CURVES: readonly CurveInfo[] = [
  { name: 'P-224', oid: '1.3.132.0.33', size: 28 },
  { name: 'P-256', oid: '1.2.840.10045.3.1.7', size: 32 },
  { name: 'P-384', oid: '1.3.132.0.34', size: 48 },
  { name: 'P-521', oid: '1.3.132.0.35', size: 66 },
  { name: 'secp256k1', oid: '1.3.132.0.10', size: 32 },
];

/** Algorithm OIDs that are not EC keys, named in 'key-not-ec' errors. */
const NON_EC_ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.10': 'RSASSA-PSS',
  '1.2.840.10040.4.1': 'DSA',
  '1.2.840.10046.2.1': 'Diffie-Hellman',
  '1.3.101.110': 'X25519',
  '1.3.101.111': 'X448',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};

/** Orders of the NIST curves' base points, for scalar range checks. */
const ORDERS: Record<NistCurve, bigint> = {
  'P-256': 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  'P-384': 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  'P-521': 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};

const isNist = (curve: string): curve is NistCurve => curve in ORDERS;

function scalarInRange(curve: NistCurve, d: Uint8Array): boolean {
  let v = 0n;
  for (const b of d) v = (v << 8n) | BigInt(b);
  return v >= 1n && v < ORDERS[curve];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function infoByOid(oid: string): CurveInfo | undefined {
  return CURVES.find((c) => c.oid === oid);
}

function infoByName(curve: string): CurveInfo | undefined {
  return CURVES.find((c) => c.name === curve || c.oid === curve);
}

/** The OID of a curve name (or the OID itself). */
export function curveOid(curve: string): string | undefined {
  return infoByName(curve)?.oid ?? (/^\d+(\.\d+)+$/.test(curve) ? curve : undefined);
}

/** "P-256 (1.2.840.10045.3.1.7)", or "an unknown curve (1.2.3.4)". */
export function describeCurve(curve: string): string {
  const info = infoByName(curve);
  return info ? `${info.name} (${info.oid})` : `an unknown curve (${curve})`;
}

function details(file: string | undefined, path?: string): { file?: string; path?: string } {
  return { ...(file !== undefined ? { file } : {}), ...(path !== undefined ? { path } : {}) };
}

// ---- input handling ----

interface KeyDer { der: Uint8Array; label: string | undefined; raw: boolean }

const PRIVATE_LABELS = ['EC PRIVATE KEY', 'PRIVATE KEY'];
const PUBLIC_LABELS = ['PUBLIC KEY'];

function keyDer(input: Uint8Array | string, labels: readonly string[], file: string | undefined): KeyDer {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    text = latin1(input);
    if (!looksLikePem(text)) {
      if (input.length > 0 && input[0] === DER_SEQUENCE) return { der: input, label: undefined, raw: true };
      throw new IgvmError('key-bad-pem', `expected a PEM key ("-----BEGIN ${labels[0]}-----") or DER bytes (starting 0x30), found neither`, details(file));
    }
  }
  const blocks = parsePem(text, 'key-bad-pem', file);
  const block = blocks.find((b) => labels.includes(b.label));
  const expected = labels.map((l) => `"-----BEGIN ${l}-----"`).join(' or ');
  if (!block) {
    const found = blocks.map((b) => `"${b.label}"`).join(', ');
    if (blocks.some((b) => b.label === 'ENCRYPTED PRIVATE KEY')) {
      throw new IgvmError('key-encrypted', `the key is encrypted (ENCRYPTED PRIVATE KEY); expected an unencrypted ${expected} block`, details(file));
    }
    if (blocks.some((b) => /^(RSA|DSA) (PRIVATE|PUBLIC) KEY$/.test(b.label))) {
      throw new IgvmError('key-not-ec', `found a ${found} block; expected an EC key in a ${expected} block`, details(file));
    }
    throw new IgvmError('key-bad-pem', `expected a ${expected} block, found ${found}`, details(file));
  }
  if (/ENCRYPTED/i.test(block.headers['Proc-Type'] ?? '')) {
    throw new IgvmError('key-encrypted', `the "${block.label}" block (line ${block.line}) is encrypted (Proc-Type: ${block.headers['Proc-Type']}); decrypt it first`, details(file));
  }
  return { der: block.der, label: block.label, raw: false };
}

// ---- private keys ----

/**
 * Parse an EC private key: PEM text (as a string or bytes) holding "EC PRIVATE KEY" (SEC1) or "PRIVATE KEY" (PKCS#8),
 * or the DER of either. Throws IgvmError ('key-bad-pem', 'key-bad-der', 'key-not-ec', 'key-encrypted',
 * 'key-no-curve', 'key-unsupported-curve', 'key-bad-scalar', 'key-mismatch').
 */
export function parseEcPrivateKey(input: Uint8Array | string, file?: string): EcPrivateKey {
  const { der, label, raw } = keyDer(input, PRIVATE_LABELS, file);
  const r = new DerReader(der, { code: 'key-bad-der', ...(file !== undefined ? { file } : {}), rawFile: raw });
  let pkcs8: boolean;
  if (label !== undefined) pkcs8 = label === 'PRIVATE KEY';
  else {
    // DER: PKCS#8 has an AlgorithmIdentifier SEQUENCE second, SEC1 an OCTET STRING.
    const top = r.root(DER_SEQUENCE, 'key');
    pkcs8 = r.children(top, 'key')[1]?.tag === DER_SEQUENCE;
  }
  return pkcs8 ? parsePkcs8(r, file) : parseSec1(r, r.root(DER_SEQUENCE, 'ECPrivateKey'), 'ECPrivateKey', undefined, file);
}

function parsePkcs8(r: DerReader, file: string | undefined): EcPrivateKey {
  const P = 'PrivateKeyInfo';
  const top = r.root(DER_SEQUENCE, P);
  const kids = r.children(top, P);
  const version = r.smallInteger(kids[0], `${P}.version`);
  if (version !== 0 && version !== 1) r.fail(`${P}.version`, kids[0]!.offset, `expected version 0 or 1, found ${version}`);
  const curveFromAlg = algorithmCurve(r, kids[1], `${P}.privateKeyAlgorithm`, file);
  const octets = r.expectTag(kids[2], DER_OCTET_STRING, `${P}.privateKey`);
  for (let i = 3; i < kids.length; i++) {
    const k = kids[i]!;
    // [0] attributes (constructed SET), [1] publicKey (IMPLICIT BIT STRING, RFC 5958); both are ignored here.
    if (k.tag !== ctxTag(0) && k.tag !== 0x81 && k.tag !== ctxTag(1)) r.fail(`${P}[${i}]`, k.offset, 'expected [0] attributes or [1] publicKey');
  }
  const inner = r.inside(octets, DER_SEQUENCE, `${P}.privateKey.ECPrivateKey`);
  return parseSec1(r, inner, `${P}.privateKey.ECPrivateKey`, curveFromAlg, file);
}

/** AlgorithmIdentifier { id-ecPublicKey, namedCurve } → the curve OID. */
function algorithmCurve(r: DerReader, node: DerNode | undefined, path: string, file: string | undefined): string {
  const alg = r.expectTag(node, DER_SEQUENCE, path);
  const parts = r.children(alg, path);
  const oid = r.oid(parts[0], `${path}.algorithm`);
  if (oid !== OID_EC_PUBLIC_KEY) {
    const name = NON_EC_ALGORITHMS[oid];
    throw new IgvmError('key-not-ec', `the key is ${name ? `an ${name} key (${oid})` : `not an EC key (algorithm ${oid})`}; expected an EC key (id-ecPublicKey, ${OID_EC_PUBLIC_KEY})`, details(file, `${path}.algorithm`));
  }
  if (parts[1] === undefined) throw new IgvmError('key-no-curve', 'the EC key has no curve parameters; expected a named curve OID', details(file, `${path}.parameters`));
  return namedCurve(r, parts[1], `${path}.parameters`, file);
}

/** ECParameters: only the namedCurve choice is supported. */
function namedCurve(r: DerReader, node: DerNode, path: string, file: string | undefined): string {
  if (node.tag === DER_OID) return r.oid(node, path);
  const what = node.tag === DER_SEQUENCE ? 'explicit (specifiedCurve) parameters' : node.tag === DER_NULL ? 'implicitCurve (NULL)' : 'unrecognised parameters';
  throw new IgvmError('key-unsupported-curve', `the key uses ${what}; expected a named curve OID such as P-384 (secp384r1, 1.3.132.0.34)`, details(file, path));
}

function parseSec1(r: DerReader, seq: DerNode, P: string, outerCurve: string | undefined, file: string | undefined): EcPrivateKey {
  const kids = r.children(seq, P);
  const version = r.smallInteger(kids[0], `${P}.version`);
  if (version !== 1) r.fail(`${P}.version`, kids[0]!.offset, `expected ecPrivkeyVer1 (1), found ${version}`);
  const dRaw = r.octetString(kids[1], `${P}.privateKey`);
  let curveOidStr = outerCurve;
  let publicKey: Uint8Array | undefined;
  let next = 0;
  for (let i = 2; i < kids.length; i++) {
    const k = kids[i]!;
    if (k.tag === ctxTag(0) && next === 0) {
      const inner = r.inside(k, k.value[0] ?? DER_OID, `${P}.parameters`);
      const oid = namedCurve(r, inner, `${P}.parameters`, file);
      if (outerCurve !== undefined && oid !== outerCurve) {
        throw new IgvmError('key-bad-der', `the key's parameters name ${describeCurve(oid)} but its algorithm identifier names ${describeCurve(outerCurve)}`, details(file, `${P}.parameters`));
      }
      curveOidStr = oid;
      next = 1;
    } else if (k.tag === ctxTag(1) && next <= 1) {
      publicKey = r.bitString(r.inside(k, DER_BIT_STRING, `${P}.publicKey`), `${P}.publicKey`);
      next = 2;
    } else {
      r.fail(`${P}[${i}]`, k.offset, 'expected [0] parameters or [1] publicKey');
    }
  }
  if (curveOidStr === undefined) {
    throw new IgvmError('key-no-curve', 'the EC private key does not name its curve (no [0] parameters); expected a named curve OID', details(file, `${P}.parameters`));
  }
  const info = infoByOid(curveOidStr);
  const curve = info?.name ?? curveOidStr;
  const d = info ? fitScalar(dRaw, info, file, `${P}.privateKey`) : dRaw.slice();
  if (d.every((b) => b === 0)) throw new IgvmError('key-bad-scalar', 'the private scalar is zero', details(file, `${P}.privateKey`));
  if (isNist(curve) && !scalarInRange(curve, d)) {
    throw new IgvmError('key-bad-scalar', `the private scalar is not in 1..n-1 for ${describeCurve(curve)}`, details(file, `${P}.privateKey`));
  }
  if (isNist(curve) && publicKey !== undefined) {
    const derived = ecBackend().publicKey(curve, d);
    let matches = sameBytes(publicKey, derived);
    if (!matches && publicKey[0] !== 0x04) {
      // A compressed embedded point (rare): decode it to compare.
      try {
        matches = sameBytes(ecBackend().decodePoint(curve, publicKey), derived);
      } catch {
        throw new IgvmError('key-bad-point', `the embedded public key is not a valid ${curve} point`, details(file, `${P}.publicKey`));
      }
    }
    if (!matches) throw new IgvmError('key-mismatch', 'the embedded public key does not belong to the private scalar', details(file, `${P}.publicKey`));
  }
  return file !== undefined ? { curve, d, file } : { curve, d };
}

/** Left-pad (or strip leading zeros from) a big-endian scalar to the curve size. */
function fitScalar(raw: Uint8Array, info: CurveInfo, file: string | undefined, path: string): Uint8Array {
  let i = 0;
  while (raw.length - i > info.size && raw[i] === 0) i++;
  const v = raw.subarray(i);
  if (v.length > info.size) {
    throw new IgvmError('key-bad-scalar', `the private scalar is ${raw.length} bytes; ${info.name} scalars are ${info.size} bytes`, details(file, path));
  }
  const out = new Uint8Array(info.size);
  out.set(v, info.size - v.length);
  return out;
}

// ---- public keys ----

/**
 * Parse an EC public key: PEM "PUBLIC KEY" (SubjectPublicKeyInfo) or its DER. The point may be uncompressed or,
 * on the NIST curves, compressed; NIST points are checked to be on the curve.
 */
export function parseEcPublicKey(input: Uint8Array | string, file?: string): EcPublicKey {
  const { der, raw } = keyDer(input, PUBLIC_LABELS, file);
  const r = new DerReader(der, { code: 'key-bad-der', ...(file !== undefined ? { file } : {}), rawFile: raw });
  const P = 'SubjectPublicKeyInfo';
  const kids = r.children(r.root(DER_SEQUENCE, P), P);
  const oid = algorithmCurve(r, kids[0], `${P}.algorithm`, file);
  const point = r.bitString(kids[1], `${P}.subjectPublicKey`);
  if (kids.length > 2) r.fail(`${P}[2]`, kids[2]!.offset, 'unexpected element after subjectPublicKey');
  const info = infoByOid(oid);
  const curve = info?.name ?? oid;
  return decodePoint(point, curve, info, file, `${P}.subjectPublicKey`);
}

function decodePoint(point: Uint8Array, curve: string, info: CurveInfo | undefined, file: string | undefined, path: string): EcPublicKey {
  if (isNist(curve)) {
    let full: Uint8Array;
    try {
      full = ecBackend().decodePoint(curve, point);
    } catch (e) {
      if (e instanceof IgvmError) throw e;
      throw new IgvmError('key-bad-point', `the public key is not a valid ${describeCurve(curve)} point (expected 04 ‖ x ‖ y or a compressed point)`, details(file, path));
    }
    const size = info!.size;
    return { curve, x: full.slice(1, 1 + size), y: full.slice(1 + size) };
  }
  const half = (point.length - 1) / 2;
  if (point[0] !== 0x04 || !Number.isInteger(half) || half === 0 || (info !== undefined && half !== info.size)) {
    throw new IgvmError('key-bad-point', `expected an uncompressed point (04 ‖ x ‖ y) on ${describeCurve(curve)}, found ${point.length} bytes starting 0x${(point[0] ?? 0).toString(16).padStart(2, '0')}`, details(file, path));
  }
  return { curve, x: point.slice(1, 1 + half), y: point.slice(1 + half) };
}

/** The public point of a private key (NIST curves only). */
export function ecPublicKeyOf(key: EcPrivateKey): EcPublicKey {
  if (!isNist(key.curve)) throw new IgvmError('key-unsupported-curve', `cannot derive a public key on ${describeCurve(key.curve)}`, details(key.file));
  const size = infoByName(key.curve)!.size;
  const pub = ecBackend().publicKey(key.curve, key.d);
  return { curve: key.curve, x: pub.slice(1, 1 + size), y: pub.slice(1 + size) };
}
