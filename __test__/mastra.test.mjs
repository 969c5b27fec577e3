// MastraAuthAuth0Native against a real Mastra HTTP server (@mastra/core Mastra + @mastra/hono
// MastraServer + @hono/node-server), as REFERENCE §1 describes, plus construction rules.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { Mastra } from '@mastra/core/mastra';
import { CompositeAuth, registerApiRoute, SimpleAuth } from '@mastra/core/server';
import { ConsoleLogger } from '@mastra/core/logger';
import { MastraServer } from '@mastra/hono';
import { Auth0Verifier, MastraAuthAuth0Native } from '../dist/index.js';
import { MastraAuthAuth0Native as FromSubpath } from '../dist/mastra.js';
import { startLocalIssuer } from '../dist/testing/index.js';

const MASTRA_MISSING_CONFIG =
  'Auth0 domain and audience are required, please provide them in the options or set the environment variables AUTH0_DOMAIN and AUTH0_AUDIENCE';
const root = fileURLToPath(new URL('..', import.meta.url));

/** A logger that records instead of printing, so tests can see what Mastra logs. */
class RecordingLogger extends ConsoleLogger {
  records = [];
  error(message, ...args) { this.records.push({ level: 'error', message, args }); }
  warn(message, ...args) { this.records.push({ level: 'warn', message, args }); }
  info() {}
  debug() {}
}

/** A Mastra server on 127.0.0.1:0 with `provider` as server.auth and a /whoami custom route. */
async function startMastra(provider) {
  const logger = new RecordingLogger({ level: 'debug' });
  const whoami = registerApiRoute('/whoami', {
    method: 'GET',
    // Mastra puts the authenticated user in the request context, as `user` (and `mastra__user`).
    handler: (c) => {
      const ctx = c.get('requestContext');
      return c.json({ user: ctx.get('user'), resourceId: ctx.get('mastra__resourceId') ?? null });
    },
  });
  const mastra = new Mastra({ server: { auth: provider, apiRoutes: [whoami] }, logger });
  const app = new Hono();
  await new MastraServer({ app, mastra }).init();
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    logger,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });

