/**
 * Hono 4 middleware: `auth()` verifies the bearer token and sets `c.get('auth')`; the guards
 * (`requiredScopes`, `requiredPermissions`, `claimCheck`) check it per route.
 * Hono itself is never required at runtime (type imports only).
 */
import type { Context, MiddlewareHandler, Next } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { AuthHttpError, invalidRequest, tokenMissing } from './http/auth-error.js';
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

/** Env of routes behind `auth()`: `c.get('auth')` is the identity. */
export type AuthEnv = { Variables: { auth: AuthIdentity } };
/** Env of routes behind `auth({ optional: true })`: no identity for anonymous requests. */
export type OptionalAuthEnv = { Variables: { auth: AuthIdentity | undefined } };

/**
 * Replaces the JSON error body. Return a `Response` to answer with it as is, or the body to send
 * with the error's status and `WWW-Authenticate` (`undefined`: the default
 * `{ error, error_description }`). A throw goes to the app's `onError`.
 */
export type HonoErrorHook = (error: AuthHttpError, c: Context) => unknown;

export interface HonoAuthOptions extends VerifierSource {
  /** Let requests without any token through with no identity. A bad token is still a 401. Default false. */
  optional?: boolean;
  /** See {@link HonoErrorHook}. Also used by the guards that run after this middleware. */
  onError?: HonoErrorHook;
}

const responders = new Responders<Context, HonoErrorHook>();

/**
 * Verifies the request's bearer token; see {@link HonoAuthOptions}. Typed with {@link AuthEnv}
 * only when `optional` is left out or `false`: an `optional` that may be true (a `boolean`)
 * gives {@link OptionalAuthEnv}, where `c.get('auth')` may be undefined.
 */
export function auth(options?: HonoAuthOptions & { optional?: false }): MiddlewareHandler<AuthEnv>;
export function auth(options: HonoAuthOptions): MiddlewareHandler<OptionalAuthEnv>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- one body serves both overloads
export function auth(options: HonoAuthOptions = {}): MiddlewareHandler<any> {
  const verifier = resolveVerifier(options, ['optional', 'onError']);
  // Left out, the realm is the verifier's (a ready verifier may have its own).
  const responder = responders.forOptions({ realm: options.realm ?? verifier.realm, onError: options.onError });
  const optional = options.optional === true;
  // Not an async function: a cached token is answered without a promise or microtask of
  // ours, straight into next().
  return (c, next) => {
    responders.record(c, responder);
    let outcome: Authentication;
    try {
      const sources = tokenSources(c, responder.realm);
      outcome =
        sources instanceof Promise
          ? sources.then((s) => authenticate(verifier, s, responder.realm, optional))
          : authenticate(verifier, sources, responder.realm, optional);
    } catch (e) {
      return answer(e, c);
    }
    if (outcome instanceof Promise) {
      return outcome.then(
        (identity) => proceed(c, identity, next),
        (e: unknown) => answer(e, c),
      );
    }
    return proceed(c, outcome, next);
  };
}

function proceed(c: Context, identity: AuthIdentity | undefined, next: Next): Promise<void> {
  if (identity) c.set('auth', identity);
  return next();
}

/** 403 unless the token's `scope` holds all (or with `{ match: 'any' }`, any) of the scopes. */
export function requiredScopes(...args: ListGuardArgs): MiddlewareHandler<AuthEnv> {
  return guardMiddleware(scopesGuard(args));
}

/** 403 unless the token's RBAC `permissions` hold all (or any) of the permissions. */
export function requiredPermissions(...args: ListGuardArgs): MiddlewareHandler<AuthEnv> {
  return guardMiddleware(permissionsGuard(args));
}

/** 403 unless `predicate(claims)` returns (or resolves to) `true`; `description` goes in the error. */
export function claimCheck(predicate: ClaimPredicate, description?: string): MiddlewareHandler<AuthEnv> {
  return guardMiddleware(claimGuard(predicate, description));
}

function guardMiddleware(guard: Guard): MiddlewareHandler<AuthEnv> {
  return async (c, next) => {
    const { realm } = responders.of(c);
    const identity: unknown = c.get('auth');
    // A throwing claimCheck predicate propagates to the app's onError (500 by default).
    let error: AuthHttpError | undefined;
    try {
      error = isIdentity(identity) ? await guard(identity, realm) : tokenMissing(realm);
    } catch (e) {
      throw asHonoError(e);
    }
    if (error) return answer(error, c);
    await next();
  };
}

