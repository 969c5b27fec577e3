// A Mastra server protected by @example/auth0-native, run without the Mastra CLI
// (npm i @example/auth0-native @mastra/core @mastra/hono hono @hono/node-server).
//
//   AUTH0_DOMAIN=your-tenant.us.auth0.com AUTH0_AUDIENCE=https://api.example.com node examples/mastra-server.mjs
//   node examples/mastra-server.mjs               # no tenant: a local issuer signs test tokens
//   node examples/mastra-server.mjs --self-test   # or EXAMPLE_SELF_TEST=1: a few requests, then exit 0/1
//
// PORT (default 4111, Mastra's) and HOST (default 127.0.0.1) pick where it listens.
//
// MastraAuthAuth0Native is a drop-in for @mastra/auth-auth0's MastraAuthAuth0: with no options it
// reads AUTH0_DOMAIN and AUTH0_AUDIENCE the same way.
import { once } from 'node:events';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { Mastra } from '@mastra/core/mastra';
import { registerApiRoute } from '@mastra/core/server';
import { MastraServer } from '@mastra/hono';
import { MastraAuthAuth0Native } from '@example/auth0-native/mastra';
import { closeServer, connectTenant, listenAddress, printBanner, printTryIt, runOrSelfTest, selfTest, serverUrl } from './shared.mjs';

const tenant = await connectTenant();
const auth = new MastraAuthAuth0Native({
  ...tenant.verifierOptions,
  // Memory threads and resources belong to the token's subject.
  mapUserToResourceId: (user) => user.sub,
});

// A custom route: Mastra authenticates it like its own /api routes and puts the verified claims
// in the request context as `user`.
const me = registerApiRoute('/me', {
  method: 'GET',
  handler: (c) => {
    const user = c.get('requestContext').get('user');
    return c.json({ sub: user.sub, scope: user.scope ?? null, permissions: user.permissions ?? [] });
  },
});

const mastra = new Mastra({ server: { auth, apiRoutes: [me] } });
const app = new Hono();
await new MastraServer({ app, mastra }).init();

const { host, port } = listenAddress(4111);
const server = serve({ fetch: app.fetch, hostname: host, port });
await once(server, 'listening');
const url = serverUrl(host, server.address().port);

printBanner('Mastra server protected by @example/auth0-native', {
  url,
  verifier: auth.verifier,
  routes: [
    { method: 'GET', path: '/api/agents', requires: "a valid token (Mastra's built-in routes)" },
    { method: 'GET', path: '/me', requires: 'a valid token; answers with who you are' },
  ],
});

const { issuer } = tenant;
if (!selfTest) {
  printTryIt(url, tenant, [
    { path: '/me', note: 'no token: 401' },
    { path: '/me', note: 'a user token: 200', token: () => issuer.mintUser({ scope: 'openid read:messages' }) },
  ]);
}

await runOrSelfTest({
  url,
  close: async () => {
    await closeServer(server);
    await tenant.close();
  },
  checks: () => [
    { who: 'anonymous', path: '/api/agents', expect: 401 },
    { who: 'anonymous', path: '/me', expect: 401 },
    { who: 'garbage token', path: '/me', token: 'not-a-jwt', expect: 401 },
    // Minting needs the local issuer; against a real tenant the checks above are what can run.
    ...(issuer
      ? [
          { who: 'expired token', path: '/me', token: issuer.mintExpired({ sub: 'auth0|alice' }), expect: 401 },
          { who: 'alice', path: '/api/agents', token: issuer.mintUser({ sub: 'auth0|alice' }), expect: 200 },
          { who: 'alice', path: '/me', token: issuer.mintUser({ sub: 'auth0|alice', scope: 'openid read:messages' }), expect: 200 },
          { who: 'M2M client', path: '/me', token: issuer.mintM2M({ clientId: 'reporting', scope: 'read:reports' }), expect: 200 },
        ]
      : []),
  ],
});