describe('MastraAuthAuth0Native on a real Mastra server', () => {
  let issuer, verifier, open, strict;

  before(async () => {
    issuer = await startLocalIssuer();
    // One verifier behind both servers: one JWKS cache, so one JWKS fetch for the whole suite.
    verifier = new Auth0Verifier(issuer.verifierOptions());
    open = await startMastra(new MastraAuthAuth0Native({ verifier, mapUserToResourceId: (user) => user.sub }));
    strict = await startMastra(new MastraAuthAuth0Native({
      verifier,
      name: 'auth0-strict',
      // Bound to the provider, as Mastra's registerOptions does.
      authorizeUser(user) { return this.name === 'auth0-strict' && user.sub !== 'auth0|banned'; },
    }));
  });

  after(async () => {
    await open?.close();
    await strict?.close();
    await issuer?.close();
  });

  test('no token: 401', async () => {
    const res = await fetch(`${open.url}/api/agents`);
    assert.equal(res.status, 401);
    assert.deepEqual(await res.json(), { error: 'Invalid or expired token' });
  });

  for (const [title, mint] of [
    ['garbage', () => 'not-a-jwt'],
    ['expired', (i) => i.mintExpired()],
    ['bad signature', (i) => i.mint({}, { rawSignature: 'AAAA' })],
    ['wrong audience', (i) => i.mint({ aud: 'https://other.example' })],
  ]) {
    test(`${title} token: 401, and nothing logged`, async () => {
      const logged = open.logger.records.length;
      const res = await fetch(`${open.url}/api/agents`, bearer(mint(issuer)));
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'Invalid or expired token' });
      assert.deepEqual(open.logger.records.slice(logged).filter((r) => r.level === 'error'), []);
    });
  }

  test('good token: 200 on GET /api/agents, whatever the scheme case', async () => {
    assert.equal((await fetch(`${open.url}/api/agents`, bearer(issuer.mintUser()))).status, 200);
    // Mastra's adapter strips only a literal "Bearer "; the provider finishes the job.
    const lower = await fetch(`${open.url}/api/agents`, { headers: { authorization: `bearer ${issuer.mintUser()}` } });
    assert.equal(lower.status, 200);
  });

  test('default authorizeUser: a token with a sub passes', async () => {
    assert.equal((await fetch(`${open.url}/api/agents`, bearer(issuer.mintM2M()))).status, 200);
  });

  test('a token just past exp: 200 within clockTolerance, 401 beyond it, never 403', async () => {
    const now = Math.floor(Date.now() / 1000);
    // Verified with the default 5 s tolerance, so the default authorizeUser must agree.
    const recent = await fetch(`${open.url}/api/agents`, bearer(issuer.mint({ exp: now - 2 })));
    assert.equal(recent.status, 200);
    // Its own issuer: this suite counts the shared one's JWKS fetches.
    const other = await startLocalIssuer();
    const strictClock = await startMastra(new MastraAuthAuth0Native({ ...other.verifierOptions(), clockTolerance: 0 }));
    try {
      const res = await fetch(`${strictClock.url}/api/agents`, bearer(other.mint({ exp: now - 2 })));
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'Invalid or expired token' });
    } finally {
      await strictClock.close();
      await other.close();
    }
  });

  test('authorizeUser option returning false: 403', async () => {
    const banned = await fetch(`${strict.url}/api/agents`, bearer(issuer.mintUser({ sub: 'auth0|banned' })));
    assert.equal(banned.status, 403);
    assert.deepEqual(await banned.json(), { error: 'Access denied' });
    assert.equal((await fetch(`${strict.url}/api/agents`, bearer(issuer.mintUser()))).status, 200);
  });

  test('custom route sees the verified claims as the user, and the mapped resource id', async () => {
    const token = issuer.mintUser({ scope: 'openid read:a', claims: { 'https://example.com/roles': ['admin'] } });
    const res = await fetch(`${open.url}/whoami`, bearer(token));
    assert.equal(res.status, 200);
    const { user, resourceId } = await res.json();
    assert.equal(user.sub, 'auth0|test-user');
    assert.equal(user.iss, issuer.issuer);
    assert.equal(user.scope, 'openid read:a');
    assert.deepEqual(user['https://example.com/roles'], ['admin']);
    assert.equal(resourceId, 'auth0|test-user');
    assert.equal((await fetch(`${open.url}/whoami`)).status, 401, 'custom routes are protected too');
  });

  test('the query ?apiKey= token Mastra also accepts works', async () => {
    assert.equal((await fetch(`${open.url}/api/agents?apiKey=${issuer.mintUser()}`)).status, 200);
  });

  // Last in this suite: it counts every JWKS fetch made by everything above.
  test('exactly one JWKS fetch across many requests and tokens', async () => {
    const tokens = Array.from({ length: 40 }, (_, i) => issuer.mintUser({ sub: `auth0|user-${i}` }));
    const statuses = await Promise.all(tokens.map((t, i) => fetch(`${(i % 2 ? open : strict).url}/api/agents`, bearer(t)).then((r) => r.status)));
    assert.deepEqual(new Set(statuses), new Set([200]));
    assert.equal(issuer.jwksRequests, 1);
  });
});

describe('MastraAuthAuth0Native: JWKS outage', () => {
  test('authenticateToken throws (not null) so Mastra logs it; the client gets 401', async () => {
    const down = await startLocalIssuer();
    down.setFault({ kind: 'down' });
    const provider = new MastraAuthAuth0Native({ ...down.verifierOptions(), jwksTimeout: 1000 });
    const server = await startMastra(provider);
    try {
      await assert.rejects(provider.authenticateToken(down.mintUser()), { code: 'ERR_JWKS_UNAVAILABLE' });
      const token = down.mintUser({ sub: 'auth0|outage' });
      const res = await fetch(`${server.url}/api/agents`, bearer(token));
      assert.equal(res.status, 401);
      const errors = server.logger.records.filter((r) => r.level === 'error');
      assert.equal(errors.length, 1);
      assert.equal(errors[0].message, 'Authentication error');
      assert.ok(!JSON.stringify(errors).includes(token), 'the token is never logged');
    } finally {
      await server.close();
      await down.close();
    }
  });
});

