// ECDSA P-384 signing with SHA-384 (FIPS 186-5 §6.4) and RFC 6979 nonces (§3.2; §3.6 with added entropy for the random mode).
import { ecBackend } from './ec-backend.js';
import { concatBytes } from '../bytes.js';

/** The order n of the P-384 base point. */
export const P384_N = 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n;
export const P384_BYTES = 48;

export function bytesToBig(b: Uint8Array): bigint {
  let v = 0n;
  for (const x of b) v = (v << 8n) | BigInt(x);
  return v;
}

export function bigToBytes(v: bigint, size = P384_BYTES): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

function mod(a: bigint, m: bigint): bigint {
  const r = a % m;
  return r < 0n ? r + m : r;
}

/** a⁻¹ mod m (m prime, a ≠ 0) by the extended Euclidean algorithm. */
function invert(a: bigint, m: bigint): bigint {
  let [r0, r1] = [mod(a, m), m];
  let [s0, s1] = [1n, 0n];
  while (r1 !== 0n) {
    const q = r0 / r1;
    [r0, r1] = [r1, r0 - q * r1];
    [s0, s1] = [s1, s0 - q * s1];
  }
  if (r0 !== 1n) throw new Error('internal: not invertible');
  return mod(s0, m);
}

const concat = concatBytes;

export function isValidP384Scalar(d: Uint8Array): boolean {
  if (d.length !== P384_BYTES) return false;
  const v = bytesToBig(d);
  return v >= 1n && v < P384_N;
}

/**
 * Sign a 48-byte SHA-384 digest with scalar `d`. Deterministic: RFC 6979 HMAC-SHA-384 DRBG seeded with x ‖ h1; with
 * `extraEntropy` (48 random bytes) appended to the seed, as RFC 6979 §3.6 allows. `s` is not normalised to low S.
 */
export function signP384Digest(digest: Uint8Array, d: Uint8Array, extraEntropy?: Uint8Array): { r: Uint8Array; s: Uint8Array } {
  const ec = ecBackend();
  const x = bytesToBig(d);
  const z = bytesToBig(digest); // qlen = hlen = 384: bits2int is the plain integer
  const seed = concat(bigToBytes(x), bigToBytes(mod(z, P384_N)), ...(extraEntropy ? [extraEntropy] : []));
  let v: Uint8Array = new Uint8Array(48).fill(1);
  let k: Uint8Array = new Uint8Array(48);
  k = ec.hmacSha384(k, concat(v, Uint8Array.of(0), seed));
  v = ec.hmacSha384(k, v);
  k = ec.hmacSha384(k, concat(v, Uint8Array.of(1), seed));
  v = ec.hmacSha384(k, v);
  for (;;) {
    v = ec.hmacSha384(k, v);
    const nonce = bytesToBig(v);
    if (nonce >= 1n && nonce < P384_N) {
      const point = ec.publicKey('P-384', bigToBytes(nonce));
      const r = mod(bytesToBig(point.subarray(1, 1 + P384_BYTES)), P384_N);
      if (r !== 0n) {
        const s = mod(invert(nonce, P384_N) * (z + r * x), P384_N);
        if (s !== 0n) return { r: bigToBytes(r), s: bigToBytes(s) };
      }
    }
    k = ec.hmacSha384(k, concat(v, Uint8Array.of(0)));
    v = ec.hmacSha384(k, v);
  }
}
