// One HTTP server under test, in its own process: `node bench/server.mjs <kind>`, forked by
// run.mjs (issuer settings in BENCH_ISSUER / BENCH_JWKS_URI / BENCH_AUDIENCE). Tells the
// parent its port over IPC, then answers 'mark' (main-thread CPU and verifier stats, to
// measure a window) and 'exit'.
import { envNumber, mainThreadCpuNs, require } from './lib/common.mjs';

const kind = process.argv[2];
const issuer = process.env.BENCH_ISSUER;
const jwksUri = process.env.BENCH_JWKS_URI;
const audience = process.env.BENCH_AUDIENCE;
const core = { issuer, jwksUri, audience };
const cacheSize = envNumber('BENCH_SERVER_TOKEN_CACHE', 10000);
let verifier; // ours, for stats()

const PROTECTED = kind.startsWith('mastra') ? '/api/agents' : '/protected';

/** What the competitors' minimal Hono middleware looks like: jose + one cached remote JWKS. */
async function honoJoseMiddleware() {
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  const jwks = createRemoteJWKSet(new URL(jwksUri));
  const options = { issuer, audience, algorithms: ['RS256'] };
  return async (c, next) => {
    const header = c.req.header('Authorization');
    if (!header?.startsWith('Bearer ')) return c.json({ error: 'invalid_request' }, 401);
    try {
      c.set('auth', (await jwtVerify(header.slice(7), jwks, options)).payload);
    } catch {
      return c.json({ error: 'invalid_token' }, 401);
    }
    await next();
  };
}

async function hono(mode) {
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  const app = new Hono();
  if (mode === 'ours' || mode === 'ours-nocache') {
    const { Auth0Verifier } = require('./dist/index.js');
    const { auth } = require('./dist/hono.js');
    verifier = new Auth0Verifier({ ...core, tokenCacheSize: mode === 'ours' ? cacheSize : 0 });
    app.use(PROTECTED, auth({ verifier }));
  } else if (mode === 'jose') {
    app.use(PROTECTED, await honoJoseMiddleware());
  } else if (mode === 'floor') {
    // Control: the cheapest middleware there is. Any middleware moves Hono off its
    // single-handler fast path onto compose(), whatever it does.
    app.use(PROTECTED, (c, next) => next());
  } else if (mode === 'noop') {
    // Control: what any auth middleware pays before verifying anything (read the header, await once).
    app.use(PROTECTED, async (c, next) => {
      if (!c.req.header('Authorization')) return c.json({ error: 'invalid_request' }, 401);
      await Promise.resolve();
      await next();
    });
  }
  // The same work and body size (a byte apart) on every server, with or without auth: serializing
  // the token's `sub` (about 1,100 instructions per request, counted with callgrind) would be
  // charged to the middleware, though only the handler does it.
  app.get(PROTECTED, (c) => c.json({ authenticated: c.get('auth') !== undefined }));
  return listenHono(serve, app);
}

function listenHono(serve, app) {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
    server.keepAliveTimeout = 60_000;
  });
}

async function express(mode) {
  const express = require('express');
  const app = express();
  // As for Hono: the same body on every server (express-oauth2-jwt-bearer sets req.auth too).
  const handler = (req, res) => res.json({ authenticated: req.auth !== undefined });
  if (mode === 'ours') {
    const { Auth0Verifier } = require('./dist/index.js');
    const { auth } = require('./dist/express.js');
    verifier = new Auth0Verifier({ ...core, tokenCacheSize: cacheSize });
    app.get(PROTECTED, auth({ verifier }), handler);
  } else if (mode === 'bearer') {
    const { auth } = require('express-oauth2-jwt-bearer');
    app.get(PROTECTED, auth({ issuer, jwksUri, audience, tokenSigningAlg: 'RS256' }), handler);
  } else if (mode === 'floor') {
    // Control: the cheapest middleware there is: one more layer in the route's stack.
    app.get(PROTECTED, (req, res, next) => next(), handler);
  } else if (mode === 'noop') {
    // Control: read the header and continue after one await, verifying nothing.
    const noop = (req, res, next) => {
      if (!req.headers.authorization) return res.status(401).end();
      Promise.resolve().then(() => next());
    };
    app.get(PROTECTED, noop, handler);
  } else {
    app.get(PROTECTED, handler);
  }
  // Answer auth errors quietly (Express's default handler logs every 401 outside production).
  app.use((err, req, res, next) => res.status(err.status ?? 500).json({ error: err.code ?? 'error' }));
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server.address().port));
    server.keepAliveTimeout = 60_000;
  });
}