// Mastra's CompositeAuth asks each provider in turn to authenticate, and authorizes a user if
// ANY provider's authorizeUser says yes, so ours also meets users it did not authenticate.
describe("MastraAuthAuth0Native inside Mastra's CompositeAuth, beside SimpleAuth", () => {
  let issuer, server, ours;
  const devUser = { id: 'dev', name: 'Local developer' };
  before(async () => {
    issuer = await startLocalIssuer();
    ours = new MastraAuthAuth0Native({
      ...issuer.verifierOptions(),
      authorizeUser: (user) => user.sub !== 'auth0|banned',
      mapUserToResourceId: (user) => user.sub,
    });
    server = await startMastra(new CompositeAuth([ours, new SimpleAuth({ tokens: { 'dev-token': devUser } })]));
  });
  after(async () => {
    await server?.close();
    await issuer?.close();
  });

  test('an Auth0 token authenticates through ours, with our resource id', async () => {
    const res = await fetch(`${server.url}/whoami`, bearer(issuer.mintUser()));
    assert.equal(res.status, 200);
    const { user, resourceId } = await res.json();
    assert.equal(user.sub, 'auth0|test-user');
    assert.equal(resourceId, 'auth0|test-user');
  });

  test("SimpleAuth's token still works: ours answers null for it, never an error", async () => {
    // CompositeAuth drops what a provider throws, so ask ours directly as well.
    assert.equal(await ours.authenticateToken('dev-token'), null);
    const res = await fetch(`${server.url}/whoami`, bearer('dev-token'));
    assert.equal(res.status, 200);
    assert.deepEqual((await res.json()).user, devUser);
    assert.deepEqual(server.logger.records.filter((r) => r.level === 'error'), []);
  });

  test('a user our authorizeUser refuses stays refused (403): SimpleAuth does not know it', async () => {
    const res = await fetch(`${server.url}/api/agents`, bearer(issuer.mintUser({ sub: 'auth0|banned' })));
    assert.equal(res.status, 403);
  });

  test('bad tokens: 401 from the composite, whichever provider was asked', async () => {
    for (const token of ['not-a-jwt', issuer.mintExpired(), issuer.mint({ aud: 'https://other.example' })]) {
      assert.equal((await fetch(`${server.url}/api/agents`, bearer(token))).status, 401);
    }
    assert.equal((await fetch(`${server.url}/api/agents`)).status, 401);
  });
});

