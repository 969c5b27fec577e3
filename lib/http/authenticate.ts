import type { Auth0Verifier } from '../../index.js';
import { isAuth0VerifyError } from '../errors.js';
import { fromVerifyError, tokenMissing } from './auth-error.js';
import { extractBearer, headerCandidate, type TokenSources } from './bearer.js';
import { toIdentity, type AuthIdentity } from './identity.js';

// Verify failures the client gets as such. Anything else the core reports (ERR_INTERNAL, 500)
// is a server fault, handled like any other thrown error.
const ANSWERED = new Set([401, 403, 503]);

/** An identity now, or later. `undefined`: an anonymous request let through (`optional`). */
export type Authentication = AuthIdentity | undefined | Promise<AuthIdentity | undefined>;

/**
 * The framework-free half of `auth()`: token extraction, verification, identity.
 *
 * Answers synchronously when it can: a header token already in the verifier's cache (no
 * promise, no microtask: most requests of a busy server), an anonymous request, or an AuthHttpError
 * thrown for a missing or malformed token. Otherwise returns a promise that rejects with an
 * AuthHttpError for every answer the client should get (401/403/503); anything else (a
 * throwing authorizeUser hook, a bug) is rethrown untouched for the framework's own error
 * handling: a 500, not a disguised 401.
 */
export function authenticate(verifier: Auth0Verifier, sources: TokenSources, realm: string, optional: boolean): Authentication {
  const candidate = headerCandidate(sources);
  const hit = candidate === undefined ? null : verifier.verifyCached(candidate);
  if (hit !== null) return toIdentity(hit);
  const token = extractBearer(sources, realm);
  if (token === undefined) {
    if (optional) return undefined;
    throw tokenMissing(realm);
  }
  // A header token is known to be uncached by now; query and body tokens are rare enough to
  // take verify(), which answers cache hits without a thread hop too.
  return verifier.verify(token).then(toIdentity, (e: unknown) => {
    throw isAuth0VerifyError(e) && ANSWERED.has(e.status) ? fromVerifyError(e) : e;
  });
}

