// `npm run demo`: @example/auth0-native protecting a Hono API, no Auth0 tenant needed.
//
// A local issuer on 127.0.0.1 stands in for the tenant (it serves a JWKS and signs Auth0-shaped
// tokens). The demo starts a protected API, sends it the requests real clients would (anonymous,
// expired, forged, users with and without the right scope or permission, a machine-to-machine
// client), prints what each got, and exits 1 if any status is not the expected one.
import { once } from 'node:events';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { Auth0Verifier } from '@example/auth0-native';
import { auth, requiredPermissions, requiredScopes } from '@example/auth0-native/hono';
import { startLocalIssuer } from '@example/auth0-native/testing';
import { closeServer, printBanner, runChecks } from './shared.mjs';

const issuer = await startLocalIssuer({ audience: 'https://api.example.test' });
// Against a real tenant this is `new Auth0Verifier({ domain, audience })`.
const verifier = new Auth0Verifier(issuer.verifierOptions());
const authenticated = auth({ verifier });
const whoami = (c) => c.json({ sub: c.get('auth').sub });

// What each route requires, next to the middleware that enforces it (the banner prints `requires`).
const routes = [
  { path: '/api/public', requires: 'nothing', middleware: [] },
  { path: '/api/me', requires: 'any valid access token', middleware: [authenticated] },
  { path: '/api/messages', requires: 'scope read:messages', middleware: [authenticated, requiredScopes('read:messages')] },
  { path: '/api/admin', requires: 'permission admin:access (Auth0 RBAC)', middleware: [authenticated, requiredPermissions('admin:access')] },
  { path: '/api/reports', requires: 'scope read:reports (granted to M2M clients)', middleware: [authenticated, requiredScopes('read:reports')] },
];

const app = new Hono();
for (const { path, middleware } of routes) {
  app.get(path, ...middleware, middleware.length ? whoami : (c) => c.json({ message: 'Anyone can read this.' }));
}
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
await once(server, 'listening');
const url = `http://127.0.0.1:${server.address().port}`;

printBanner('@example/auth0-native demo: a Hono API, a local stand-in for Auth0', {
  url,
  verifier,
  routes: routes.map(({ path, requires }) => ({ method: 'GET', path, requires })),
});

// The personas and their tokens, minted the way Auth0 shapes them.
const alice = issuer.mintUser({ sub: 'auth0|alice', scope: 'openid profile read:messages' });
const bob = issuer.mintUser({ sub: 'auth0|bob', scope: 'openid profile', permissions: ['admin:access'] });
const reporting = issuer.mintM2M({ clientId: 'reporting-service', scope: 'read:reports' });
const expired = issuer.mintExpired({ sub: 'auth0|alice', scope: 'read:messages' });
// Claims admin rights, signed by a key the tenant never published (under the tenant's key id).
const forged = issuer.mintUser({ sub: 'auth0|mallory', permissions: ['admin:access'] }, { signWith: 'foreign', kid: issuer.currentKid });

let ok = await runChecks(url, [
  { who: 'anyone', path: '/api/public', expect: 200 },
  { who: 'no token', path: '/api/messages', expect: 401 },
  { who: 'expired token', path: '/api/messages', token: expired, expect: 401 },
  { who: 'garbage token', path: '/api/messages', token: 'not-a-jwt', expect: 401 },
  { who: 'forged admin token', path: '/api/admin', token: forged, expect: 401 },
  { who: 'bad Bearer syntax', path: '/api/messages', authorization: `Bearer ${alice} extra`, expect: 400 },
  { who: 'alice (read:messages)', path: '/api/me', token: alice, expect: 200 },
  { who: 'alice (read:messages)', path: '/api/messages', token: alice, expect: 200 },
  { who: 'alice (read:messages)', path: '/api/admin', token: alice, expect: 403 },
  { who: 'bob (admin:access)', path: '/api/admin', token: bob, expect: 200 },
  { who: 'bob (admin:access)', path: '/api/messages', token: bob, expect: 403 },
  { who: 'M2M reporting-service', path: '/api/reports', token: reporting, expect: 200 },
  { who: 'alice (read:messages)', path: '/api/reports', token: alice, expect: 403 },
]);

// One JWKS fetch served every request: keys are cached, and so are verified tokens
// (alice's token was checked once, then answered from the cache).
const stats = verifier.stats();
console.log(
  `\n  verifier stats: ${stats.verifies} verifications (${stats.succeeded} valid, ${stats.failed} rejected), ` +
    `${stats.cacheHits} token-cache hits, ${stats.jwksFetches} JWKS fetch${stats.jwksFetches === 1 ? '' : 'es'} ` +
    `(issuer saw ${issuer.jwksRequests})`,
);
if (stats.jwksFetches !== 1) {
  console.log(`  FAIL  expected exactly 1 JWKS fetch, got ${stats.jwksFetches}`);
  ok = false;
}

await closeServer(server);
await issuer.close();
console.log(ok ? '\ndemo passed: every request got the expected status' : '\ndemo FAILED: see the FAIL lines above');
process.exitCode = ok ? 0 : 1;
