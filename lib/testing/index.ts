/**
 * `@example/auth0-native/testing`: a local stand-in for an Auth0 tenant.
 *
 * It serves a JWKS on 127.0.0.1 and mints Auth0-shaped access tokens signed with its keys, so
 * protected routes can be tested without a tenant or network. It also crafts the tokens and JWKS
 * failures that a verifier must reject or survive (foreign keys, alg confusion, `none`, outages).
 *
 * ```ts
 * const issuer = await startLocalIssuer();
 * const verifier = new Auth0Verifier({ ...issuer.verifierOptions() });
 * const token = issuer.mintUser({ permissions: ['read:reports'] });
 * // ... request with `Authorization: Bearer ${token}`
 * await issuer.close();
 * ```
 *
 * Never use it in production: it signs whatever it is asked to.
 */
import { KeyObject } from 'node:crypto';
import type { JsonWebKey } from 'node:crypto';
import { base64url, canSign, defaultAlgorithmFor, signInput, type SignatureKey } from './jws.js';
import { generateForeignKey, isKeyAlgorithm, type KeyAlgorithm, type SigningAlgorithm, type SigningKey } from './keys.js';
import { JWKS_PATH, JwksServer, type JwksFault } from './server.js';

export { generateForeignKey };
export type { JwksFault, KeyAlgorithm, SigningAlgorithm, SigningKey };

/** `sub` of tokens minted by `mint()` and `mintUser()` unless given: an Auth0 database user id. */
export const DEFAULT_SUBJECT = 'auth0|test-user';
/** `azp` of user tokens unless given: the application that asked for the token. */
export const DEFAULT_CLIENT_ID = 'test-client-id';
/** Client id (and `${id}@clients` subject) of M2M tokens unless given. */
export const DEFAULT_M2M_CLIENT_ID = 'test-m2m-client-id';
/** `scope` of user tokens unless given: what Auth0 grants a login that asks for an API audience. */
export const DEFAULT_USER_SCOPE = 'openid profile email';

export interface StartLocalIssuerOptions {
  /** TCP port to listen on; 0 (the default) picks a free one. The server always binds 127.0.0.1 only. */
  port?: number;
  /** API identifier put in `aud` and handed to the verifier. Default 'https://api.example.test'. */
  audience?: string;
  /**
   * RSA-2048 RS256 keys in the JWKS at start, default 1. The first one signs; the others are
   * published but unused, like the "next" key Auth0 always serves (see `useKey()`).
   */
  keyCount?: number;
}

/**
 * What signs a token:
 * - `'current'` (default): the issuer's current key.
 * - a kid: any key this issuer generated, including one taken out of the JWKS by `removeKey()`.
 * - `'foreign'`: an RSA key this issuer never publishes (made once per issuer, on first use).
 * - a `SigningKey` (from `generateForeignKey()`), or a private or secret `KeyObject`.
 * - `{ hmacSecret }`: HMAC, e.g. with the public key's PEM for the classic alg-confusion attack.
 * - `'none'`: an empty signature.
 */
export type SignWith = 'current' | 'foreign' | 'none' | (string & {}) | SigningKey | KeyObject | { hmacSecret: string | Buffer };

export interface MintOptions {
  /**
   * Header members merged over the defaults `{ alg, typ: 'JWT', kid }`; a member set to
   * `undefined` is left out (e.g. `{ typ: undefined }`). Ignored when `rawHeader` is given.
   */
  header?: Record<string, unknown>;
  /** Header `kid`. Default: the signing key's kid, or `currentKid` when signing with a bare KeyObject, HMAC or 'none'. `null` omits it. */
  kid?: string | null;
  /**
   * Header `alg`, written as given (it may lie). Default: the signing key's algorithm (RS256 for
   * the issuer's keys, HS256 for `hmacSecret`, 'none' for 'none').
   */
  alg?: string;
  /**
   * Algorithm of the signature itself. Default: the header `alg` when the key can sign with it,
   * else the key's own algorithm. So `alg: 'PS256'` signs PS256, while `alg: 'HS256'` with an
   * RSA key writes HS256 over an RS256 signature. Set it to make other lies explicit.
   */
  signAlg?: SigningAlgorithm;
  /** Lifetime in seconds from now (negative is in the past), default 3600. Ignored when the claims set `exp`. */
  expiresIn?: number;
  /** Key or method for the signature, default 'current'; see `SignWith`. */
  signWith?: SignWith;
  /**
   * Exact header text to base64url-encode instead of a serialized header (duplicate members, bad
   * JSON...). When it parses, its `alg` picks the signature algorithm as `alg` would.
   */
  rawHeader?: string;
  /** Exact payload text to base64url-encode instead of the serialized claims. */
  rawPayload?: string;
  /** Exact third segment, written verbatim instead of the computed signature. */
  rawSignature?: string;
}

