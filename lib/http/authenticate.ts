import type { Auth0Verifier } from '../../index.js';
import { isAuth0VerifyError } from '../errors.js';
import { fromVerifyError, tokenMissing } from './auth-error.js';
import { extractBearer, type TokenSources } from './bearer.js';
import { toIdentity, type AuthIdentity } from './identity.js';

// Verify failures the client gets as such. Anything else the core reports (ERR_INTERNAL, 500)
// is a server fault, handled like any other thrown error.
const ANSWERED = new Set([401, 403, 503]);

/**
 * The framework-free half of `auth()`: token extraction, verification, identity.
 *
 * Resolves to the identity, or `undefined` for an anonymous request when `optional`.
 * Rejects with an AuthHttpError for every answer the client should get (400/401/403/503);
 * anything else (a throwing authorizeUser hook, a bug) is rethrown untouched for the
 * framework's own error handling: a 500, not a disguised 401.
 */
export async function authenticate(
  verifier: Auth0Verifier,
  sources: TokenSources,
  realm: string,
  optional: boolean,
): Promise<AuthIdentity | undefined> {
  const token = extractBearer(sources, realm);
  if (token === undefined) {
    if (optional) return undefined;
    throw tokenMissing(realm);
  }
  try {
    return toIdentity(await verifier.verify(token));
  } catch (e) {
    throw isAuth0VerifyError(e) && ANSWERED.has(e.status) ? fromVerifyError(e) : e;
  }
}
