/**
 * RFC 6750 §3 `WWW-Authenticate: Bearer ...` challenge building.
 */

/** Realm used when neither the middleware nor the request says otherwise (matches the core's default). */
export const DEFAULT_REALM = 'api';

/**
 * Builds `Bearer realm="api", error="...", ...` with the attributes in the given order,
 * skipping undefined ones.
 */
export function bearerChallenge(realm: string, attributes: Record<string, string | undefined> = {}): string {
  let header = `Bearer realm=${quote(realm)}`;
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) header += `, ${name}=${quote(value)}`;
  }
  return header;
}

/**
 * RFC 6750 §3 allows only printable ASCII without `"` and `\` in these attributes, so
 * (exactly like the Rust core's challenges) quote and backslash become `'` and anything
 * else outside printable ASCII becomes `?`. Node would also throw ERR_INVALID_CHAR on a
 * control character mid-response. Values can come from claimCheck descriptions or error
 * messages, so never trust them.
 */
function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, "'")}"`;
}