export interface UserTokenOptions {
  /** Default `DEFAULT_SUBJECT` ('auth0|test-user'). */
  sub?: string;
  /**
   * Granted scopes, space-joined when an array. Default 'openid profile email'. As Auth0 does,
   * when it includes `openid` the `aud` becomes `[audience, '<issuer>userinfo']`. Empty omits `scope`.
   */
  scope?: string | string[];
  /** RBAC `permissions` claim ("Add Permissions in the Access Token"); omitted unless given. */
  permissions?: string[];
  /** `azp`: the application the user logged in to. Default `DEFAULT_CLIENT_ID`. */
  clientId?: string;
  /** Lifetime in seconds, default 3600. */
  expiresIn?: number;
  /** Extra or overriding claims, applied last, e.g. `{ 'https://example.com/roles': ['admin'] }`. */
  claims?: Record<string, unknown>;
}

export interface M2MTokenOptions {
  /** The machine-to-machine application; `sub` becomes `${clientId}@clients`. Default `DEFAULT_M2M_CLIENT_ID`. */
  clientId?: string;
  /** Granted scopes, space-joined when an array; omitted unless given and non-empty. */
  scope?: string | string[];
  /** RBAC `permissions` claim; omitted unless given. */
  permissions?: string[];
  /** Lifetime in seconds, default 3600 (Auth0's default for M2M is 86400; tests rarely care). */
  expiresIn?: number;
  /** Extra or overriding claims, applied last. */
  claims?: Record<string, unknown>;
}

/** Options of `new Auth0Verifier(...)` that point it at this issuer. */
export interface LocalVerifierOptions {
  issuer: string;
  jwksUri: string;
  audience: string;
}

export interface LocalIssuer {
  /** `http://127.0.0.1:${port}/`, with the trailing slash Auth0 puts in `iss`. */
  readonly issuer: string;
  /**
   * `127.0.0.1:${port}`. Not enough alone for the verifier, which would assume
   * `https://${domain}/`: use `verifierOptions()`.
   */
  readonly domain: string;
  /** `${issuer}.well-known/jwks.json` */
  readonly jwksUri: string;
  readonly audience: string;
  /** Kid of the key `mint()` signs with by default. */
  readonly currentKid: string;
  /** JWKS GETs received so far, including those answered with a fault. */
  readonly jwksRequests: number;

  /** `{ issuer, jwksUri, audience }`, to spread into `new Auth0Verifier({ ...issuer.verifierOptions() })`. */
  verifierOptions(): LocalVerifierOptions;

  /**
   * Sign a token (synchronously). Claims are merged over `{ iss, sub: 'auth0|test-user', aud,
   * iat: now, exp: now + expiresIn }`; a claim set to `undefined` is left out
   * (`mint({ exp: undefined })` has no `exp`), `null` is written as null.
   */
  mint(claims?: Record<string, unknown>, options?: MintOptions): string;
  /** A user's access token in Auth0's default profile (`azp`, space-separated `scope`, optional `permissions`). */
  mintUser(options?: UserTokenOptions, mintOptions?: MintOptions): string;
  /** A client-credentials token: `sub: '<clientId>@clients'`, `azp`, `gty: 'client-credentials'`. */
  mintM2M(options?: M2MTokenOptions, mintOptions?: MintOptions): string;
  /** A token that expired an hour ago (`iat` 2 h ago), far beyond any clock tolerance; `claims` override. */
  mintExpired(claims?: Record<string, unknown>, mintOptions?: MintOptions): string;

  /**
   * Publish a newly generated key and sign with it from now on; older keys stay in the JWKS until
   * `removeKey()`. The key is always new, so a verifier sees an unknown kid and must refetch.
   * `alg` default 'RS256'; other algorithms need `algorithms` on the verifier. ES512 is not
   * among the algorithms a verifier accepts: its keys are for tests that expect a refusal.
   */
  rotate(options?: { alg?: KeyAlgorithm }): { kid: string };
  /** Sign with a key this issuer generated (e.g. the published "next" key, which needs no refetch). */
  useKey(kid: string): void;
  /**
   * Take a key out of the JWKS (revocation). It can still sign via `signWith: kid`, so tests can
   * mint tokens of a revoked key; removing the current key leaves it current until `rotate()`/`useKey()`.
   */
  removeKey(kid: string): void;
  /** A copy of the JWKS as served. */
  jwks(): { keys: JsonWebKey[] };
  /** A key this issuer generated (default: the current one), e.g. its `publicKey` for attack tests. */
  getKey(kid?: string): SigningKey;

