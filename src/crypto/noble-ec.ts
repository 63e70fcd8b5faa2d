// The pure-JS elliptic-curve backend (@noble/curves P-256/P-384/P-521, @noble/hashes HMAC-SHA-384): runs in browsers (FIPS 186-5, SEC 1).
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha384 } from '@noble/hashes/sha2.js';
import { setDefaultEcBackend, type EcBackend } from './ec-backend.js';

const CURVES = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

export const NOBLE_EC: EcBackend = {
  name: 'noble',
  publicKey: (curve, d) => CURVES[curve].getPublicKey(d, false),
  decodePoint: (curve, point) => CURVES[curve].Point.fromBytes(point).toBytes(false),
  hmacSha384: (key, data) => hmac(sha384, key, data),
  verifyP384: (message, r, s, x, y) => {
    const sig = new Uint8Array(96);
    sig.set(r, 0);
    sig.set(s, 48);
    const pub = new Uint8Array(97);
    pub[0] = 4;
    pub.set(x, 1);
    pub.set(y, 49);
    try {
      return p384.verify(sig, sha384(message), pub, { prehash: false, lowS: false, format: 'compact' });
    } catch {
      return false;
    }
  },
};

/** Make noble the backend unless another one is installed. */
export function installNobleEcDefault(): void {
  setDefaultEcBackend(NOBLE_EC);
}
