// Signing keys for the local testing issuer: generation, JWK export, kid derivation.
import { createHash, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';

/** Asymmetric JWS algorithms a test key can be generated for (what the verifier may allow). */
export type KeyAlgorithm =
  | 'RS256' | 'RS384' | 'RS512'
  | 'PS256' | 'PS384' | 'PS512'
  | 'ES256' | 'ES384' | 'ES512'
  | 'EdDSA';

/** Every algorithm `mint()` can sign with, including the ones only attacks use. */
export type SigningAlgorithm = KeyAlgorithm | 'HS256' | 'HS384' | 'HS512' | 'none';

/** A key pair with the identity the JWKS publishes it under. */
export interface SigningKey {
  /** RFC 7638 JWK thumbprint of the public key (Auth0 kids are opaque strings too). */
  readonly kid: string;
  /** The algorithm this key is published for (`alg` in its JWKS entry) and signs with by default. */
  readonly alg: KeyAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Public JWK as served: `{ kty, use: 'sig', alg, kid, ...key material }`. */
  readonly publicJwk: JsonWebKey;
}

const KEY_ALGORITHMS: ReadonlySet<string> = new Set<KeyAlgorithm>([
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
]);

export function isKeyAlgorithm(alg: unknown): alg is KeyAlgorithm {
  return typeof alg === 'string' && KEY_ALGORITHMS.has(alg);
}

/**
 * Generate a fresh key pair for `alg` (default 'RS256', RSA-2048 like Auth0's).
 *
 * Use it for a key the issuer does not publish ("foreign"): `mint({}, { signWith: key })` gives a
 * token whose kid is unknown to the JWKS; add `kid: issuer.currentKid` to get a known kid with a
 * signature that does not verify. RSA-2048 generation takes about 50-200 ms.
 */
export function generateForeignKey(alg: KeyAlgorithm = 'RS256'): SigningKey {
  if (!isKeyAlgorithm(alg)) throw new TypeError(`generateForeignKey: unsupported algorithm ${String(alg)}`);
  const { privateKey, publicKey } = generatePair(alg);
  const material = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(material);
  // `use` and `alg` are what Auth0 publishes; they let a verifier check key/alg agreement.
  const publicJwk: JsonWebKey = { kty: material.kty, use: 'sig', alg, kid, ...material };
  return Object.freeze({ kid, alg, privateKey, publicKey, publicJwk: Object.freeze(publicJwk) });
}

function generatePair(alg: KeyAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  switch (alg) {
    case 'ES256': return generateKeyPairSync('ec', { namedCurve: 'P-256' });
    case 'ES384': return generateKeyPairSync('ec', { namedCurve: 'P-384' });
    case 'ES512': return generateKeyPairSync('ec', { namedCurve: 'P-521' });
    case 'EdDSA': return generateKeyPairSync('ed25519');
    // Plain 'rsa' keys also serve PS*: the JWKS of an RSA key does not say which padding is used.
    default: return generateKeyPairSync('rsa', { modulusLength: 2048 });
  }
}

/** RFC 7638: SHA-256 over the required members in lexicographic order, base64url. */
function thumbprint(jwk: JsonWebKey): string {
  const required: Record<string, string[]> = { RSA: ['e', 'kty', 'n'], EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'] };
  const members = required[jwk.kty ?? ''] ?? Object.keys(jwk).sort();
  const canonical = JSON.stringify(Object.fromEntries(members.map((m) => [m, jwk[m]])));
  return createHash('sha256').update(canonical).digest('base64url');
}

/** The algorithm a bare KeyObject signs with when the caller names none. */
export function defaultAlgorithmOf(key: KeyObject): KeyAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'rsa': return 'RS256';
    case 'rsa-pss': return 'PS256';
    case 'ed25519': case 'ed448': return 'EdDSA';
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'secp384r1') return 'ES384';
      if (curve === 'secp521r1') return 'ES512';
      return 'ES256';
    }
    default: throw new TypeError(`unsupported signing key type ${String(key.asymmetricKeyType ?? key.type)}`);
  }
}