  /** Make JWKS responses fail (see `JwksFault`) until cleared with `null` or `times` runs out. A fault that could not be served (a bad header value, a delay past setTimeout's limit) throws a TypeError here. */
  setFault(fault: JwksFault | null): void;
  /** `Cache-Control` header of successful JWKS responses; `null` (the default) sends none. A value Node cannot send as a header throws a TypeError. */
  setCacheControl(value: string | null): void;
  /** Stop listening and drop every connection, keep-alive ones included. Idempotent. */
  close(): Promise<void>;
}

/** Start an issuer on 127.0.0.1 with fresh keys. Always `close()` it (e.g. in `after()`). */
export async function startLocalIssuer(options: StartLocalIssuerOptions = {}): Promise<LocalIssuer> {
  const { port = 0, audience = 'https://api.example.test', keyCount = 1 } = options;
  if (!(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new TypeError('startLocalIssuer: port must be an integer from 0 to 65535');
  if (typeof audience !== 'string' || audience === '') throw new TypeError('startLocalIssuer: audience must be a non-empty string');
  if (!(Number.isInteger(keyCount) && keyCount >= 1 && keyCount <= 16)) throw new TypeError('startLocalIssuer: keyCount must be an integer from 1 to 16');

  const keys = Array.from({ length: keyCount }, () => generateForeignKey('RS256'));
  const issuer = new Issuer(audience, keys);
  await issuer.listen(port);
  return issuer;
}

class Issuer implements LocalIssuer {
  readonly audience: string;
  #server: JwksServer | undefined;
  #origin = '';
  /** Every key ever generated here, by kid: removed keys can still sign. */
  #keys = new Map<string, SigningKey>();
  /** Kids in the JWKS, in publication order. */
  #published: string[] = [];
  #current: SigningKey;
  #foreign: SigningKey | undefined;

  constructor(audience: string, keys: SigningKey[]) {
    this.audience = audience;
    for (const key of keys) this.#publish(key);
    this.#current = keys[0];
  }

  async listen(port: number): Promise<void> {
    const server = new JwksServer({
      port,
      jwks: () => this.jwks(),
      discovery: () => ({ issuer: this.issuer, jwks_uri: this.jwksUri }),
    });
    this.#origin = `127.0.0.1:${await server.listen()}`;
    this.#server = server;
  }

  get domain(): string { return this.#origin; }
  get issuer(): string { return `http://${this.#origin}/`; }
  get jwksUri(): string { return `http://${this.#origin}${JWKS_PATH}`; }
  get currentKid(): string { return this.#current.kid; }
  get jwksRequests(): number { return this.#server?.requests ?? 0; }

  verifierOptions(): LocalVerifierOptions {
    return { issuer: this.issuer, jwksUri: this.jwksUri, audience: this.audience };
  }

  mint(claims: Record<string, unknown> = {}, options: MintOptions = {}): string {
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw new TypeError('mint: claims must be an object');
    const { key, kid: keyKid, alg: keyAlg } = this.#resolveSigner(options.signWith ?? 'current');

    let headerText = options.rawHeader;
    // A raw header's own alg decides the signature as a built one's does (see `signAlg`).
    let headerAlg: unknown = options.alg ?? (headerText === undefined ? undefined : rawHeaderAlg(headerText));
    if (headerText === undefined) {
      const kid = options.kid === null ? undefined : options.kid ?? keyKid;
      const header = { alg: options.alg ?? keyAlg, typ: 'JWT', kid, ...options.header };
      headerAlg = header.alg;
      headerText = JSON.stringify(header); // drops `undefined` members
    }

    let payloadText = options.rawPayload;
    if (payloadText === undefined) {
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = options.expiresIn ?? 3600;
      if (!Number.isFinite(expiresIn)) throw new TypeError('mint: expiresIn must be a finite number of seconds');
      payloadText = JSON.stringify({ iss: this.issuer, sub: DEFAULT_SUBJECT, aud: this.audience, iat: now, exp: now + expiresIn, ...claims });
    }

    const input = `${base64url(headerText)}.${base64url(payloadText)}`;
    if (options.rawSignature !== undefined) return `${input}.${options.rawSignature}`;
    const signAlg = options.signAlg ?? (typeof headerAlg === 'string' && canSign(headerAlg, key) ? headerAlg : keyAlg);
    return `${input}.${signInput(signAlg, input, key)}`;
  }

  mintUser(options: UserTokenOptions = {}, mintOptions: MintOptions = {}): string {
    const scope = joinScope(options.scope ?? DEFAULT_USER_SCOPE);
    // Auth0 adds its /userinfo audience when the login asked for `openid` (REFERENCE section 2).
    const aud = scope.split(' ').includes('openid') ? [this.audience, `${this.issuer}userinfo`] : this.audience;
    const claims: Record<string, unknown> = {
      sub: options.sub ?? DEFAULT_SUBJECT,
      aud,
      azp: options.clientId ?? DEFAULT_CLIENT_ID,
      scope: scope === '' ? undefined : scope,
      permissions: options.permissions,
      ...options.claims,
    };
    return this.mint(claims, withExpiresIn(mintOptions, options.expiresIn));
  }

  mintM2M(options: M2MTokenOptions = {}, mintOptions: MintOptions = {}): string {
    const clientId = options.clientId ?? DEFAULT_M2M_CLIENT_ID;
    const scope = joinScope(options.scope ?? '');
    const claims: Record<string, unknown> = {
      sub: `${clientId}@clients`,
      scope: scope === '' ? undefined : scope,
      gty: 'client-credentials',
      azp: clientId,
      permissions: options.permissions,
      ...options.claims,
    };
    return this.mint(claims, withExpiresIn(mintOptions, options.expiresIn));
  }

  mintExpired(claims: Record<string, unknown> = {}, mintOptions: MintOptions = {}): string {
    const now = Math.floor(Date.now() / 1000);
    return this.mint({ iat: now - 7200, exp: now - 3600, ...claims }, mintOptions);
  }

  rotate(options: { alg?: KeyAlgorithm } = {}): { kid: string } {
    const key = generateForeignKey(options.alg ?? 'RS256');
    this.#publish(key);
    this.#current = key;
    return { kid: key.kid };
  }

  useKey(kid: string): void {
    this.#current = this.getKey(kid);
  }

  removeKey(kid: string): void {
    const index = this.#published.indexOf(kid);
    if (index === -1) throw new Error(`removeKey: no key ${JSON.stringify(kid)} in the JWKS`);
    this.#published.splice(index, 1);
  }

  jwks(): { keys: JsonWebKey[] } {
    return { keys: this.#published.map((kid) => ({ ...this.getKey(kid).publicJwk })) };
  }

  getKey(kid: string = this.#current.kid): SigningKey {
    const key = this.#keys.get(kid);
    if (!key) throw new Error(`no key ${JSON.stringify(kid)} was generated by this issuer`);
    return key;
  }

  setFault(fault: JwksFault | null): void { this.#requireServer().setFault(fault); }
  setCacheControl(value: string | null): void { this.#requireServer().setCacheControl(value); }
  close(): Promise<void> { return this.#server?.close() ?? Promise.resolve(); }

  #publish(key: SigningKey): void {
    this.#keys.set(key.kid, key);
    this.#published.push(key.kid);
  }

  #requireServer(): JwksServer {
    if (!this.#server) throw new Error('the issuer is not listening');
    return this.#server;
  }

  /** Turn `signWith` into a signature key, the kid it goes by and the algorithm it signs with by default. */
  #resolveSigner(signWith: SignWith): { key: SignatureKey; kid: string; alg: SigningAlgorithm } {
    const fromKey = (k: SigningKey) => ({ key: { kind: 'private', key: k.privateKey } as SignatureKey, kid: k.kid, alg: k.alg });
    // Keyless signers borrow the current kid, so the verifier finds a key and must reject on alg or signature.
    const borrowed = (key: SignatureKey) => ({ key, kid: this.#current.kid, alg: defaultAlgorithmFor(key) });
    if (signWith === 'current') return fromKey(this.#current);
    if (signWith === 'foreign') return fromKey((this.#foreign ??= generateForeignKey('RS256')));
    if (signWith === 'none') return borrowed({ kind: 'none' });
    if (typeof signWith === 'string') return fromKey(this.getKey(signWith));
    if (signWith instanceof KeyObject) {
      if (signWith.type === 'secret') return borrowed({ kind: 'hmac', secret: signWith.export() });
      if (signWith.type !== 'private') throw new TypeError('mint: signWith needs a private or secret KeyObject');
      return borrowed({ kind: 'private', key: signWith });
    }
    if (typeof signWith === 'object' && signWith !== null) {
      if ('hmacSecret' in signWith) return borrowed({ kind: 'hmac', secret: signWith.hmacSecret });
      if ('privateKey' in signWith && signWith.privateKey instanceof KeyObject && isKeyAlgorithm(signWith.alg)) return fromKey(signWith);
    }
    throw new TypeError('mint: unsupported signWith');
  }
}

function joinScope(scope: string | string[]): string {
  return Array.isArray(scope) ? scope.join(' ') : scope;
}

/** The `alg` member of a raw header text, when it is a JSON object with one. */
function rawHeaderAlg(text: string): unknown {
  try {
    const header: unknown = JSON.parse(text);
    return typeof header === 'object' && header !== null ? (header as { alg?: unknown }).alg : undefined;
  } catch {
    return undefined;
  }
}

/** `mintOptions` with the token options' `expiresIn` where mintOptions leaves it undefined (an explicit `undefined` too). */
function withExpiresIn(mintOptions: MintOptions, expiresIn: number | undefined): MintOptions {
  return { ...mintOptions, expiresIn: mintOptions.expiresIn ?? expiresIn };
}
