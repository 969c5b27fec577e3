/**
 * Express 5 (and 4) middleware: `auth()` verifies the bearer token and sets `req.auth`; the guards
 * (`requiredScopes`, `requiredPermissions`, `claimCheck`) check it per route.
 * Names follow express-oauth2-jwt-bearer. Express itself is never required at runtime.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AuthHttpError, tokenMissing } from './http/auth-error.js';
import { authenticate, type Authentication } from './http/authenticate.js';
import { mayHaveQueryToken, type TokenSources } from './http/bearer.js';
import { nodeAuthorization } from './http/node-headers.js';
import { claimGuard, permissionsGuard, scopesGuard, type ClaimPredicate, type Guard, type ListGuardArgs } from './http/guards.js';
import { isIdentity, type AuthIdentity } from './http/identity.js';
import { Responders } from './http/responders.js';
import { wrapThrown } from './http/thrown.js';
import { resolveVerifier, type VerifierSource } from './http/verifier.js';

export { AuthHttpError } from './http/auth-error.js';
export type { BearerErrorCode } from './http/auth-error.js';
export type { AuthIdentity } from './http/identity.js';
export type { ClaimPredicate, ListGuardArgs, ListGuardOptions } from './http/guards.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by `auth()` from `@example/auth0-native/express` when a valid token was sent. */
      auth?: AuthIdentity;
    }
  }
}

/**
 * Replaces the JSON error body. Status and `WWW-Authenticate` are already set on `res` when it
 * runs. Return the body to send (`undefined`: the default `{ error, error_description }`), or
 * send a response yourself. A throw goes to `next(err)`.
 */
export type ExpressErrorHook = (error: AuthHttpError, req: Request, res: Response) => unknown;

export interface ExpressAuthOptions extends VerifierSource {
  /** Let requests without any token through with `req.auth` unset. A bad token is still a 401. Default false. */
  optional?: boolean;
  /** See {@link ExpressErrorHook}. Also used by the guards that run after this middleware. */
  onError?: ExpressErrorHook;
}

const responders = new Responders<Request, ExpressErrorHook>();

/** Verifies the request's bearer token; see {@link ExpressAuthOptions}. */
export function auth(options: ExpressAuthOptions = {}): RequestHandler {
  const verifier = resolveVerifier(options, ['optional', 'onError']);
  // Left out, the realm is the verifier's (a ready verifier may have its own).
  const responder = responders.forOptions({ realm: options.realm ?? verifier.realm, onError: options.onError });
  const optional = options.optional === true;
  // Not an async function: a cached token is answered without a promise, so Express sees a
  // plain synchronous middleware. Other tokens return the promise, so a throw from next()
  // still reaches Express's own rejection handling.
  return (req, res, next) => {
    responders.record(req, responder);
    let outcome: Authentication;
    try {
      outcome = authenticate(verifier, tokenSources(req), responder.realm, optional);
    } catch (e) {
      return answer(e, req, res, next);
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (identity) => proceed(req, identity, next),
        (e: unknown) => answer(e, req, res, next),
      );
    }
    proceed(req, outcome, next);
  };
}

function proceed(req: Request, identity: AuthIdentity | undefined, next: NextFunction): void {
  if (identity) req.auth = identity;
  next();
}

/** 403 unless the token's `scope` holds all (or with `{ match: 'any' }`, any) of the scopes. */
export function requiredScopes(...args: ListGuardArgs): RequestHandler {
  return guardMiddleware(scopesGuard(args));
}

/** 403 unless the token's RBAC `permissions` hold all (or any) of the permissions. */
export function requiredPermissions(...args: ListGuardArgs): RequestHandler {
  return guardMiddleware(permissionsGuard(args));
}

/** 403 unless `predicate(claims)` returns (or resolves to) `true`; `description` goes in the error. */
export function claimCheck(predicate: ClaimPredicate, description?: string): RequestHandler {
  return guardMiddleware(claimGuard(predicate, description));
}

function guardMiddleware(guard: Guard): RequestHandler {
  return async (req, res, next) => {
    const { realm } = responders.of(req);
    let error: AuthHttpError | undefined;
    try {
      error = isIdentity(req.auth) ? await guard(req.auth, realm) : tokenMissing(realm);
    } catch (e) {
      return next(asExpressError(e)); // a throwing claimCheck predicate: the app's error handler, 500 by default
    }
    if (error) return answer(error, req, res, next);
    next();
  };
}

function tokenSources(req: Request): TokenSources {
  // RFC 6750 §2.2: a body token only counts in a form-encoded body, and only if the app parsed it.
  const form = req.body && typeof req.body === 'object' && req.is('application/x-www-form-urlencoded');
  return {
    header: nodeAuthorization(req.headers.authorization, req.rawHeaders),
    // Express 5 re-parses the query string on every req.query read: only pay that when an
    // access_token can be there.
    query: mayHaveQueryToken(req.url) ? (req.query as Record<string, unknown> | undefined)?.access_token : undefined,
    body: form ? (req.body as Record<string, unknown>).access_token : undefined,
  };
}

/** Sends an AuthHttpError (through the hook); anything else is the app's error, so next(err). */
async function answer(e: unknown, req: Request, res: Response, next: NextFunction): Promise<void> {
  if (!(e instanceof AuthHttpError)) return next(asExpressError(e));
  const { onError } = responders.of(req);
  const statusBefore = res.statusCode;
  try {
    res.status(e.status);
    if (e.wwwAuthenticate) res.set('WWW-Authenticate', e.wwwAuthenticate);
    const body = onError ? await onError(e, req, res) : undefined;
    if (!res.headersSent) res.json(body === undefined ? e.toJSON() : body);
  } catch (hookError) {
    // Express's default handler answers with res.statusCode when the error carries no status:
    // undo ours, or a throwing hook would go out as this 401/403 instead of a 500.
    if (!res.headersSent) {
      res.status(statusBefore);
      res.removeHeader('WWW-Authenticate');
    }
    next(asExpressError(hookError));
  }
}

/**
 * What to hand to next() for a thrown value. Express reads next() with a falsy value as "no
 * error" and next('route') / next('router') as "skip": passed through, a hook that throws
 * `undefined` or 'route' would let the request through unauthenticated. Those become Errors.
 */
function asExpressError(thrown: unknown): unknown {
  return thrown && thrown !== 'route' && thrown !== 'router' ? thrown : wrapThrown(thrown);
}
