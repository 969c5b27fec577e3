// Express middleware over real HTTP: the shared RFC 6750 suite plus Express-only behaviour,
// on Express 5 and on Express 4 (still the most deployed; installed under the alias express-v4).
// The two differ where the adapter looks: req.query is a getter that re-parses in 5, async
// handlers' rejections reach the error handler only in 5, and the query parser defaults differ.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import express5 from 'express';
import express4 from 'express-v4';
import * as adapter from '../dist/express.js';
import { Auth0Verifier } from '../dist/index.js';
import { startLocalIssuer } from '../dist/testing/index.js';
import { bearerConformance } from './helpers/bearer-conformance.mjs';

/** An Express app on 127.0.0.1:0 whose routes answer `{ auth: req.auth ?? null }`. */
function servingWith(express) {
  return (routes, configure) => serveApp(express, routes, configure);
}

async function serveApp(express, routes, configure = () => {}) {
  const errors = [];
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  configure(app);
  for (const { method, path, middleware } of routes) {
    app[method](path, ...middleware, (req, res) => res.json({ auth: req.auth ?? null }));
  }
  // The app's own error handler: where next(err) from the middleware must land.
  app.use((err, req, res, _next) => {
    errors.push(err);
    res.status(500).json({ error: 'app_error' });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    errors,
    async close() {
      server.closeAllConnections(); // fetch keeps connections alive; close() alone would wait for them
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

for (const [major, express] of [['5', express5], ['4', express4]]) {
  const serve = servingWith(express);
  bearerConformance(`express ${major}`, adapter, serve);
  specifics(`express ${major}: specifics`, express, serve);
}

/** Behaviour only Express has: onError, error-handler routing, body parsing, guards' input. */
function specifics(name, express, serve) {
  describe(name, () => {
    let issuer, verifier;
    before(async () => {
      issuer = await startLocalIssuer();
      verifier = new Auth0Verifier(issuer.verifierOptions());
    });
    after(() => issuer?.close());

    test('onError may send its own response', async () => {
      const app = await serve([{
        method: 'get', path: '/x',
        middleware: [adapter.auth({ verifier, onError: (err, req, res) => { res.status(418).type('text').send(`no: ${err.code}`); } })],
      }]);
      try {
        const res = await fetch(`${app.url}/x`);
        assert.equal(res.status, 418);
        assert.equal(await res.text(), 'no: ERR_TOKEN_MISSING');
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="api"', 'the challenge is set before the hook runs');
      } finally {
        await app.close();
      }
    });

    test('async onError hooks are awaited', async () => {
      const app = await serve([{
        method: 'get', path: '/x',
        middleware: [adapter.auth({ verifier, onError: async (err) => { await new Promise((r) => setTimeout(r, 5)); return { late: err.status }; } })],
      }]);
      try {
        const res = await fetch(`${app.url}/x`);
        assert.equal(res.status, 401);
        assert.deepEqual(await res.json(), { late: 401 });
      } finally {
        await app.close();
      }
    });

    test('onError receives an AuthHttpError with the core error as cause', async () => {
      let seen;
      const app = await serve([{ method: 'get', path: '/x', middleware: [adapter.auth({ verifier, onError: (err) => { seen = err; } })] }]);
      try {
        const res = await fetch(`${app.url}/x`, { headers: { authorization: `Bearer ${issuer.mintExpired()}` } });
        assert.equal(res.status, 401);
        assert.ok(seen instanceof adapter.AuthHttpError);
        assert.equal(seen.code, 'ERR_TOKEN_EXPIRED');
        assert.equal(seen.cause.code, 'ERR_TOKEN_EXPIRED');
        assert.equal(seen.cause.claim, 'exp');
      } finally {
        await app.close();
      }
    });

    test("a throwing onError hook with no app error handler: Express's default 500, no challenge", async () => {
      const app = express();
      app.get('/x', adapter.auth({ verifier, onError: () => { throw new Error('hook bug'); } }), (req, res) => res.json({}));
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const { error } = console;
      console.error = () => {}; // Express's default handler logs the stack outside production
      try {
        const res = await fetch(`http://127.0.0.1:${server.address().port}/x`);
        assert.equal(res.status, 500, 'not the 401 the hook was answering');
        assert.equal(res.headers.get('www-authenticate'), null);
      } finally {
        console.error = error;
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });

    test('without a body parser a form token is not read (nothing to read)', async () => {
      const errors = [];
      const app = express();
      app.post('/x', adapter.auth({ verifier }), (req, res) => res.json({ auth: req.auth ?? null }));
      app.use((err, req, res, _next) => { errors.push(err); res.status(500).end(); });
      const server = app.listen(0, '127.0.0.1');
      await once(server, 'listening');
      try {
        const res = await fetch(`http://127.0.0.1:${server.address().port}/x`, { method: 'POST', body: new URLSearchParams({ access_token: issuer.mintUser() }) });
        assert.equal(res.status, 401);
        assert.deepEqual(errors, []);
      } finally {
        server.closeAllConnections();
        await new Promise((r) => server.close(r));
      }
    });

    test('bracketed access_token names never authenticate: Express 4 (qs) makes them objects (400), 5 other names (401)', async () => {
      const app = await serve([{ method: 'get', path: '/x', middleware: [adapter.auth({ verifier })] }]);
      const expected = name.startsWith('express 4') ? 400 : 401;
      try {
        const token = issuer.mintUser();
        for (const query of [`access_token[a]=${token}`, `access_token[]=${token}`, `access_token[0]=${token}`]) {
          const res = await fetch(`${app.url}/x?${query}`);
          assert.equal(res.status, expected, query.slice(0, 16));
          assert.equal((await res.json()).auth, undefined);
        }
        assert.deepEqual(app.errors, []);
      } finally {
        await app.close();
      }
    });

    test("guards do not trust a req.auth of another shape (e.g. another library's)", async () => {
      const app = await serve([], (a) => {
        const foreign = (req, res, next) => { req.auth = { payload: { scope: 'read:a' }, token: 'x' }; next(); };
        a.get('/y', foreign, adapter.requiredScopes('read:a'), (req, res) => res.json({}));
      });
      try {
        const res = await fetch(`${app.url}/y`);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="api"');
      } finally {
        await app.close();
      }
    });
  });
}
