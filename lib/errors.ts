import type { Auth0VerifyError } from '../index.js';

// The failure's shape is declared once, by the native binding (index.d.ts); re-exported here
// next to the guard that narrows to it.
export type { Auth0VerifyError, Auth0VerifyErrorCode } from '../index.js';

/**
 * True when `e` is a verification failure from the native core, as opposed to, say, an error
 * thrown by a user's `authorizeUser` hook, which the core passes through unchanged.
 *
 * The core rejects with a plain `Error` carrying `name`, `code`, `status`, `wwwAuthenticate`
 * (docs/CONTRACT.md): there is no class to `instanceof`, so callers branch on `code`, never on
 * the message.
 */
export function isAuth0VerifyError(e: unknown): e is Auth0VerifyError {
  if (typeof e !== 'object' || e === null) return false;
  const err = e as Record<string, unknown>;
  return err.name === 'Auth0VerifyError' && typeof err.code === 'string' && typeof err.status === 'number';
}
