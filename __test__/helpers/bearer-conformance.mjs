// One RFC 6750 conformance suite run against both the Express and the Hono middleware, so the
// two adapters are held to exactly the same statuses, challenges and bodies.
// Not a *.test.mjs file: node --test only runs it through express.test.mjs and hono.test.mjs.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { Auth0Verifier } from '../../dist/index.js';
import { startLocalIssuer } from '../../dist/testing/index.js';

const ROLES = 'https://example.com/roles';
const challenge = (attrs = '') => `Bearer realm="api"${attrs}`;
const invalidRequest = (description) => challenge(`, error="invalid_request", error_description="${description}"`);
const insufficient = (scope) => challenge(`, error="insufficient_scope", error_description="Insufficient Scope", scope="${scope}"`);

/**
 * @param {string} name framework name for the test titles
 * @param {{ auth, requiredScopes, requiredPermissions, claimCheck }} mod the adapter module
 * @param {(routes: {method: string, path: string, middleware: Function[]}[]) => Promise<{url: string, errors: unknown[], close(): Promise<void>}>} serve
 *   starts the framework app; each route ends in a handler answering `{ auth: <identity or null> }`,
 *   and the app's own error handler answers 500 `{ error: 'app_error' }` after pushing to `errors`.
 */
export function bearerConformance(name, mod, serve) {
  const { auth, requiredScopes, requiredPermissions, claimCheck } = mod;

  describe(`${name}: RFC 6750 bearer middleware`, () => {
    let issuer, verifier, app;
    const call = (path, init) => fetch(app.url + path, init);
    const bearer = (token) => ({ headers: { authorization: `Bearer ${token}` } });
    // node:http, not fetch: fetch joins repeated header lines into one, and an array value
    // here is sent as one line per element.
    const callRaw = (path, headers) =>
      new Promise((resolve, reject) => {
        const req = request(app.url + path, { headers }, (res) => {
          const chunks = [];
          res.on('data', (chunk) => chunks.push(chunk));
          res.on('end', () => {
            const responseHeaders = new Headers();
            for (const [name, value] of Object.entries(res.headers)) responseHeaders.set(name, [value].flat().join(', '));
            resolve(new Response(Buffer.concat(chunks), { status: res.statusCode, headers: responseHeaders }));
          });
        });
        req.on('error', reject);
        req.end();
      });

    /** Sends `text` as is over a fresh connection; resolves with everything the server sent back. */
    const rawRequest = (text) =>
      new Promise((resolve, reject) => {
        const socket = connect(Number(new URL(app.url).port), '127.0.0.1', () => socket.end(text));
        let received = '';
        socket.setEncoding('utf8');
        socket.on('data', (chunk) => (received += chunk));
        socket.on('end', () => resolve(received));
        socket.on('error', reject);
      });

    before(async () => {
      issuer = await startLocalIssuer();
      verifier = new Auth0Verifier(issuer.verifierOptions());
      const protect = auth({ verifier });
      const isAdmin = (claims) => Array.isArray(claims[ROLES]) && claims[ROLES].includes('admin');
      app = await serve([
        { method: 'get', path: '/protected', middleware: [protect] },
        { method: 'post', path: '/protected', middleware: [protect] },
        { method: 'get', path: '/optional', middleware: [auth({ verifier, optional: true })] },
        { method: 'get', path: '/scopes-all', middleware: [protect, requiredScopes('read:a', 'write:b')] },
        { method: 'get', path: '/scopes-any', middleware: [protect, requiredScopes('read:a', 'write:b', { match: 'any' })] },
        { method: 'get', path: '/scopes-string', middleware: [protect, requiredScopes('read:a write:b')] },
        { method: 'get', path: '/scopes-array', middleware: [protect, requiredScopes(['read:a', 'write:b'])] },
        { method: 'get', path: '/scopes-mixed', middleware: [protect, requiredScopes('read:a', ['write:b', 'admin'])] },
        { method: 'get', path: '/scopes-array-any', middleware: [protect, requiredScopes(['read:a', 'write:b'], { match: 'any' })] },
        { method: 'get', path: '/permissions', middleware: [protect, requiredPermissions('read:reports', 'export:reports')] },
        { method: 'get', path: '/permissions-any', middleware: [protect, requiredPermissions('read:reports', 'export:reports', { match: 'any' })] },
        { method: 'get', path: '/claim-sync', middleware: [protect, claimCheck(isAdmin, 'Admin role required')] },
        { method: 'get', path: '/claim-async', middleware: [protect, claimCheck(async (claims) => { await new Promise((r) => setTimeout(r, 5)); return isAdmin(claims); })] },
        { method: 'get', path: '/claim-truthy', middleware: [protect, claimCheck(() => 'yes')] },
        { method: 'get', path: '/claim-throws', middleware: [protect, claimCheck(() => { throw new Error('predicate bug'); })] },
        { method: 'get', path: '/claim-rejects', middleware: [protect, claimCheck(async () => { throw new Error('async predicate bug'); })] },
        // Values Express's next() would read as "no error" or "skip this route".
        { method: 'get', path: '/claim-throws-undefined', middleware: [protect, claimCheck(() => { throw undefined; })] },
        { method: 'get', path: '/claim-throws-null', middleware: [protect, claimCheck(async () => { throw null; })] },
        { method: 'get', path: '/claim-throws-route', middleware: [protect, claimCheck(() => { throw 'route'; })] },
        { method: 'get', path: '/claim-quotes', middleware: [protect, claimCheck(() => false, 'Needs "admin" \\ role – now')] },
        { method: 'get', path: '/guard-without-auth', middleware: [requiredScopes('read:a')] },
        { method: 'get', path: '/optional-guarded', middleware: [auth({ verifier, optional: true }), requiredScopes('read:a')] },
        { method: 'get', path: '/realm', middleware: [auth({ ...issuer.verifierOptions(), realm: 'my realm' }), requiredScopes('read:a')] },
        { method: 'get', path: '/realm-overridden', middleware: [auth({ ...issuer.verifierOptions(), realm: 'outer' }), protect, requiredScopes('read:a')] },
        { method: 'get', path: '/custom-body', middleware: [auth({ verifier, onError: (err) => ({ message: `custom ${err.code}`, status: err.status }) }), requiredScopes('read:a')] },
        { method: 'get', path: '/hook-throws', middleware: [auth({ verifier, onError: () => { throw new Error('hook bug'); } })] },
      ]);
    });

    after(async () => {
      await app?.close();
      await issuer?.close();
    });

    async function expectError(res, status, wwwAuthenticate, error) {
      assert.equal(res.status, status);
      assert.equal(res.headers.get('www-authenticate'), wwwAuthenticate);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const body = await res.json();
      if (error) assert.equal(body.error, error);
      assert.equal(typeof body.error_description, 'string');
      return body;
    }

    describe('token extraction', () => {
      test('no token: 401 with a bare challenge', async () => {
        const body = await expectError(await call('/protected'), 401, challenge(), 'unauthorized');
        assert.deepEqual(Object.keys(body).sort(), ['error', 'error_description']);
      });

      test('valid token in the header: 200, scheme case-insensitive', async () => {
        const token = issuer.mintUser();
        for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
          const res = await call('/protected', { headers: { authorization: `${scheme} ${token}` } });
          assert.equal(res.status, 200, scheme);
          assert.equal((await res.json()).auth.sub, 'auth0|test-user');
        }
      });

      for (const [title, header, description] of [
        ['scheme only', 'Bearer', 'Malformed Bearer credentials in the Authorization header'],
        ['empty token', 'Bearer ', 'Malformed Bearer credentials in the Authorization header'],
        ['two spaces', 'Bearer  abc.def.ghi', 'Malformed Bearer credentials in the Authorization header'],
        ['extra part', 'Bearer abc.def.ghi extra', 'Malformed Bearer credentials in the Authorization header'],
        ['empty header', '', 'Authorization header does not use the Bearer scheme'],
        ['a bare JWT, no scheme', 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', 'Authorization header does not use the Bearer scheme'],
      ]) {
        test(`malformed header (${title}): 400 invalid_request`, async () => {
          const res = await call('/protected', { headers: { authorization: header } });
          await expectError(res, 400, invalidRequest(description), 'invalid_request');
        });
      }

      test('another scheme (Basic, Digest): no bearer token, so 401 with a bare challenge (RFC 6750 §3.1)', async () => {
        for (const header of ['Basic dXNlcjpwYXNz', 'basic x', 'Digest username="a", nonce="b"', 'Negotiate']) {
          await expectError(await call('/protected', { headers: { authorization: header } }), 401, challenge(), 'unauthorized');
        }
      });

      test('a repeated Authorization header: 400 invalid_request, even for a cached token or on optional routes', async () => {
        const token = issuer.mintUser();
        const repeated = invalidRequest('More than one Authorization header');
        // The token is verified and cached first: a cache hit must not answer the repeated header.
        assert.equal((await callRaw('/protected', { authorization: `Bearer ${token}` })).status, 200);
        for (const lines of [
          [`Bearer ${token}`, `Bearer ${token}`],
          [`Bearer ${token}`, `Bearer ${issuer.mintUser({ sub: 'auth0|someone-else' })}`],
          ['Basic dXNlcjpwYXNz', `Bearer ${token}`],
          [`Bearer ${token}`, 'Basic dXNlcjpwYXNz'],
          [`Bearer ${token}`, '', `Bearer ${token}`],
        ]) {
          for (const path of ['/protected', '/optional']) {
            await expectError(await callRaw(path, { authorization: lines }), 400, repeated, 'invalid_request');
          }
        }
        // Header names are case-insensitive: a raw request whose two lines differ only in case.
        const lines = ['AUTHORIZATION', 'aUtHoRiZaTiOn'].map((name) => `${name}: Bearer ${token}\r\n`).join('');
        assert.match(await rawRequest(`GET /protected HTTP/1.1\r\nHost: 127.0.0.1\r\n${lines}Connection: close\r\n\r\n`), /^HTTP\/1\.1 400 [^]*More than one Authorization header/);
        // One line holding another scheme's credentials and a Bearer one: what Web Headers make
        // of two lines (Hono on Bun, Deno, workers), or a client sending both at once.
        for (const value of [`Basic dXNlcjpwYXNz, Bearer ${token}`, `Digest username="a", nonce="b",bearer ${token}`]) {
          for (const path of ['/protected', '/optional']) {
            await expectError(await call(path, { headers: { authorization: value } }), 400, repeated, 'invalid_request');
          }
        }
        // Other headers of the same name length (13 characters) are not mistaken for it.
        const res = await callRaw('/protected', { authorization: `Bearer ${token}`, 'cache-control': ['no-cache', 'no-store'], 'if-none-match': '"x"' });
        assert.equal(res.status, 200);
      });

      test('another scheme next to a query token is not a second method: the query token is used', async () => {
        const res = await call(`/protected?access_token=${issuer.mintUser()}`, { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
        assert.equal(res.status, 200);
        assert.equal((await res.json()).auth.sub, 'auth0|test-user');
      });

      test('token in the query: 200', async () => {
        const res = await call(`/protected?access_token=${issuer.mintUser()}`);
        assert.equal(res.status, 200);
        assert.equal((await res.json()).auth.sub, 'auth0|test-user');
      });

      test('query token twice, or empty: 400 invalid_request', async () => {
        const token = issuer.mintUser();
        const twice = await call(`/protected?access_token=${token}&access_token=${token}`);
        await expectError(twice, 400, invalidRequest('access_token must be sent once, as a single value'), 'invalid_request');
        const empty = await call('/protected?access_token=');
        await expectError(empty, 400, invalidRequest('access_token is empty'), 'invalid_request');
      });

      test('token in a form body: 200', async () => {
        const res = await call('/protected', { method: 'POST', body: new URLSearchParams({ access_token: issuer.mintUser() }) });
        assert.equal(res.status, 200);
        assert.equal((await res.json()).auth.sub, 'auth0|test-user');
      });

      test('a percent-encoded access_token name is still the parameter (both frameworks decode names)', async () => {
        const token = issuer.mintUser();
        for (const name of ['access%5Ftoken', '%61ccess_token']) {
          const res = await call(`/protected?${name}=${token}`);
          assert.equal(res.status, 200, name);
          const twoWays = await call(`/protected?${name}=${token}`, bearer(token));
          await expectError(twoWays, 400, invalidRequest('More than one method used to send the access token'), 'invalid_request');
        }
      });

      test('token in a JSON body is not a token: 401', async () => {
        const res = await call('/protected', {
          method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ access_token: issuer.mintUser() }),
        });
        await expectError(res, 401, challenge(), 'unauthorized');
      });

      test('token sent two ways: 400 invalid_request', async () => {
        const token = issuer.mintUser();
        const description = 'More than one method used to send the access token';
        const headerAndQuery = await call(`/protected?access_token=${token}`, bearer(token));
        await expectError(headerAndQuery, 400, invalidRequest(description), 'invalid_request');
        const headerAndBody = await call('/protected', { method: 'POST', ...bearer(token), body: new URLSearchParams({ access_token: token }) });
        await expectError(headerAndBody, 400, invalidRequest(description), 'invalid_request');
        const queryAndBody = await call(`/protected?access_token=${token}`, { method: 'POST', body: new URLSearchParams({ access_token: token }) });
        await expectError(queryAndBody, 400, invalidRequest(description), 'invalid_request');
      });
    });

    describe('a cached token (synchronous fast path) is held to the same rules', () => {
      test('accepted with any scheme case, answered from the cache', async () => {
        const token = issuer.mintUser({ sub: 'auth0|cached' });
        assert.equal((await call('/protected', bearer(token))).status, 200);
        const hits = verifier.stats().cacheHits;
        for (const scheme of ['Bearer', 'bearer', 'bEaReR']) {
          const res = await call('/protected', { headers: { authorization: `${scheme} ${token}` } });
          assert.equal(res.status, 200, scheme);
          assert.equal((await res.json()).auth.sub, 'auth0|cached');
        }
        assert.equal(verifier.stats().cacheHits, hits + 3);
      });

      test('malformed headers around a cached token: still 400', async () => {
        const token = issuer.mintUser({ sub: 'auth0|cached-malformed' });
        assert.equal((await call('/protected', bearer(token))).status, 200);
        const malformed = invalidRequest('Malformed Bearer credentials in the Authorization header');
        // (A trailing space would not do: HTTP strips it before the app sees the value.)
        for (const header of [`Bearer  ${token}`, `Bearer ${token} extra`, `Bearer ${token}=x`, `Bearer\t${token}`]) {
          const res = await call('/protected', { headers: { authorization: header } });
          const expected = header.startsWith('Bearer\t') ? invalidRequest('Authorization header does not use the Bearer scheme') : malformed;
          await expectError(res, 400, expected, 'invalid_request').catch((e) => assert.fail(`${header.slice(0, 12)}...: ${e.message}`));
        }
        const twoWays = await call(`/protected?access_token=${token}`, bearer(token));
        await expectError(twoWays, 400, invalidRequest('More than one method used to send the access token'), 'invalid_request');
      });

      test('a cached token that expired: 401, not a stale 200', async () => {
        const exp = Math.floor(Date.now() / 1000) + 2;
        const strict = new Auth0Verifier({ ...issuer.verifierOptions(), clockTolerance: 0 });
        const local = await serve([{ method: 'get', path: '/x', middleware: [auth({ verifier: strict })] }]);
        try {
          const token = issuer.mint({ exp, sub: 'short-lived' });
          const res = await fetch(local.url + '/x', bearer(token));
          assert.equal(res.status, 200);
          assert.equal(strict.verifyCached(token)?.sub, 'short-lived');
          await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 50));
          const expired = await fetch(local.url + '/x', bearer(token));
          assert.equal(expired.status, 401);
          assert.match(expired.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
        } finally {
          await local.close();
        }
      });
    });

    describe('verification failures forward the core error', () => {
      for (const [title, mint, code] of [
        ['garbage', () => 'abc.def.ghi', 'ERR_TOKEN_MALFORMED'],
        ['expired', (i) => i.mintExpired(), 'ERR_TOKEN_EXPIRED'],
        ['bad signature', (i) => i.mint({}, { rawSignature: 'AAAA' }), 'ERR_SIGNATURE_INVALID'],
        ['wrong audience', (i) => i.mint({ aud: 'https://other.example' }), 'ERR_AUDIENCE_INVALID'],
      ]) {
        test(`${title}: 401 invalid_token with the core's challenge`, async () => {
          const token = mint(issuer);
          const expected = await verifier.verify(token).then(() => assert.fail('token verified'), (e) => e);
          assert.equal(expected.code, code);
          const body = await expectError(await call('/protected', bearer(token)), 401, expected.wwwAuthenticate, 'invalid_token');
          assert.equal(body.error_description, expected.message);
          assert.match(expected.wwwAuthenticate, /^Bearer realm="api", error="invalid_token", error_description="/);
        });
      }

      test("verifier's authorizeUser says no: 403 forwarded", async () => {
        const strict = new Auth0Verifier({ ...issuer.verifierOptions(), authorizeUser: (c) => c.sub !== 'auth0|banned' });
        const local = await serve([{ method: 'get', path: '/x', middleware: [auth({ verifier: strict })] }]);
        try {
          const denied = await fetch(`${local.url}/x`, bearer(issuer.mintUser({ sub: 'auth0|banned' })));
          await expectError(denied, 403, challenge(', error="insufficient_scope", error_description="Access denied"'), 'insufficient_scope');
          assert.equal((await fetch(`${local.url}/x`, bearer(issuer.mintUser()))).status, 200);
        } finally {
          await local.close();
        }
      });

      test('an authorizeUser hook throwing undefined or "route" fails closed (500)', async () => {
        for (const thrown of [undefined, 'route', 0]) {
          const buggy = new Auth0Verifier({ ...issuer.verifierOptions(), authorizeUser: () => { throw thrown; } });
          const local = await serve([{ method: 'get', path: '/x', middleware: [auth({ verifier: buggy })] }]);
          try {
            const res = await fetch(`${local.url}/x`, bearer(issuer.mintUser()));
            assert.equal(res.status, 500, String(thrown));
            assert.deepEqual(await res.json(), { error: 'app_error' });
            assert.equal(local.errors.length, 1);
            assert.equal(local.errors[0].cause, thrown);
          } finally {
            await local.close();
          }
        }
      });

      test("a throwing authorizeUser hook is the app's error (500), not a 401", async () => {
        const buggy = new Auth0Verifier({ ...issuer.verifierOptions(), authorizeUser: () => { throw new Error('hook exploded'); } });
        const local = await serve([{ method: 'get', path: '/x', middleware: [auth({ verifier: buggy })] }]);
        try {
          const res = await fetch(`${local.url}/x`, bearer(issuer.mintUser()));
          assert.equal(res.status, 500);
          assert.deepEqual(await res.json(), { error: 'app_error' });
          assert.equal(local.errors.length, 1);
        } finally {
          await local.close();
        }
      });

      test('JWKS outage: 503 without a Bearer challenge', async () => {
        const down = await startLocalIssuer();
        down.setFault({ kind: 'down' });
        const fresh = new Auth0Verifier({ ...down.verifierOptions(), jwksTimeout: 1000 });
        const local = await serve([{ method: 'get', path: '/x', middleware: [auth({ verifier: fresh })] }]);
        try {
          const res = await fetch(`${local.url}/x`, bearer(down.mintUser()));
          assert.equal(res.status, 503);
          assert.equal(res.headers.get('www-authenticate'), null);
          assert.deepEqual(await res.json(), { error: 'temporarily_unavailable', error_description: 'The access token cannot be verified right now' });
        } finally {
          await local.close();
          await down.close();
        }
      });
    });

    describe('identity', () => {
      test('carries sub, claims, scopes and permissions, never the token', async () => {
        const token = issuer.mintUser({ scope: 'openid read:a write:b', permissions: ['read:reports'], claims: { [ROLES]: ['admin'] } });
        const res = await call('/protected', bearer(token));
        assert.equal(res.status, 200);
        const text = await res.text();
        assert.ok(!text.includes(token), 'the raw token must not be exposed');
        assert.ok(!text.includes(token.split('.')[2]), 'nor its signature');
        const { auth: identity } = JSON.parse(text);
        assert.deepEqual(Object.keys(identity).sort(), ['claims', 'permissions', 'scopes', 'sub']);
        assert.equal(identity.sub, 'auth0|test-user');
        assert.deepEqual(identity.scopes, ['openid', 'read:a', 'write:b']);
        assert.deepEqual(identity.permissions, ['read:reports']);
        assert.deepEqual(identity.claims[ROLES], ['admin']);
        assert.equal(identity.claims.iss, issuer.issuer);
      });

      test('scopes split on single spaces, empty entries dropped, also for a cached token', async () => {
        for (const [scope, scopes] of [['  openid   read:a write:b ', ['openid', 'read:a', 'write:b']], ['', []], ['   ', []], ['one', ['one']], ['a\tb', ['a\tb']]]) {
          // mint(), not mintUser(): mintUser leaves an empty scope out of the token.
          const token = issuer.mint({ scope });
          for (const round of ['verified', 'cached']) {
            const { auth: identity } = await (await call('/protected', bearer(token))).json();
            assert.deepEqual(identity.scopes, scopes, `${JSON.stringify(scope)} (${round})`);
          }
        }
      });

      test('M2M token: sub is <client_id>@clients, no scope means no scopes', async () => {
        const res = await call('/protected', bearer(issuer.mintM2M()));
        const { auth: identity } = await res.json();
        assert.equal(identity.sub, 'test-m2m-client-id@clients');
        assert.deepEqual(identity.scopes, []);
        assert.deepEqual(identity.permissions, []);
      });
    });

    describe('optional auth', () => {
      test('no token: passes anonymously', async () => {
        const res = await call('/optional');
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { auth: null });
      });

      test('valid token: identity is set', async () => {
        const res = await call('/optional', bearer(issuer.mintUser()));
        assert.equal((await res.json()).auth.sub, 'auth0|test-user');
      });

      test('invalid token: still 401', async () => {
        const res = await call('/optional', bearer(issuer.mintExpired()));
        await expectError(res, 401, res.headers.get('www-authenticate'), 'invalid_token');
        assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
      });

      test('malformed header: still 400', async () => {
        const res = await call('/optional', { headers: { authorization: 'Bearer  x' } });
        assert.equal(res.status, 400);
        const bareJwt = await call('/optional', { headers: { authorization: issuer.mintUser() } });
        assert.equal(bareJwt.status, 400, 'a token sent without "Bearer " is a client bug to report, not anonymity');
      });

      test('a header of another scheme (say Basic, for a proxy): passes anonymously', async () => {
        const res = await call('/optional', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
        assert.equal(res.status, 200);
        assert.deepEqual(await res.json(), { auth: null });
      });

      test('a guard after optional auth answers 401 for anonymous requests', async () => {
        await expectError(await call('/optional-guarded'), 401, challenge(), 'unauthorized');
        assert.equal((await call('/optional-guarded', bearer(issuer.mintUser({ scope: 'read:a' })))).status, 200);
      });
    });

    describe('guards', () => {
      const withScope = (scope) => bearer(issuer.mintUser({ scope }));

      test('requiredScopes: all required by default', async () => {
        assert.equal((await call('/scopes-all', withScope('read:a write:b'))).status, 200);
        await expectError(await call('/scopes-all', withScope('read:a')), 403, insufficient('read:a write:b'), 'insufficient_scope');
        await expectError(await call('/scopes-all', withScope('')), 403, insufficient('read:a write:b'), 'insufficient_scope');
      });

      test('requiredScopes: a space-separated string lists several', async () => {
        assert.equal((await call('/scopes-string', withScope('write:b read:a'))).status, 200);
        await expectError(await call('/scopes-string', withScope('write:b')), 403, insufficient('read:a write:b'));
      });

      test('requiredScopes: arrays are flattened, never taken for the options', async () => {
        assert.equal((await call('/scopes-array', withScope('read:a write:b'))).status, 200);
        await expectError(await call('/scopes-array', withScope('read:a')), 403, insufficient('read:a write:b'));
        assert.equal((await call('/scopes-mixed', withScope('read:a write:b admin'))).status, 200);
        await expectError(await call('/scopes-mixed', withScope('read:a')), 403, insufficient('read:a write:b admin'));
        await expectError(await call('/scopes-mixed', withScope('read:a write:b')), 403, insufficient('read:a write:b admin'));
        assert.equal((await call('/scopes-array-any', withScope('write:b'))).status, 200);
        await expectError(await call('/scopes-array-any', withScope('read:c')), 403, insufficient('read:a write:b'));
      });

      test('requiredScopes: any-of', async () => {
        assert.equal((await call('/scopes-any', withScope('write:b'))).status, 200);
        await expectError(await call('/scopes-any', withScope('read:c')), 403, insufficient('read:a write:b'), 'insufficient_scope');
      });

      test('requiredScopes: a scope is a whole word, not a substring', async () => {
        await expectError(await call('/scopes-all', withScope('read:a write:bb')), 403, insufficient('read:a write:b'));
      });

      test('requiredPermissions checks the RBAC permissions array, not scope', async () => {
        const both = issuer.mintUser({ scope: 'read:reports export:reports', permissions: ['read:reports', 'export:reports'] });
        assert.equal((await call('/permissions', bearer(both))).status, 200);
        const scopeOnly = issuer.mintUser({ scope: 'read:reports export:reports' });
        await expectError(await call('/permissions', bearer(scopeOnly)), 403, insufficient('read:reports export:reports'), 'insufficient_scope');
        const one = issuer.mintUser({ permissions: ['export:reports'] });
        await expectError(await call('/permissions', bearer(one)), 403, insufficient('read:reports export:reports'));
        assert.equal((await call('/permissions-any', bearer(one))).status, 200);
      });

      test('claimCheck: sync and async predicates over namespaced claims', async () => {
        const admin = bearer(issuer.mintUser({ claims: { [ROLES]: ['admin'] } }));
        const user = bearer(issuer.mintUser({ claims: { [ROLES]: ['user'] } }));
        assert.equal((await call('/claim-sync', admin)).status, 200);
        assert.equal((await call('/claim-async', admin)).status, 200);
        const denied = challenge(', error="insufficient_scope", error_description="Admin role required"');
        const body = await expectError(await call('/claim-sync', user), 403, denied, 'insufficient_scope');
        assert.equal(body.error_description, 'Admin role required');
        await expectError(await call('/claim-async', user), 403, challenge(', error="insufficient_scope", error_description="Access denied"'));
      });

      test('claimCheck: only true allows', async () => {
        assert.equal((await call('/claim-truthy', bearer(issuer.mintUser()))).status, 403);
      });

      test("claimCheck: a throwing predicate is the app's error (500), and the server lives on", async () => {
        const before = app.errors.length;
        for (const path of ['/claim-throws', '/claim-rejects']) {
          const res = await call(path, bearer(issuer.mintUser()));
          assert.equal(res.status, 500, path);
          assert.deepEqual(await res.json(), { error: 'app_error' });
        }
        assert.deepEqual(app.errors.slice(before).map((e) => e.message), ['predicate bug', 'async predicate bug']);
      });

      test('claimCheck: a predicate throwing undefined, null or "route" fails closed (500), never passes', async () => {
        const before = app.errors.length;
        for (const path of ['/claim-throws-undefined', '/claim-throws-null', '/claim-throws-route']) {
          const res = await call(path, bearer(issuer.mintUser()));
          assert.equal(res.status, 500, path);
          assert.deepEqual(await res.json(), { error: 'app_error' }, path);
        }
        const errors = app.errors.slice(before);
        assert.ok(errors.every((e) => e instanceof Error), 'the app error handler gets Errors');
        assert.deepEqual(errors.map((e) => e.cause), [undefined, null, 'route']);
        assert.equal((await call('/protected', bearer(issuer.mintUser()))).status, 200);
      });

      test('challenge values replace quotes and backslashes (RFC 6750 forbids them), and drop non-ASCII', async () => {
        const res = await call('/claim-quotes', bearer(issuer.mintUser()));
        assert.equal(res.headers.get('www-authenticate'),
          challenge(`, error="insufficient_scope", error_description="Needs 'admin' ' role ? now"`));
        assert.equal((await res.json()).error_description, 'Needs "admin" \\ role – now');
      });

      test('a guard with no auth() before it: 401', async () => {
        await expectError(await call('/guard-without-auth', withScope('read:a')), 401, challenge(), 'unauthorized');
      });
    });

    describe('options', () => {
      test('realm is used by auth(), by the core for bad tokens, and by the guards after it', async () => {
        const missing = await call('/realm');
        assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="my realm"');
        const expired = await call('/realm', bearer(issuer.mintExpired()));
        assert.match(expired.headers.get('www-authenticate'), /^Bearer realm="my realm", error="invalid_token"/);
        const forbidden = await call('/realm', bearer(issuer.mintUser({ scope: 'openid' })));
        assert.equal(forbidden.status, 403);
        assert.match(forbidden.headers.get('www-authenticate'), /^Bearer realm="my realm", error="insufficient_scope"/);
        // A realm a challenge could not carry is refused at start-up.
        assert.throws(() => auth({ ...issuer.verifierOptions(), realm: 'my "realm"' }), { code: 'ERR_INVALID_OPTIONS' });
      });

      test('a later auth() with the default realm overrides an earlier one for the guards after it', async () => {
        const forbidden = await call('/realm-overridden', bearer(issuer.mintUser({ scope: 'openid' })));
        assert.equal(forbidden.status, 403);
        assert.match(forbidden.headers.get('www-authenticate'), /^Bearer realm="api", error="insufficient_scope"/);
      });

      test('onError replaces the body, keeps status and challenge, also for guards', async () => {
        const missing = await call('/custom-body');
        assert.equal(missing.status, 401);
        assert.equal(missing.headers.get('www-authenticate'), challenge());
        assert.deepEqual(await missing.json(), { message: 'custom ERR_TOKEN_MISSING', status: 401 });
        const forbidden = await call('/custom-body', bearer(issuer.mintUser({ scope: 'openid' })));
        assert.equal(forbidden.status, 403);
        assert.equal(forbidden.headers.get('www-authenticate'), insufficient('read:a'));
        assert.deepEqual(await forbidden.json(), { message: 'custom ERR_INSUFFICIENT_SCOPE', status: 403 });
      });

      test("the realm of a ready verifier is the adapter's realm too, unless auth() sets one", async () => {
        const own = new Auth0Verifier({ ...issuer.verifierOptions(), realm: 'myapi' });
        const local = await serve([{ method: 'get', path: '/x', middleware: [auth({ verifier: own }), requiredScopes('read:a')] }]);
        try {
          const missing = await fetch(`${local.url}/x`);
          assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="myapi"');
          const expired = await fetch(`${local.url}/x`, bearer(issuer.mintExpired()));
          assert.match(expired.headers.get('www-authenticate'), /^Bearer realm="myapi", error="invalid_token"/);
          const forbidden = await fetch(`${local.url}/x`, bearer(issuer.mintUser({ scope: 'openid' })));
          assert.match(forbidden.headers.get('www-authenticate'), /^Bearer realm="myapi", error="insufficient_scope"/);
        } finally {
          await local.close();
        }
      });

      test("a throwing onError hook is the app's error (500)", async () => {
        const res = await call('/hook-throws');
        assert.equal(res.status, 500);
        assert.deepEqual(await res.json(), { error: 'app_error' });
      });

      test('a realm beside a ready verifier must be its own: one route, one realm', async () => {
        const own = new Auth0Verifier({ ...issuer.verifierOptions(), realm: 'myapi' });
        assert.throws(() => auth({ verifier: own, realm: 'other' }), {
          name: 'TypeError', message: /realm "other" differs from the verifier's \("myapi"\).*new Auth0Verifier\(\{ realm \}\)/,
        });
        // Repeating the verifier's own realm is harmless.
        const local = await serve([{ method: 'get', path: '/x', middleware: [auth({ verifier: own, realm: 'myapi' })] }]);
        try {
          assert.equal((await fetch(`${local.url}/x`)).headers.get('www-authenticate'), 'Bearer realm="myapi"');
          const expired = await fetch(`${local.url}/x`, bearer(issuer.mintExpired()));
          assert.match(expired.headers.get('www-authenticate'), /^Bearer realm="myapi", error="invalid_token"/);
        } finally {
          await local.close();
        }
      });

      test('a verifier plus verifier options is a mistake caught at start-up', () => {
        assert.throws(() => auth({ verifier, audience: 'https://other.example' }), {
          name: 'TypeError', message: /either a verifier or verifier options.*audience/,
        });
      });

      test('verifier options build a verifier; bad ones fail at start-up', () => {
        assert.equal(typeof auth(issuer.verifierOptions()), 'function');
        assert.throws(() => auth({ ...issuer.verifierOptions(), algorithms: ['HS256'] }), { code: 'ERR_INVALID_OPTIONS' });
      });

      test('guards reject empty requirement lists at start-up', () => {
        assert.throws(() => requiredScopes(), TypeError);
        assert.throws(() => requiredPermissions(' ', { match: 'any' }), TypeError);
        assert.throws(() => requiredScopes('a', { match: 'some' }), TypeError);
        // Only a plain object is options: nothing in last place may silently drop requirements.
        assert.throws(() => requiredScopes('a', { mtch: 'any' }), /unknown option mtch/);
        assert.throws(() => requiredScopes('base', new Set(['admin'])), TypeError);
        assert.throws(() => (function () { return requiredScopes('base', arguments); })('admin'), TypeError);
        assert.throws(() => requiredPermissions(['a', ['b']]), TypeError);
        assert.throws(() => claimCheck('not a function'), TypeError);
      });
    });
  });
}
