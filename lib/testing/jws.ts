// Compact JWS signing for the testing issuer. Deliberately permissive: tests craft attacks with it.
import { constants, createHmac, sign as cryptoSign, type KeyObject } from 'node:crypto';
import { defaultAlgorithmOf, isKeyAlgorithm, type SigningAlgorithm } from './keys.js';

/** What a signature is made with, after `signWith` has been resolved. */
export type SignatureKey =
  | { kind: 'private'; key: KeyObject }
  | { kind: 'hmac'; secret: string | Buffer }
  | { kind: 'none' };

export function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The algorithm a key signs with when neither `signAlg` nor a usable header `alg` names one. */
export function defaultAlgorithmFor(key: SignatureKey): SigningAlgorithm {
  if (key.kind === 'hmac') return 'HS256';
  if (key.kind === 'none') return 'none';
  return defaultAlgorithmOf(key.key);
}

/** Whether `alg` can produce a signature with `key` (used to follow a header `alg` when it can). */
export function canSign(alg: string, key: SignatureKey): alg is SigningAlgorithm {
  if (alg === 'none') return key.kind === 'none';
  if (/^HS(256|384|512)$/.test(alg)) return key.kind === 'hmac';
  if (key.kind !== 'private' || !isKeyAlgorithm(alg)) return false;
  const type = key.key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  if (alg === 'EdDSA') return type === 'ed25519' || type === 'ed448';
  return type === 'ec' && defaultAlgorithmOf(key.key) === alg;
}

/** Base64url signature of `input` (the ASCII `header.payload`), '' for 'none'. */
export function signInput(alg: SigningAlgorithm, input: string, key: SignatureKey): string {
  if (!canSign(alg, key)) {
    throw new TypeError(`cannot sign ${alg} with ${key.kind === 'private' ? `a ${key.key.asymmetricKeyType} key` : key.kind}`);
  }
  if (key.kind === 'none') return '';
  const data = Buffer.from(input, 'ascii');
  const digest = `sha${alg.slice(2)}`; // RS256 -> sha256; unused for EdDSA
  if (key.kind === 'hmac') return createHmac(digest, key.secret).update(data).digest('base64url');
  if (alg === 'EdDSA') return cryptoSign(null, data, key.key).toString('base64url');
  if (alg.startsWith('PS')) {
    // RFC 7518 3.5: PSS with MGF1 of the same hash and a salt as long as the digest.
    return cryptoSign(digest, data, {
      key: key.key,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
    }).toString('base64url');
  }
  if (alg.startsWith('ES')) {
    // JWS wants the raw r||s form (RFC 7518 3.4), not OpenSSL's default DER.
    return cryptoSign(digest, data, { key: key.key, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  }
  return cryptoSign(digest, data, key.key).toString('base64url');
}

