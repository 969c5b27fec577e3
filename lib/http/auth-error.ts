import type { Auth0VerifyError } from '../errors.js';
import { bearerChallenge } from './challenge.js';

/** The OAuth 2.0 / RFC 6750 error code sent as `error` in the body (and in the challenge). */
export type BearerErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'temporarily_unavailable';

/**
 * An HTTP-level authentication/authorization failure, as the Express and Hono middleware answer it.
 *
 * It knows its status and challenge (like express-oauth2-jwt-bearer's errors), so a framework
 * adapter only forwards it. `code` uses the same `ERR_*` namespace as the core: the core's code
 * for a verification failure (its error is `cause`), or one of the adapter's own codes:
 * `ERR_INVALID_REQUEST` (400), `ERR_TOKEN_MISSING` (401), `ERR_INSUFFICIENT_SCOPE` and
 * `ERR_CLAIM_CHECK_FAILED` (403).
 */
export class AuthHttpError extends Error {
  override readonly name = 'AuthHttpError';
  constructor(
    readonly status: number,
    readonly code: string,
    /** RFC 6750 error code, the default body's `error`. */
    readonly error: BearerErrorCode,
    /** Human-readable, safe to show to the client: the default body's `error_description`. */
    readonly description: string,
    /** `WWW-Authenticate` value to send, or null for none. */
    readonly wwwAuthenticate: string | null,
    /** Scopes or permissions a guard required (403 from `requiredScopes`/`requiredPermissions`). */
    readonly requiredScopes?: string[],
    options?: { cause?: unknown },
  ) {
    super(description, options);
  }

  /** The JSON body sent when no `onError` hook replaces it. */
  toJSON(): { error: BearerErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}

/** 400: the request carries a token in a way RFC 6750 forbids (bad header, two methods, ...). */
export function invalidRequest(realm: string, description: string): AuthHttpError {
  const header = bearerChallenge(realm, { error: 'invalid_request', error_description: description });
  return new AuthHttpError(400, 'ERR_INVALID_REQUEST', 'invalid_request', description, header);
}

/** 401 with a bare challenge: no credentials at all (RFC 6750 §3.1: no error code then). */
export function tokenMissing(realm: string): AuthHttpError {
  return new AuthHttpError(401, 'ERR_TOKEN_MISSING', 'unauthorized', 'Authentication required', bearerChallenge(realm));
}

/** 403 from a route guard; `scope` lists what would have been accepted. */
export function insufficientScope(realm: string, code: string, description: string, scopes?: string[]): AuthHttpError {
  const header = bearerChallenge(realm, {
    error: 'insufficient_scope',
    error_description: description,
    scope: scopes?.join(' '),
  });
  return new AuthHttpError(403, code, 'insufficient_scope', description, header, scopes);
}

/**
 * Wraps a core verification failure (401, 403 or 503), forwarding its status and challenge unchanged.
 * The 503 description is fixed: the core's message may describe internal network detail.
 */
export function fromVerifyError(err: Auth0VerifyError): AuthHttpError {
  const { status } = err;
  const error: BearerErrorCode =
    status === 403 ? 'insufficient_scope' : status === 503 ? 'temporarily_unavailable' : 'invalid_token';
  const description = status === 503 ? 'The access token cannot be verified right now' : err.message;
  return new AuthHttpError(status, err.code, error, description, err.wwwAuthenticate, undefined, { cause: err });
}
