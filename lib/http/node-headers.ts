/**
 * Reading the Authorization header of a Node request (`http.IncomingMessage`, or the
 * `Http2ServerRequest` compatibility object), for the Express and the Hono-on-Node adapters.
 *
 * Why not just `req.headers.authorization`: Node keeps only the first of repeated
 * Authorization lines there and silently drops the rest. Authorization is a singleton field
 * (RFC 9110 §5.3), so a request that repeats it is malformed, and picking one would let this
 * server and a proxy in front of it each act on a different credential. Web `Headers` (Hono
 * on Bun, Deno, workers) join repeated lines with ", ", which the bearer parser refuses as
 * well (see JOINED_BEARER in bearer.ts); this makes Node answer the same way.
 */

/**
 * The Authorization header: its value, every value (in order) when the request repeated the
 * header, or `undefined` when it has none. `first` is Node's `req.headers.authorization`,
 * `raw` its `req.rawHeaders` (name, value, name, value, ... as received).
 */
export function nodeAuthorization(first: string | undefined, raw: readonly string[] | undefined): string | string[] | undefined {
  // No Authorization line at all (Node keeps the first when there are any): nothing to scan.
  if (first === undefined || !Array.isArray(raw)) return first;
  let seen = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (isAuthorization(raw[i]!) && ++seen > 1) return authorizationValues(raw);
  }
  return first;
}

// Its own function: a closure over `raw` in the loop above would make every call allocate.
function authorizationValues(raw: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (isAuthorization(raw[i]!)) values.push(raw[i + 1] ?? '');
  }
  return values;
}

const AUTHORIZATION = 'authorization';

// This runs over every header name of every authenticated request, so it allocates nothing
// (toLowerCase() made a new string for each 13-character name, e.g. Cache-Control, and took
// the scan from about 35 to 80 ns for 8 headers): the length first, then the two usual
// spellings, then a case-insensitive compare by char code. (`| 0x20` lowercases ASCII letters;
// only 'A'-'Z' and 'a'-'z' map onto a lowercase letter.)
function isAuthorization(name: string): boolean {
  if (name.length !== AUTHORIZATION.length) return false;
  if (name === AUTHORIZATION || name === 'Authorization') return true;
  for (let i = 0; i < AUTHORIZATION.length; i++) {
    if ((name.charCodeAt(i) | 0x20) !== AUTHORIZATION.charCodeAt(i)) return false;
  }
  return true;
}