/** Synchronous unless a form body has to be read for an access_token member. */
function tokenSources(c: Context, realm: string): TokenSources | Promise<TokenSources> {
  // Hono parses the query string on first use; skip that when no access_token can be there.
  const queries = mayHaveQueryToken(c.req.url) ? c.req.queries('access_token') : undefined;
  const sources: TokenSources = {
    header: authorizationHeader(c),
    query: queries === undefined ? undefined : queries.length === 1 ? queries[0] : queries,
    body: undefined,
  };
  if (!hasFormBody(c)) return sources;
  return formToken(c, realm).then((body) => ({ ...sources, body }));
}

/**
 * The largest form body `auth()` reads for an `access_token` member. The body is read before the
 * request is authenticated, so without a bound any anonymous client could make the server
 * buffer as much as it sends. A token is at most `maxTokenLength` (16,384 by default) characters.
 */
const FORM_BODY_LIMIT = 64 * 1024;

/**
 * Whether to look for a token in the body (RFC 6750 §2.2): a form-encoded body whose declared
 * length is within FORM_BODY_LIMIT. A larger or unannounced (chunked) body is never read by
 * auth(); such a request is judged by its header and query alone.
 */
function hasFormBody(c: Context): boolean {
  if (c.req.method === 'GET' || c.req.method === 'HEAD') return false;
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(requestHeader(c, 'content-type') ?? '')) return false;
  const length = Number(requestHeader(c, 'content-length') ?? Number.NaN);
  return Number.isSafeInteger(length) && length > 0 && length <= FORM_BODY_LIMIT;
}

// RFC 6750 §2.2: a body token only counts in a form-encoded body. Hono caches the parsed body,
// so handlers can still read it after us.
async function formToken(c: Context, realm: string): Promise<unknown> {
  let form: Record<string, unknown>;
  try {
    form = await c.req.parseBody({ all: true });
  } catch {
    throw invalidRequest(realm, 'Malformed form body');
  }
  return form.access_token;
}

type NodeHeaders = Record<string, string | string[] | undefined>;
type NodeIncoming = { headers: NodeHeaders; rawHeaders?: readonly string[] };

/**
 * On @hono/node-server, the Node request (`c.env.incoming`). Reading its already-parsed
 * headers avoids materialising a WHATWG Request (undici Headers), which measured costlier
 * than verifying the token. Elsewhere (Bun, Deno, workers): undefined, and `c.req.header`.
 */
function nodeIncoming(c: Context): NodeIncoming | undefined {
  const incoming = (c.env as { incoming?: Partial<NodeIncoming> } | undefined)?.incoming;
  return incoming?.headers && typeof incoming.headers === 'object' ? (incoming as NodeIncoming) : undefined;
}

/** Every value when the header is repeated (see node-headers.ts; Web Headers join them). */
function authorizationHeader(c: Context): string | string[] | undefined {
  const incoming = nodeIncoming(c);
  if (!incoming) return c.req.header('authorization');
  const value = incoming.headers.authorization;
  return nodeAuthorization(typeof value === 'string' ? value : undefined, incoming.rawHeaders);
}

function requestHeader(c: Context, name: 'content-type' | 'content-length'): string | undefined {
  const incoming = nodeIncoming(c);
  if (!incoming) return c.req.header(name);
  const value = incoming.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Answers an AuthHttpError (through the hook); anything else is rethrown to the app's onError. */
async function answer(e: unknown, c: Context): Promise<Response> {
  if (!(e instanceof AuthHttpError)) throw asHonoError(e);
  const { onError } = responders.of(c);
  let result: unknown;
  try {
    result = onError ? await onError(e, c) : undefined;
  } catch (hookError) {
    throw asHonoError(hookError);
  }
  if (result instanceof Response) return result;
  const headers: Record<string, string> = e.wwwAuthenticate ? { 'WWW-Authenticate': e.wwwAuthenticate } : {};
  return c.json((result === undefined ? e.toJSON() : result) as object, e.status as ContentfulStatusCode, headers);
}

/**
 * What to rethrow for a value a hook threw. Hono hands only Errors to the app's onError; any
 * other value escapes the app (a bare 500 from the server, the app's handler never told).
 */
function asHonoError(thrown: unknown): unknown {
  return thrown instanceof Error ? thrown : wrapThrown(thrown);
}
