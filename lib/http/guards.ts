import type { JwtClaims } from '../../index.js';
import { insufficientScope, type AuthHttpError } from './auth-error.js';
import type { AuthIdentity } from './identity.js';

/** A route check over an authenticated identity: an error to answer with, or undefined to pass. */
export type Guard = (identity: AuthIdentity, realm: string) => Promise<AuthHttpError | undefined>;

export interface ListGuardOptions {
  /** `'all'` (default): every listed value is required. `'any'`: one of them is enough. */
  match?: 'all' | 'any';
}

/**
 * `requiredScopes('read:a', 'write:b', { match: 'any' })`. A string may also hold several,
 * space-separated, and arrays are flattened: `requiredScopes(['read:a', 'write:b'])`, as in
 * express-oauth2-jwt-bearer, requires both.
 */
export type ListGuardArgs = (string | string[])[] | [...(string | string[])[], ListGuardOptions];

/** A predicate over the verified claims. Only `true` allows (a truthy string does not). */
export type ClaimPredicate = (claims: JwtClaims, identity: AuthIdentity) => boolean | Promise<boolean>;

export function scopesGuard(args: ListGuardArgs): Guard {
  return listGuard('requiredScopes', args, (id) => id.scopes, 'ERR_INSUFFICIENT_SCOPE');
}

export function permissionsGuard(args: ListGuardArgs): Guard {
  return listGuard('requiredPermissions', args, (id) => id.permissions, 'ERR_INSUFFICIENT_PERMISSIONS');
}

export function claimGuard(predicate: ClaimPredicate, description = 'Access denied'): Guard {
  if (typeof predicate !== 'function') throw new TypeError('claimCheck needs a predicate function');
  // A throwing predicate rejects: the adapters hand that to the framework as a 500.
  return async (identity, realm) =>
    (await predicate(identity.claims, identity)) === true
      ? undefined
      : insufficientScope(realm, 'ERR_CLAIM_CHECK_FAILED', description);
}

function listGuard(name: string, args: ListGuardArgs, held: (id: AuthIdentity) => string[], code: string): Guard {
  const { required, match } = parseArgs(name, args);
  return async (identity, realm) => {
    const have = new Set(held(identity));
    const ok = match === 'any' ? required.some((v) => have.has(v)) : required.every((v) => have.has(v));
    return ok ? undefined : insufficientScope(realm, code, 'Insufficient Scope', required);
  };
}

function parseArgs(name: string, args: ListGuardArgs): { required: string[]; match: 'all' | 'any' } {
  const last: unknown = args[args.length - 1];
  // Only a plain object is options: anything else in last place (an array, a Set, `arguments`)
  // must never be mistaken for them, or its values would silently not be required.
  const hasOptions = isPlainObject(last);
  const options = (hasOptions ? last : {}) as ListGuardOptions;
  const unknown = Object.keys(options).filter((key) => key !== 'match');
  if (unknown.length > 0) throw new TypeError(`${name}: unknown option ${unknown.join(', ')} (only match)`);
  const values = (hasOptions ? args.slice(0, -1) : args).flat() as unknown[];
  const required = values.flatMap((v) => {
    if (typeof v !== 'string') throw new TypeError(`${name}: expected strings or arrays of strings, got ${v === null ? 'null' : typeof v}`);
    return v.split(' ').filter(Boolean);
  });
  // Fail at start-up, not per request: an empty list would make `all` pass everyone.
  if (required.length === 0) throw new TypeError(`${name} needs at least one value`);
  const match = options.match ?? 'all';
  if (match !== 'all' && match !== 'any') throw new TypeError(`${name}: match must be 'all' or 'any'`);
  return { required, match };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
