// A Hono 4 API protected by @example/auth0-native (npm i @example/auth0-native hono @hono/node-server).
//
//   AUTH0_DOMAIN=your-tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com node examples/hono-server.mjs
//   node examples/hono-server.mjs               # no tenant: a local issuer signs test tokens
//   node examples/hono-server.mjs --self-test   # or EXAMPLE_SELF_TEST=1: a few requests, then exit 0/1
//
// PORT (default 3000) and HOST (default 127.0.0.1) pick where it listens.
import { once } from 'node:events';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { Auth0Verifier } from '@example/auth0-native';
import { auth, requiredPermissions, requiredScopes } from '@example/auth0-native/hono';
import { closeServer, connectTenant, listenAddress, printBanner, printTryIt, runOrSelfTest, selfTest, serverUrl } from './shared.mjs';

const tenant = await connectTenant();
// One verifier for the whole process: one JWKS cache, one verified-token cache.
const verifier = new Auth0Verifier(tenant.verifierOptions);

const app = new Hono();
app.get('/api/public', (c) => c.json({ message: 'Anyone can read this.' }));

// Every other /api route needs a valid access token; c.get('auth') is who sent it.
const authenticated = auth({ verifier });
app.get('/api/messages', authenticated, requiredScopes('read:messages'), (c) =>
  c.json({ messages: ['hello from hono'], sub: c.get('auth').sub }),
);
app.get('/api/admin', authenticated, requiredPermissions('admin:access'), (c) =>
  c.json({ admin: true, sub: c.get('auth').sub, permissions: c.get('auth').permissions }),
);

const { host, port } = listenAddress(3000);
const server = serve({ fetch: app.fetch, hostname: host, port });
await once(server, 'listening');
const url = serverUrl(host, server.address().port);

printBanner('Hono API protected by @example/auth0-native', {
  url,
  verifier,
  routes: [
    { method: 'GET', path: '/api/public', requires: 'nothing' },
    { method: 'GET', path: '/api/messages', requires: 'a valid token with scope read:messages' },
    { method: 'GET', path: '/api/admin', requires: 'a valid token with permission admin:access' },
  ],
});

const { issuer } = tenant;
if (!selfTest) {
  printTryIt(url, tenant, [
    { path: '/api/messages', note: 'no token: 401' },
    { path: '/api/messages', note: 'scope read:messages: 200', token: () => issuer.mintUser({ scope: 'openid read:messages' }) },
    { path: '/api/admin', note: 'permission admin:access: 200', token: () => issuer.mintUser({ permissions: ['admin:access'] }) },
  ]);
}

await runOrSelfTest({
  url,
  close: async () => {
    await closeServer(server);
    await tenant.close();
  },
  checks: () => [
    { who: 'anonymous', path: '/api/public', expect: 200 },
    { who: 'anonymous', path: '/api/messages', expect: 401 },
    { who: 'garbage token', path: '/api/messages', token: 'not-a-jwt', expect: 401 },
    // Minting needs the local issuer; against a real tenant the checks above are what can run.
    ...(issuer
      ? [
          { who: 'reader', path: '/api/messages', token: issuer.mintUser({ sub: 'auth0|reader', scope: 'openid read:messages' }), expect: 200 },
          { who: 'reader', path: '/api/admin', token: issuer.mintUser({ sub: 'auth0|reader', scope: 'openid read:messages' }), expect: 403 },
          { who: 'admin', path: '/api/admin', token: issuer.mintUser({ sub: 'auth0|admin', permissions: ['admin:access'] }), expect: 200 },
        ]
      : []),
  ],
});