describe('MastraAuthAuth0Native: construction', () => {
  const saved = { domain: process.env.AUTH0_DOMAIN, audience: process.env.AUTH0_AUDIENCE };
  const setEnv = (domain, audience) => {
    for (const [key, value] of [['AUTH0_DOMAIN', domain], ['AUTH0_AUDIENCE', audience]]) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  };
  after(() => setEnv(saved.domain, saved.audience));

  test('reads AUTH0_DOMAIN and AUTH0_AUDIENCE when given no options', () => {
    setEnv('tenant.example.com', 'https://api.example.com');
    const provider = new MastraAuthAuth0Native();
    assert.equal(provider.name, 'auth0');
    assert.equal(provider.verifier.issuer, 'https://tenant.example.com/');
    assert.equal(provider.verifier.jwksUri, 'https://tenant.example.com/.well-known/jwks.json');
    assert.deepEqual(provider.verifier.audiences, ['https://api.example.com']);
  });

  test('options win over the environment', () => {
    setEnv('env.example.com', 'https://env.example.com');
    const provider = new MastraAuthAuth0Native({ domain: 'opt.example.com', audience: 'https://opt.example.com' });
    assert.equal(provider.verifier.issuer, 'https://opt.example.com/');
    assert.deepEqual(provider.verifier.audiences, ['https://opt.example.com']);
  });

  test("missing domain and/or audience: Mastra's own error", () => {
    setEnv(undefined, undefined);
    assert.throws(() => new MastraAuthAuth0Native(), { message: MASTRA_MISSING_CONFIG });
    assert.throws(() => new MastraAuthAuth0Native({ domain: 'tenant.example.com' }), { message: MASTRA_MISSING_CONFIG });
    assert.throws(() => new MastraAuthAuth0Native({ audience: 'https://api.example.com' }), { message: MASTRA_MISSING_CONFIG });
  });

  test('an issuer stands in for the domain; a ready verifier needs neither', () => {
    setEnv(undefined, undefined);
    const viaIssuer = new MastraAuthAuth0Native({ issuer: 'https://login.example.com/', audience: 'https://api.example.com' });
    assert.equal(viaIssuer.verifier.issuer, 'https://login.example.com/');
    const verifier = new Auth0Verifier({ domain: 'tenant.example.com', audience: 'https://api.example.com' });
    assert.equal(new MastraAuthAuth0Native({ verifier }).verifier, verifier);
    assert.throws(() => new MastraAuthAuth0Native({ verifier, audience: 'x' }), TypeError);
  });

  test('core options reach the verifier (bad ones are rejected by it)', () => {
    assert.throws(
      () => new MastraAuthAuth0Native({ domain: 'tenant.example.com', audience: 'a', algorithms: ['HS256'] }),
      { code: 'ERR_INVALID_OPTIONS' },
    );
  });

  test('Mastra options pass through; mapUserToResourceId stays absent unless given', () => {
    const map = (user) => user.sub;
    const provider = new MastraAuthAuth0Native({
      domain: 'tenant.example.com', audience: 'a', name: 'mine', public: ['/health'], protected: [['/custom/*', 'GET']], mapUserToResourceId: map,
    });
    assert.equal(provider.name, 'mine');
    assert.deepEqual(provider.public, ['/health']);
    assert.deepEqual(provider.protected, [['/custom/*', 'GET']]);
    assert.equal(provider.mapUserToResourceId, map);
    // Mastra warns about, and treats differently, a provider without the function.
    assert.equal(typeof new MastraAuthAuth0Native({ domain: 'd.example', audience: 'a' }).mapUserToResourceId, 'undefined');
  });

  test("default authorizeUser is Mastra's: needs a sub, and an unexpired exp", () => {
    const provider = new MastraAuthAuth0Native({ domain: 'tenant.example.com', audience: 'a' });
    const now = Math.floor(Date.now() / 1000);
    assert.equal(provider.authorizeUser({ sub: 'auth0|x', exp: now + 60 }), true);
    assert.equal(provider.authorizeUser({ sub: 'auth0|x' }), true);
    assert.equal(provider.authorizeUser({ exp: now + 60 }), false);
    assert.equal(provider.authorizeUser({ sub: '' }), false);
    assert.equal(provider.authorizeUser({ sub: 'auth0|x', exp: now - 60 }), false);
    // Expiry is judged with the verifier's clockTolerance (default 5 s), as verification was.
    assert.equal(provider.verifier.clockTolerance, 5);
    assert.equal(provider.authorizeUser({ sub: 'auth0|x', exp: now - 2 }), true);
    const strict = new MastraAuthAuth0Native({ domain: 'tenant.example.com', audience: 'a', clockTolerance: 0 });
    assert.equal(strict.authorizeUser({ sub: 'auth0|x', exp: now - 2 }), false);
  });

  test('the subpath exports the same class', () => {
    assert.equal(FromSubpath, MastraAuthAuth0Native);
  });

  test('the package root, /mastra, /express and /hono load without @mastra/*, express or hono', () => {
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (/^(@mastra\\/|express$|hono($|\\/)|@hono\\/)/.test(request)) throw new Error('blocked: ' + request);
        return resolve.call(this, request, ...rest);
      };
      const root = require('./dist/index.js');
      for (const sub of ['mastra', 'express', 'hono']) require('./dist/' + sub + '.js');
      new root.MastraAuthAuth0Native({ domain: 'tenant.example.com', audience: 'a' });
      console.log(Object.keys(root).sort().join(','));
    `;
    const run = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout.trim(), 'Auth0Verifier,MastraAuthAuth0Native,isAuth0VerifyError');
  });
});
