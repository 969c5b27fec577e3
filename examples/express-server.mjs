// An Express 5 API protected by @example/auth0-native (npm i @example/auth0-native express).
//
//   AUTH0_DOMAIN=your-tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com node examples/express-server.mjs
//   node examples/express-server.mjs               # no tenant: a local issuer signs test tokens
//   node examples/express-server.mjs --self-test   # or EXAMPLE_SELF_TEST=1: a few requests, then exit 0/1
//
// PORT (default 3000) and HOST (default 127.0.0.1) pick where it listens.
import { once } from 'node:events';
import express from 'express';
import { Auth0Verifier } from '@example/auth0-native';
import { auth, claimCheck, requiredPermissions, requiredScopes } from '@example/auth0-native/express';
import { closeServer, connectTenant, listenAddress, printBanner, printTryIt, runOrSelfTest, selfTest, serverUrl } from './shared.mjs';

const tenant = await connectTenant();
// One verifier for the whole process: one JWKS cache, one verified-token cache.
const verifier = new Auth0Verifier(tenant.verifierOptions);

const app = express();
app.get('/api/public', (req, res) => res.json({ message: 'Anyone can read this.' }));

// Every /api route registered after this line needs a valid access token; req.auth is who sent it.
app.use('/api', auth({ verifier }));
app.get('/api/messages', requiredScopes('read:messages'), (req, res) =>
  res.json({ messages: ['hello from express'], sub: req.auth.sub }),
);
app.get('/api/admin', requiredPermissions('admin:access'), (req, res) =>
  res.json({ admin: true, sub: req.auth.sub, permissions: req.auth.permissions }),
);
// Client-credentials (machine-to-machine) tokens only: Auth0 marks them with gty.
app.get('/api/machines', claimCheck((claims) => claims.gty === 'client-credentials', 'M2M tokens only'), (req, res) =>
  res.json({ client: req.auth.claims.azp, scopes: req.auth.scopes }),
);

const { host, port } = listenAddress(3000);
const server = app.listen(port, host);
await once(server, 'listening');
const url = serverUrl(host, server.address().port);

printBanner('Express API protected by @example/auth0-native', {
  url,
  verifier,
  routes: [
    { method: 'GET', path: '/api/public', requires: 'nothing' },
    { method: 'GET', path: '/api/messages', requires: 'a valid token with scope read:messages' },
    { method: 'GET', path: '/api/admin', requires: 'a valid token with permission admin:access' },
    { method: 'GET', path: '/api/machines', requires: 'a valid client-credentials (M2M) token' },
  ],
});

const { issuer } = tenant;
if (!selfTest) {
  printTryIt(url, tenant, [
    { path: '/api/messages', note: 'no token: 401' },
    { path: '/api/messages', note: 'scope read:messages: 200', token: () => issuer.mintUser({ scope: 'openid read:messages' }) },
    { path: '/api/machines', note: 'M2M token: 200', token: () => issuer.mintM2M({ scope: 'read:reports' }) },
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
          { who: 'reader', path: '/api/machines', token: issuer.mintUser({ sub: 'auth0|reader' }), expect: 403 },
          { who: 'M2M client', path: '/api/machines', token: issuer.mintM2M({ clientId: 'reporting', scope: 'read:reports' }), expect: 200 },
        ]
      : []),
  ],
});
