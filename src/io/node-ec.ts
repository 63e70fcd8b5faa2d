// node:crypto implementation of the elliptic-curve backend (src/crypto/ec-backend.ts): OpenSSL scalar multiplication, HMAC and verification.
import { ECDH, createECDH, createHmac, createPublicKey, verify } from 'node:crypto';
import { setEcBackend, type EcBackend, type NistCurve } from '../crypto/ec-backend.js';

const OPENSSL_NAME: Record<NistCurve, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const view = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

export const NODE_EC: EcBackend = {
  name: 'node:crypto',
  publicKey: (curve, d) => {
    const ecdh = createECDH(OPENSSL_NAME[curve]);
    ecdh.setPrivateKey(d);
    return view(ecdh.getPublicKey(null, 'uncompressed'));
  },
  decodePoint: (curve, point) => view(ECDH.convertKey(point, OPENSSL_NAME[curve], undefined, undefined, 'uncompressed') as Buffer),
  hmacSha384: (key, data) => view(createHmac('sha384', key).update(data).digest()),
  verifyP384: (message, r, s, x, y) => {
    try {
      const key = createPublicKey({ key: { kty: 'EC', crv: 'P-384', x: b64url(x), y: b64url(y) }, format: 'jwk' });
      return verify('sha384', message, { key, dsaEncoding: 'ieee-p1363' }, Buffer.concat([r, s]));
    } catch {
      return false;
    }
  },
};

export function installNodeEc(): void {
  setEcBackend(NODE_EC);
}
