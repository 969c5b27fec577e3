/**
 * The shape of a verification failure from `Auth0Verifier.verify()`.
 *
 * The native core rejects with a plain `Error` carrying these fields (see docs/CONTRACT.md):
 * there is no class to `instanceof` against across the napi boundary, so callers branch on
 * `code` through {@link isAuth0VerifyError}, never on the message.
 */
export interface Auth0VerifyError extends Error {
  name: 'Auth0VerifyError';
  code: Auth0VerifyErrorCode;
  /** HTTP status the failure maps to: 401, 403 (authorizeUser said no), 503 (JWKS outage), 500 (core bug). */
  status: number;
  /** Ready RFC 6750 `WWW-Authenticate` value, or `null` when no Bearer challenge applies (503). */
  wwwAuthenticate: string | null;
  /** The registered claim that failed (`iss`, `aud`, `exp`, `nbf`, ...), when one did. */
  claim?: string;
}

export type Auth0VerifyErrorCode =
  | 'ERR_TOKEN_MISSING'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_ALG_NOT_ALLOWED'
  | 'ERR_CRIT_UNSUPPORTED'
  | 'ERR_KEY_NOT_FOUND'
  | 'ERR_SIGNATURE_INVALID'
  | 'ERR_ISSUER_INVALID'
  | 'ERR_AUDIENCE_INVALID'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_CLAIM_INVALID'
  | 'ERR_ACCESS_DENIED'
  | 'ERR_JWKS_UNAVAILABLE'
  /** A bug or impossible state in the core (status 500); not in CONTRACT.md's table but produced by src/core/errors.rs. */
  | 'ERR_INTERNAL';

/**
 * True when `e` is a verification failure from the native core (as opposed to, say, an error
 * thrown by a user's `authorizeUser` hook, which the core passes through unchanged).
 * Structural on purpose: a realm-independent check that needs no runtime class.
 */
export function isAuth0VerifyError(e: unknown): e is Auth0VerifyError {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as Record<string, unknown>;
  return err.name === 'Auth0VerifyError' && typeof err.code === 'string' && typeof err.status === 'number';
}
