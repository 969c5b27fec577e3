/**
 * `MastraAuthAuth0Native`: a drop-in for `@mastra/auth-auth0`'s `MastraAuthAuth0`, verifying with
 * the native core (one JWKS cache for the process, an algorithm allow-list, a token cache).
 *
 * Structural on purpose: it implements Mastra's `IMastraAuthProvider` shape without extending
 * `MastraAuthProvider`, so nothing here requires `@mastra/core` at runtime. Mastra's server only
 * duck-types the provider (`typeof auth.authenticateToken === 'function'`,
 * `'authorizeUser' in auth`, `typeof auth.mapUserToResourceId === 'function'`), and its
 * `server.auth` option is typed with the structural `IMastraAuthProvider` precisely because
 * provider packages bundle their own copy of the class.
 */
import type { Auth0Verifier, JwtClaims } from '../index.js';
import { isAuth0VerifyError } from './errors.js';
import { resolveVerifier, type VerifierSource } from './http/verifier.js';

/** Mastra's own message (packages/auth/auth0), so code and docs written for it keep working. */
const MISSING_CONFIG =
  'Auth0 domain and audience are required, please provide them in the options or set the environment variables AUTH0_DOMAIN and AUTH0_AUDIENCE';

/** Options of ours that are Mastra's, not the core's. */
const MASTRA_KEYS = ['name', 'authorizeUser', 'mapUserToResourceId', 'protected', 'public'] as const;

/** Mastra's `Methods`. */
export type MastraMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH' | 'ALL';
/** A Mastra `public`/`protected` entry: a path pattern, a RegExp, or a pattern with method(s). */
export type MastraRoutePattern = RegExp | string | [string, MastraMethod | MastraMethod[]];
/**
 * Mastra's `MastraAuthRequest` (a fetch Request, or a Hono/Express-like request), kept loose so
 * Mastra's own type stays assignable to it across its versions.
 */
export type MastraAuthRequestLike = Request | { raw?: Request; headers?: unknown; header?(name: string): string | null | undefined };

export interface MastraAuthAuth0NativeOptions extends Omit<VerifierSource, 'authorizeUser'> {
  /** Provider name. Default `'auth0'`. */
  name?: string;
  /**
   * Mastra's authorization step (false: 403 `Access denied`; a throw: 500). Replaces the default
   * (a `sub` is present and the token has not expired). Called with `this` bound to the provider.
   * This is Mastra's hook, not the core's `authorizeUser(claims)`: for that one, pass a
   * `verifier` built with it (its denials then surface as 401, as Mastra has no 403 path there).
   */
  authorizeUser?: (user: JwtClaims, request: MastraAuthRequestLike) => Promise<boolean> | boolean;
  /** Maps the user to Mastra's memory resource id, e.g. `(user) => user.sub`. */
  mapUserToResourceId?: (user: JwtClaims) => string | undefined | null;
  /** Extra protected paths, as in Mastra's provider options. */
  protected?: MastraRoutePattern[];
  /** Extra public paths, as in Mastra's provider options. */
  public?: MastraRoutePattern[];
}

export class MastraAuthAuth0Native {
  readonly name: string;
  /** The verifier every request goes through (the one given, or the one built from the options). */
  readonly verifier: Auth0Verifier;
  /** The verifier's clock tolerance in ms, read once: a native getter call costs more than the check. */
  readonly #clockToleranceMs: number;
  protected?: MastraRoutePattern[];
  public?: MastraRoutePattern[];
  mapUserToResourceId?: (user: JwtClaims) => string | undefined | null;

  /**
   * Like Mastra's provider: `domain` and `audience` fall back to AUTH0_DOMAIN and AUTH0_AUDIENCE,
   * and it throws Mastra's message when either is still missing (an `issuer` may stand in for
   * `domain`). With a ready `verifier`, neither is needed.
   */
  constructor(options: MastraAuthAuth0NativeOptions = {}) {
    this.name = options.name ?? 'auth0';
    this.verifier = options.verifier ? resolveVerifier(options, MASTRA_KEYS) : buildVerifier(options);
    this.#clockToleranceMs = this.verifier.clockTolerance * 1000;
    this.registerOptions(options);
  }

  /**
   * The verified claims, or `null` for any bad token (Mastra answers 401). Nothing is logged:
   * the token, and why a client's token failed, do not belong in server logs.
   *
   * A JWKS outage (ERR_JWKS_UNAVAILABLE) or any server-side error is thrown instead. Mastra still
   * answers 401 (it has no other status for a provider failure) but logs thrown errors as
   * "Authentication error" with the error's code and message, so an outage is visible to
   * operators rather than looking like a wave of bad tokens.
   */
  async authenticateToken(token: string, _request?: MastraAuthRequestLike): Promise<JwtClaims | null> {
    // Mastra strips only a literal "Bearer " (case-sensitive) before calling us; finish the job
    // the way its own getAuthenticatedUser does. A JWT never contains whitespace.
    const bare = typeof token === 'string' ? token.replace(/^Bearer\s+/i, '').trim() : '';
    if (!bare) return null;
    const cached = this.verifier.verifyCached(bare); // no promise of ours to await on a hit
    if (cached !== null) return cached;
    try {
      return await this.verifier.verify(bare);
    } catch (e) {
      // 401/403: the token's fault. 503 (JWKS outage), 500 (core bug) or a foreign error: ours.
      if (isAuth0VerifyError(e) && e.status < 500) return null;
      throw e;
    }
  }

  /**
   * Mastra's Auth0 default: the user has a `sub` and the token has not expired. Expiry is judged
   * with the verifier's `clockTolerance`, as verification just did: without it, a token a few
   * seconds past `exp` would verify and then be refused here with a 403, and clients renew
   * tokens on a 401, not a 403.
   */
  authorizeUser(user: JwtClaims, _request?: MastraAuthRequestLike): Promise<boolean> | boolean {
    if (typeof user !== 'object' || user === null) return false;
    const { sub, exp } = user;
    if (typeof sub !== 'string' || sub === '') return false;
    // Mastra calls it as a method; called detached, it has no verifier and allows no tolerance.
    const toleranceMs = this instanceof MastraAuthAuth0Native ? this.#clockToleranceMs : 0;
    return !(typeof exp === 'number' && exp * 1000 + toleranceMs < Date.now());
  }

  /** Mastra's `MastraAuthProvider.registerOptions`, same semantics (authorizeUser bound to this). */
  protected registerOptions(options: MastraAuthAuth0NativeOptions): void {
    if (options.authorizeUser) this.authorizeUser = options.authorizeUser.bind(this);
    if (options.mapUserToResourceId) this.mapUserToResourceId = options.mapUserToResourceId;
    if (options.protected) this.protected = options.protected;
    if (options.public) this.public = options.public;
  }
}

function buildVerifier(options: MastraAuthAuth0NativeOptions): Auth0Verifier {
  // Read the env here rather than leaving it to the core, to fail with Mastra's message.
  const domain = options.domain ?? process.env.AUTH0_DOMAIN;
  const audience = options.audience ?? process.env.AUTH0_AUDIENCE;
  if ((!domain && !options.issuer) || !audience) throw new Error(MISSING_CONFIG);
  return resolveVerifier({ ...options, domain, audience }, MASTRA_KEYS);
}
