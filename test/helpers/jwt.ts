/**
 * Mints JWTs with node:crypto, so verifier tests control every byte of a token (including the broken
 * ones) without a JWT library that would refuse to build them.
 */
import { createHmac, createSign, type KeyObject } from 'node:crypto';

/** A JWT header or payload, as written by the test. */
export type JwtPart = Readonly<Record<string, unknown>>;

/** Base64url of a JSON object: one JWT segment. */
export function encodeSegment(part: JwtPart): string {
  return Buffer.from(JSON.stringify(part)).toString('base64url');
}

const RSA_DIGESTS: Readonly<Record<string, string>> = {
  RS256: 'RSA-SHA256',
  RS384: 'RSA-SHA384',
  RS512: 'RSA-SHA512',
};
const HMAC_DIGESTS: Readonly<Record<string, string>> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

/**
 * Signs `header.payload` with the algorithm `header.alg` names: RS* with an RSA private key, HS* with
 * `key` as the HMAC secret (whatever it is: that is the point of the key-confusion test), `none`
 * with an empty signature.
 */
export function signJwt(header: JwtPart, payload: JwtPart, key: KeyObject | string | Buffer): string {
  const signingInput = `${encodeSegment(header)}.${encodeSegment(payload)}`;
  const alg = header.alg;
  if (alg === 'none') return `${signingInput}.`;
  const rsaDigest = typeof alg === 'string' ? RSA_DIGESTS[alg] : undefined;
  if (rsaDigest) {
    const signature = createSign(rsaDigest).update(signingInput).sign(key, 'base64url');
    return `${signingInput}.${signature}`;
  }
  const hmacDigest = typeof alg === 'string' ? HMAC_DIGESTS[alg] : undefined;
  if (hmacDigest) {
    if (typeof key !== 'string' && !Buffer.isBuffer(key))
      throw new Error(`signJwt: ${alg} needs a string secret`);
    const signature = createHmac(hmacDigest, key).update(signingInput).digest('base64url');
    return `${signingInput}.${signature}`;
  }
  throw new Error(`signJwt: unsupported alg ${String(alg)}`);
}
