import { invalidRequest } from './auth-error.js';

/** Where a request may carry an access token (RFC 6750 §2). `undefined` means "not sent". */
export interface TokenSources {
  /**
   * The `Authorization` header value; every value when the request repeated the header (a
   * malformed request: see node-headers.ts).
   */
  header: string | readonly string[] | undefined;
  /** The `access_token` query parameter, as the framework parsed it (string, array, ...). */
  query: unknown;
  /** The `access_token` member of an `application/x-www-form-urlencoded` body. */
  body: unknown;
}

// RFC 6750 §2.1: `Bearer` 1*SP b64token. We accept exactly one space: extra spaces or a second
// part usually mean a proxy or client mangled the header, and guessing would hide that.
const BEARER = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/i;
const BEARER_SCHEME = /^Bearer(?: |$)/i;
const BEARER_PREFIX = /^Bearer /i;
// RFC 7235 §2.1: an auth-scheme is a token, then SP or the end. Another scheme than Bearer
// (say Basic, for a proxy) is "an unsupported authentication method" (RFC 6750 §3.1): the
// request carries no bearer token, which is a 401 with a bare challenge, not a 400. A "scheme"
// with a dot is no scheme in use but a bare JWT sent without `Bearer `: that client bug stays
// a 400, even on optional routes.
const OTHER_SCHEME = /^(?!Bearer(?: |$))[!#$%&'*+\-^_`|~0-9A-Za-z]+(?: |$)/i;
// Web Headers (Hono on Bun, Deno, workers) join repeated header lines with ", ", and a client
// may put two credentials on one line: another scheme's credentials followed by a Bearer one.
// No credentials of another scheme contain ", Bearer " (auth-params are name=value), so this
// is two headers' worth, as malformed as repeated lines (a "Bearer ..., ..." value already
// fails the Bearer syntax).
const JOINED_BEARER = /,[ \t]*Bearer(?:[ \t]|$)/i;

/**
 * The token the request carries, `undefined` when it carries none (an `Authorization` header
 * of another scheme carries none).
 * Throws a 400 `invalid_request` AuthHttpError for a malformed header or parameter, a repeated
 * `Authorization` header, and when the token is sent more than one way (RFC 6750 §2: clients
 * MUST NOT; answering with one of them would pick a winner the client did not choose).
 */
export function extractBearer(sources: TokenSources, realm: string): string | undefined {
  const { header: value, query, body } = sources;
  const otherScheme = typeof value === 'string' && OTHER_SCHEME.test(value);
  // Repeated lines (an array), or joined into one by Web Headers.
  if (typeof value === 'object' || (otherScheme && JOINED_BEARER.test(value))) throw invalidRequest(realm, 'More than one Authorization header');
  const header = otherScheme ? undefined : value;
  const sent = (header !== undefined ? 1 : 0) + (query !== undefined ? 1 : 0) + (body !== undefined ? 1 : 0);
  if (sent > 1) throw invalidRequest(realm, 'More than one method used to send the access token');
  if (header !== undefined) return fromHeader(header, realm);
  if (query !== undefined) return fromParameter(query, realm);
  if (body !== undefined) return fromParameter(body, realm);
  return undefined;
}

/**
 * What follows `Bearer ` in the `Authorization` header, unchecked, when the header is the only
 * way the token was sent; otherwise `undefined`. Only for a cache lookup ahead of
 * `extractBearer`: a token the verifier holds passed a full verification, so it is a valid
 * b64token and `extractBearer` would have returned exactly it, without the regex scan of ~1 kB.
 */
export function headerCandidate(sources: TokenSources): string | undefined {
  const { header, query, body } = sources;
  if (typeof header !== 'string' || query !== undefined || body !== undefined) return undefined;
  return BEARER_PREFIX.test(header) ? header.slice(7) : undefined;
}

/**
 * Whether `url` may carry an `access_token` query parameter, so that parsing its query string
 * (which the frameworks do afresh, or lazily) is only paid when it can matter. A name may be
 * percent-encoded (`access%5Ftoken`, which both frameworks decode): any escape in the query
 * counts as "may".
 */
export function mayHaveQueryToken(url: string): boolean {
  const query = url.indexOf('?');
  return query !== -1 && (url.includes('access_token', query) || url.includes('%', query));
}

function fromHeader(header: string, realm: string): string {
  const match = BEARER.exec(header);
  if (match) return match[1]!;
  if (!BEARER_SCHEME.test(header)) throw invalidRequest(realm, 'Authorization header does not use the Bearer scheme');
  throw invalidRequest(realm, 'Malformed Bearer credentials in the Authorization header');
}

function fromParameter(value: unknown, realm: string): string {
  // Arrays (?access_token=a&access_token=b) and objects (qs-style parsers) are not a token.
  if (typeof value !== 'string') throw invalidRequest(realm, 'access_token must be sent once, as a single value');
  if (value === '') throw invalidRequest(realm, 'access_token is empty');
  return value;
}
