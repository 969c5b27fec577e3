// Hono 4 middleware over real HTTP (@hono/node-server): the shared RFC 6750 suite plus Hono-only behaviour.
// The suite runs on both maintained majors of @hono/node-server: the adapter reads Node's own
// request (`c.env.incoming`) for the repeated-header check and the form body's length, so a
// change there between majors would show here.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import { connect } from 'node:net';
import { Hono } from 'hono';
import { serve as serveNodeV2 } from '@hono/node-server';
import { serve as serveNodeV1 } from '@hono/node-server-v1';
import * as adapter from '../dist/hono.js';
import { Auth0Verifier } from '../dist/index.js';
import { startLocalIssuer } from '../dist/testing/index.js';
import { bearerConformance } from './helpers/bearer-conformance.mjs';

/** A Hono app on 127.0.0.1:0 whose routes answer `{ auth: c.get('auth') ?? null }`. */
function servingWith(serveNode) {
  return (routes, configure) => serveApp(serveNode, routes, configure);
}

async function serveApp(serveNode, routes, configure = () => {}) {
  const errors = [];
  const app = new Hono();
  configure(app);
  for (const { method, path, middleware } of routes) {
    app.on(method.toUpperCase(), path, ...middleware, (c) => c.json({ auth: c.get('auth') ?? null }));
  }
  // The app's own error handler: where a thrown non-auth error must land.
  app.onError((err, c) => {
    errors.push(err);
    return c.json({ error: 'app_error' }, 500);
  });
  const server = serveNode({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
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

for (const [major, serveNode] of [['2.x', serveNodeV2], ['1.x', serveNodeV1]]) {
  const serve = servingWith(serveNode);
  bearerConformance(`hono on @hono/node-server ${major}`, adapter, serve);
  specifics(`hono on @hono/node-server ${major}: specifics`, serve);
  overHttp2(`hono on @hono/node-server ${major} over HTTP/2 (h2c)`, serveNode);
}

/**
 * node-server's `createServer: http2.createServer`: c.env.incoming is then an
 * Http2ServerRequest, whose headers and rawHeaders the adapter reads as it does HTTP/1's.
 */
function overHttp2(name, serveNode) {
  test(name, async () => {
    const issuer = await startLocalIssuer();
    const app = new Hono();
    app.use('/x', adapter.auth({ verifier: new Auth0Verifier(issuer.verifierOptions()) }));
    app.all('/x', (c) => c.json({ sub: c.get('auth').sub }));
    const server = serveNode({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer: http2.createServer });
    await once(server, 'listening');
    const client = http2.connect(`http://127.0.0.1:${server.address().port}`);
    const request = (headers, body) =>
      new Promise((resolve, reject) => {
        const stream = client.request({ ':path': '/x', ...headers });
        let text = '';
        let response;
        stream.on('response', (h) => (response = h));
        stream.on('data', (d) => (text += d));
        stream.on('end', () => resolve({ status: response[':status'], challenge: response['www-authenticate'], body: text }));
        stream.on('error', reject);
        stream.end(body);
      });
    try {
      const token = issuer.mintUser();
      for (const round of ['verified', 'cached']) {
        const ok = await request({ authorization: `Bearer ${token}` });
        assert.deepEqual([ok.status, JSON.parse(ok.body)], [200, { sub: 'auth0|test-user' }], round);
      }
      const missing = await request({});
      assert.deepEqual([missing.status, missing.challenge], [401, 'Bearer realm="api"']);
      const expired = await request({ authorization: `Bearer ${issuer.mintExpired()}` });
      assert.equal(expired.status, 401);
      assert.match(expired.challenge, /error="invalid_token"/);
      assert.equal((await request({ authorization: `Basic abc, Bearer ${token}` })).status, 400);
      const form = `access_token=${token}`;
      const posted = await request({ ':method': 'POST', 'content-type': 'application/x-www-form-urlencoded', 'content-length': String(form.length) }, form);
      assert.equal(posted.status, 200);
    } finally {
      client.close();
      server.close();
      await issuer.close();
    }
  });
}

test('outside @hono/node-server (no c.env.incoming) headers come from c.req: app.request()', async () => {
  const issuer = await startLocalIssuer();
  try {
    const verifier = new Auth0Verifier(issuer.verifierOptions());
    const app = new Hono();
    app.use('/x', adapter.auth({ verifier }));
    app.get('/x', (c) => c.json({ sub: c.get('auth').sub }));
    const ok = await app.request('/x', { headers: { Authorization: `Bearer ${issuer.mintUser()}` } });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { sub: 'auth0|test-user' });
    const missing = await app.request('/x');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="api"');
    const malformed = await app.request('/x', { headers: { Authorization: 'Bearer  abc' } });
    assert.equal(malformed.status, 400);
    const otherScheme = await app.request('/x', { headers: { Authorization: 'Basic abc' } });
    assert.equal(otherScheme.status, 401);
    assert.equal(otherScheme.headers.get('www-authenticate'), 'Bearer realm="api"');
    const twoWays = await app.request(`/x?access_token=${issuer.mintUser()}`, { headers: { Authorization: `Bearer ${issuer.mintUser()}` } });
    assert.equal(twoWays.status, 400);
  } finally {
    await issuer.close();
  }
});

/** Behaviour only Hono on Node has: onError, the form body, guards' input. */
function specifics(name, serve) {
  describe(name, () => {
    let issuer, verifier;
    before(async () => {
      issuer = await startLocalIssuer();
      verifier = new Auth0Verifier(issuer.verifierOptions());
    });
    after(() => issuer?.close());

    test('onError may return its own Response', async () => {
      const app = await serve([{
        method: 'get', path: '/x',
        middleware: [adapter.auth({ verifier, onError: (err) => new Response(`no: ${err.code}`, { status: 418 }) })],
      }]);
      try {
        const res = await fetch(`${app.url}/x`);
        assert.equal(res.status, 418);
        assert.equal(await res.text(), 'no: ERR_TOKEN_MISSING');
      } finally {
        await app.close();
      }
    });

    test('onError receives an AuthHttpError with the core error as cause', async () => {
      let seen;
      const app = await serve([{ method: 'get', path: '/x', middleware: [adapter.auth({ verifier, onError: async (err) => { seen = err; } })] }]);
      try {
        const res = await fetch(`${app.url}/x`, { headers: { authorization: `Bearer ${issuer.mintExpired()}` } });
        assert.equal(res.status, 401);
        assert.ok(seen instanceof adapter.AuthHttpError);
        assert.equal(seen.code, 'ERR_TOKEN_EXPIRED');
        assert.equal(seen.cause.code, 'ERR_TOKEN_EXPIRED');
      } finally {
        await app.close();
      }
    });

    test('the form body stays readable after auth() read the token from it', async () => {
      const app = await serve([], (a) => {
        a.post('/form', adapter.auth({ verifier }), async (c) => {
          const form = await c.req.parseBody();
          return c.json({ note: form.note, sub: c.get('auth').sub });
        });
      });
      try {
        const res = await fetch(`${app.url}/form`, { method: 'POST', body: new URLSearchParams({ access_token: issuer.mintUser(), note: 'hi' }) });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { note: 'hi', sub: 'auth0|test-user' });
      } finally {
        await app.close();
      }
    });

    test('a large or unannounced form body is never read before authentication', async () => {
      // Sends the head and 1 KiB of a body that never ends, then waits for the answer: a
      // middleware that read the body first would never answer (or buffer all it is sent).
      const statusOf = async (url, headers) => {
        const { port } = new URL(url);
        const socket = connect(Number(port), '127.0.0.1');
        await once(socket, 'connect');
        const head = ['POST /upload HTTP/1.1', 'host: 127.0.0.1', 'content-type: application/x-www-form-urlencoded', ...headers];
        socket.write(`${head.join('\r\n')}\r\n\r\n`);
        socket.write(headers.some((h) => /chunked/.test(h)) ? `400\r\n${'a'.repeat(1024)}\r\n` : 'a'.repeat(1024));
        const timer = setTimeout(() => socket.destroy(new Error('no answer within 3 s')), 3000);
        try {
          const [chunk] = await once(socket, 'data');
          return Number(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString())?.[1]);
        } finally {
          clearTimeout(timer);
          socket.destroy();
        }
      };
      const app = await serve([], (a) => {
        a.post('/upload', adapter.auth({ verifier }), (c) => c.json({ sub: c.get('auth').sub }));
      });
      try {
        const token = issuer.mintUser();
        assert.equal(await statusOf(app.url, ['content-length: 100000000']), 401);
        assert.equal(await statusOf(app.url, ['transfer-encoding: chunked']), 401);
        assert.equal(await statusOf(app.url, [`content-length: ${64 * 1024 + 1}`]), 401);
        // With a header token, such a body is the handler's business: 200, no "two methods" 400.
        assert.equal(await statusOf(app.url, ['content-length: 100000000', `authorization: Bearer ${token}`]), 200);
        assert.equal(await statusOf(app.url, ['transfer-encoding: chunked', `authorization: Bearer ${token}`]), 200);
      } finally {
        await app.close();
      }
    });

    test('guards ignore an auth variable of another shape', async () => {
      const app = await serve([], (a) => {
        a.get('/y', async (c, next) => { c.set('auth', { sub: 'x', scopes: ['read:a'] }); await next(); }, adapter.requiredScopes('read:a'), (c) => c.json({}));
      });
      try {
        assert.equal((await fetch(`${app.url}/y`)).status, 401);
      } finally {
        await app.close();
      }
    });
  });
}
