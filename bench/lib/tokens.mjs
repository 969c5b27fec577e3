// The one token set every benchmark uses: RS256-2048, Auth0-shaped (default access-token
// profile: iss, sub, aud array with /userinfo, iat, exp, azp, scope, RBAC permissions and a
// namespaced custom claim), minted by the package's own local testing issuer.

/** One user token; `i` makes it distinct (an Auth0 database user id). */
export function mintAuth0Token(issuer, i, extra = {}) {
  return issuer.mintUser({
    sub: `auth0|${(0x64f1c2a0b3d4e5f600000000n + BigInt(i)).toString(16)}`,
    scope: 'openid profile read:reports',
    permissions: ['read:reports'],
    claims: { 'https://example.com/roles': ['admin'], ...extra },
    expiresIn: 86400,
  });
}

/**
 * `count` distinct tokens, one more used as "the repeated token", and tokens a verifier
 * must reject (wrong iss, wrong aud, foreign signature, expired) for the sanity checks.
 */
export function mintTokenSet(issuer, count) {
  const distinct = [];
  for (let i = 0; i < count; i++) distinct.push(mintAuth0Token(issuer, i));
  const repeated = mintAuth0Token(issuer, count);
  const sub = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub;
  return {
    issuer: issuer.issuer,
    jwksUri: issuer.jwksUri,
    audience: issuer.audience,
    distinct,
    repeated,
    repeatedSub: sub(repeated),
    bad: {
      wrongIssuer: mintAuth0Token(issuer, 1e6, { iss: 'https://evil.example.com/' }),
      wrongAudience: mintAuth0Token(issuer, 1e6 + 1, { aud: ['https://other-api.example.test'] }),
      foreignSignature: issuer.mintUser({ scope: 'openid read:reports' }, { signWith: 'foreign' }),
      expired: issuer.mintExpired({ aud: [issuer.audience, `${issuer.issuer}userinfo`] }),
    },
  };
}
