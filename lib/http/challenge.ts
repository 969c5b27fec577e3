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
 * RFC 7230 quoted-string. Backslash and quote are escaped, and anything outside printable
 * ASCII becomes `?`: Node rejects control characters in header values (a thrown
 * ERR_INVALID_CHAR mid-response), and RFC 6750 only allows printable ASCII in these attributes.
 * Values can come from claimCheck descriptions or error messages, so never trust them.
 */
function quote(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/[\\"]/g, '\\$&')}"`;
}