/** What @mastra/auth-auth0 does: a new createRemoteJWKSet (so a JWKS fetch) in every call. */
async function perCallJwksProvider() {
  const { MastraAuthProvider } = await import('@mastra/core/server');
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  class MastraAuthAuth0PerCallJwks extends MastraAuthProvider {
    constructor() {
      super({ name: 'auth0' });
      this.registerOptions({});
    }
    async authenticateToken(token) {
      if (!token || typeof token !== 'string') return null;
      try {
        const JWKS = createRemoteJWKSet(new URL(jwksUri));
        const { payload } = await jwtVerify(token, JWKS, { issuer, audience });
        return payload;
      } catch {
        return null;
      }
    }
    async authorizeUser(user) {
      if (!user?.sub) return false;
      if (user.exp && user.exp * 1000 < Date.now()) return false;
      return true;
    }
    mapUserToResourceId(user) {
      return user.sub;
    }
  }
  return new MastraAuthAuth0PerCallJwks();
}

/** Control: a provider that verifies nothing, so what is left is Mastra's own auth path. */
async function acceptAnyProvider() {
  const { MastraAuthProvider } = await import('@mastra/core/server');
  const user = { sub: 'auth0|anyone' };
  class AcceptAny extends MastraAuthProvider {
    constructor() {
      super({ name: 'accept-any' });
      this.registerOptions({});
    }
    async authenticateToken(token) {
      return token ? user : null;
    }
    async authorizeUser() {
      return true;
    }
  }
  return new AcceptAny();
}

async function mastra(mode) {
  const { Mastra } = await import('@mastra/core/mastra');
  const { MastraServer } = await import('@mastra/hono');
  const { Hono } = await import('hono');
  const { serve } = await import('@hono/node-server');
  let auth;
  if (mode === 'ours') {
    const { MastraAuthAuth0Native } = require('./dist/index.js');
    auth = new MastraAuthAuth0Native({ ...core, tokenCacheSize: cacheSize, mapUserToResourceId: (u) => u.sub });
    verifier = auth.verifier;
  } else if (mode === 'percall') {
    auth = await perCallJwksProvider();
  } else if (mode === 'floor') {
    auth = await acceptAnyProvider();
  }
  const instance = new Mastra({ logger: false, server: auth ? { auth } : {} });
  const app = new Hono();
  await new MastraServer({ app, mastra: instance }).init();
  return listenHono(serve, app);
}

// `none` and `twin` (a second no-auth server, for the A/A control) fall through every branch
// above: no auth at all. Anything else not listed is a typo, not a no-auth server.
const MODES = {
  hono: ['none', 'twin', 'ours', 'ours-nocache', 'jose', 'floor', 'noop'],
  express: ['none', 'twin', 'ours', 'bearer', 'floor', 'noop'],
  mastra: ['none', 'ours', 'percall', 'floor'],
};
const [framework, ...rest] = kind.split('-');
const mode = rest.join('-');
const start = { hono, express, mastra }[framework];
if (!start || !MODES[framework].includes(mode)) throw new Error(`unknown server kind ${kind}`);
const port = await start(mode);

// The runner may die without sending 'exit' (a crash, Ctrl-C): never outlive it.
process.on('disconnect', () => process.exit(0));

process.on('message', (message) => {
  if (message === 'mark') {
    const cpu = process.cpuUsage();
    process.send({ mark: { mainCpuNs: mainThreadCpuNs(), processCpuNs: (cpu.user + cpu.system) * 1000, stats: verifier?.stats() ?? null } });
  } else if (message === 'exit') {
    process.exit(0);
  }
});
process.send({ port, path: PROTECTED });
