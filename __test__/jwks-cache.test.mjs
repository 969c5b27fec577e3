// The JWKS cache against a real HTTP JWKS server: fetch counts for cold starts, kid
// storms and rotation; behaviour when the JWKS is down, slow, garbage or too large;
// last good keys kept through an outage.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import { once } from 'node:events';
import { Auth0Verifier, rejectsWith, sleep, withIssuer } from './helpers.mjs';

test('concurrent cold start: 200 verifies, one JWKS fetch', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
    const tokens = Array.from({ length: 200 }, (_, i) => issuer.mintUser({ sub: `user-${i}` }));
    const claims = await Promise.all(tokens.map((t) => verifier.verify(t)));
    assert.equal(claims[199].sub, 'user-199');
    assert.equal(issuer.jwksRequests, 1);
    assert.equal(verifier.stats().jwksFetches, 1);
  }));

test('unknown-kid storm: at most one refetch per cooldown', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCooldown: 60_000 });
    await verifier.verify(issuer.mintUser());
    assert.equal(issuer.jwksRequests, 1);
    const storm = Array.from({ length: 300 }, (_, i) => issuer.mint({}, { kid: `random-${i}` }));
    const results = await Promise.allSettled(storm.map((t) => verifier.verify(t)));
    assert.ok(results.every((r) => r.status === 'rejected' && r.reason.code === 'ERR_KEY_NOT_FOUND'));
    // The first unknown kid may refetch once (the cooldown started at the initial fetch
    // here, so even that one is refused); never more.
    assert.ok(issuer.jwksRequests <= 2, `fetches: ${issuer.jwksRequests}`);
    await rejectsWith(verifier.verify(issuer.mint({}, { kid: 'later' })), 'ERR_KEY_NOT_FOUND');
    assert.ok(issuer.jwksRequests <= 2);
  }));

test('key rotation: a new kid is picked up with one refetch', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCooldown: 0 });
    await verifier.verify(issuer.mintUser());
    const { kid } = issuer.rotate();
    const claims = await verifier.verify(issuer.mintUser({ sub: 'after-rotation' }));
    assert.equal(claims.sub, 'after-rotation');
    assert.equal(issuer.jwksRequests, 2);
    assert.equal(verifier.stats().jwksRefetches, 1);
    assert.equal(issuer.currentKid, kid);
    // Tokens signed by the previous key still verify while it is published.
    assert.equal(verifier.stats().keys, 2);
  }));

test('concurrent unknown-kid misses: one refetch, counted once', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCooldown: 0, tokenCacheSize: 0 });
    await verifier.verify(issuer.mintUser());
    issuer.rotate();
    const tokens = Array.from({ length: 50 }, (_, i) => issuer.mintUser({ sub: `rotated-${i}` }));
    const claims = await Promise.all(tokens.map((t) => verifier.verify(t)));
    assert.equal(claims[49].sub, 'rotated-49');
    assert.equal(issuer.jwksRequests, 2);
    // The 49 that waited for the one fetch made none: stats count fetches, not waiters.
    assert.deepEqual(
      { fetches: verifier.stats().jwksFetches, refetches: verifier.stats().jwksRefetches },
      { fetches: 2, refetches: 1 },
    );
  }));

test('cooldown blocks refetches, then allows one', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCooldown: 1500 });
    await verifier.verify(issuer.mintUser());
    issuer.rotate();
    const rotated = issuer.mintUser();
    await rejectsWith(verifier.verify(rotated), 'ERR_KEY_NOT_FOUND');
    assert.equal(issuer.jwksRequests, 1);
    await sleep(1600);
    await verifier.verify(rotated);
    assert.equal(issuer.jwksRequests, 2);
  }));

test('JWKS down at cold start: 503 ERR_JWKS_UNAVAILABLE, fast, and cooldown protects the issuer', () =>
  withIssuer(async (issuer) => {
    issuer.setFault({ kind: 'down' });
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCooldown: 60_000 });
    const error = await verifier.verify(issuer.mintUser()).catch((e) => e);
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
    assert.equal(error.status, 503);
    assert.equal(error.wwwAuthenticate, null);
    assert.match(error.message, /HTTP 503/);
    // Minted before the clock starts: signing 50 tokens is the test's work, not the verifier's.
    const tokens = Array.from({ length: 50 }, () => issuer.mintUser());
    const started = Date.now();
    const again = await Promise.allSettled(tokens.map((token) => verifier.verify(token)));
    const took = Date.now() - started;
    assert.ok(again.every((r) => r.reason?.code === 'ERR_JWKS_UNAVAILABLE'));
    assert.ok(took < 500, `50 verifies in the cooldown took ${took} ms`);
    assert.equal(issuer.jwksRequests, 1);
  }));

test('JWKS slow beyond the timeout: rejects after about the timeout', () =>
  withIssuer(async (issuer) => {
    issuer.setFault({ kind: 'slow', delayMs: 3000 });
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksTimeout: 200 });
    const started = Date.now();
    const error = await verifier.verify(issuer.mintUser()).catch((e) => e);
    assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE');
    assert.match(error.message, /timed out after 200 ms/);
    const took = Date.now() - started;
    assert.ok(took < 1500, `a 200 ms timeout took ${took} ms`);
  }));

test('JWKS garbage, wrong shapes and oversized bodies are unavailability, not crashes', async () => {
  const faults = [
    [{ kind: 'garbage' }, /JSON/],
    [{ kind: 'body', body: '{"keys":[]}' }, /no usable signing key/],
    [{ kind: 'body', body: '{"keys":[{"kty":"oct","k":"c2VjcmV0"}]}' }, /no usable signing key/],
    [{ kind: 'body', body: '[1,2,3]' }, /JSON object/],
    [{ kind: 'huge', bytes: 300_000 }, /more than 262144 bytes/],
    [{ kind: 'huge', bytes: 300_000, contentLength: true }, /more than 262144 bytes/],
    [{ kind: 'status', status: 404 }, /HTTP 404/],
    [{ kind: 'destroy' }, /./],
  ];
  for (const [fault, message] of faults) {
    await withIssuer(async (issuer) => {
      issuer.setFault(fault);
      const verifier = new Auth0Verifier({ ...issuer.verifierOptions() });
      const error = await verifier.verify(issuer.mintUser()).catch((e) => e);
      assert.equal(error.code, 'ERR_JWKS_UNAVAILABLE', JSON.stringify(fault));
      assert.match(error.message, message);
    });
  }
});

test('last good keys keep serving through an outage; a recovered JWKS is used again', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({
      ...issuer.verifierOptions(),
      jwksCacheMaxAge: 100,
      jwksCooldown: 50,
      tokenCacheSize: 0,
    });
    await verifier.verify(issuer.mintUser());
    issuer.setFault({ kind: 'down' });
    await sleep(150);
    // Keys are past freshness; the refresh fails, known kids keep verifying.
    for (let i = 0; i < 5; i++) {
      await verifier.verify(issuer.mintUser({ sub: `during-outage-${i}` }));
      await sleep(60);
    }
    const stats = verifier.stats();
    assert.ok(stats.jwksFetchFailures >= 1, JSON.stringify(stats));
    assert.ok(stats.staleServes >= 5);
    // Unknown kids still fail as the client's problem, not as an outage.
    await rejectsWith(verifier.verify(issuer.mint({}, { kid: 'unknown' })), 'ERR_KEY_NOT_FOUND');
    issuer.setFault(null);
    issuer.rotate();
    await sleep(60);
    await verifier.verify(issuer.mintUser({ sub: 'recovered' }));
  }));

test('through an outage, cached tokens are still answered from the token cache (stale serves)', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCacheMaxAge: 100, jwksCooldown: 5_000 });
    const token = issuer.mintUser({ sub: 'hot' });
    await verifier.verify(token);
    issuer.setFault({ kind: 'down' });
    await sleep(150);
    // Past freshness: this verify goes the full way and starts the refresh, which fails.
    assert.equal((await verifier.verify(token)).sub, 'hot');
    for (let i = 0; i < 50 && verifier.stats().jwksFetchFailures === 0; i++) await sleep(10);
    const before = verifier.stats();
    assert.equal(before.jwksFetchFailures, 1, JSON.stringify(before));
    for (let i = 0; i < 50; i++) assert.equal((await verifier.verify(token)).sub, 'hot');
    assert.equal(verifier.verifyCached(token)?.sub, 'hot');
    const after = verifier.stats();
    // Until this was fixed, each of these dropped the entry and verified in full again.
    assert.equal(after.cacheHits - before.cacheHits, 51, JSON.stringify(after));
    assert.equal(after.cacheMisses, before.cacheMisses);
    assert.equal(after.staleServes - before.staleServes, 51);
    assert.equal(after.cacheSize, 1);
  }));

test('a cached kid-less token is refused once a second key makes its key ambiguous, as a fresh verify would', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCacheMaxAge: 50, jwksCooldown: 0 });
    const token = issuer.mintUser({ sub: 'kidless' }, { kid: null });
    assert.equal((await verifier.verify(token)).sub, 'kidless');
    assert.equal(verifier.verifyCached(token)?.sub, 'kidless');
    issuer.rotate(); // the JWKS now holds two keys: a token without kid no longer says which
    await sleep(80);
    await verifier.verify(issuer.mintUser()); // past freshness: starts the refresh
    for (let i = 0; i < 50 && verifier.stats().jwksFetches < 2; i++) await sleep(10);
    await sleep(20);
    assert.equal(verifier.verifyCached(token), null);
    await rejectsWith(verifier.verify(token), 'ERR_KEY_NOT_FOUND');
  }));

test('stale keys are bounded by jwksMaxStale', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({
      ...issuer.verifierOptions(),
      jwksCacheMaxAge: 50,
      jwksMaxStale: 100,
      jwksCooldown: 0,
      tokenCacheSize: 0,
    });
    await verifier.verify(issuer.mintUser());
    issuer.setFault({ kind: 'down' });
    await sleep(250);
    await rejectsWith(verifier.verify(issuer.mintUser()), 'ERR_JWKS_UNAVAILABLE', 503);
  }));

test('keys that age out within the cooldown of a successful fetch are fetched again, not reported unavailable', () =>
  withIssuer(async (issuer) => {
    // max age + max stale (300 ms) is shorter than the cooldown (60 s): only a failed fetch
    // may hold the next one back, or a healthy issuer would look down for the rest of it.
    const verifier = new Auth0Verifier({
      ...issuer.verifierOptions(),
      jwksCacheMaxAge: 300,
      jwksMaxStale: 0,
      jwksCooldown: 60_000,
      tokenCacheSize: 0,
    });
    await verifier.verify(issuer.mintUser());
    await sleep(400);
    assert.equal((await verifier.verify(issuer.mintUser({ sub: 'later' }))).sub, 'later');
    assert.equal(issuer.jwksRequests, 2);
    // A failed fetch does hold the next one back for the cooldown: the issuer is protected.
    issuer.setFault({ kind: 'down' });
    await sleep(400);
    await rejectsWith(verifier.verify(issuer.mintUser()), 'ERR_JWKS_UNAVAILABLE', 503);
    await rejectsWith(verifier.verify(issuer.mintUser()), 'ERR_JWKS_UNAVAILABLE', 503);
    assert.equal(issuer.jwksRequests, 3);
  }));

test('a key removed from the JWKS stops verifying after the next refresh', () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksCacheMaxAge: 50, jwksCooldown: 0 });
    const oldKid = issuer.currentKid;
    const oldToken = issuer.mintUser();
    await verifier.verify(oldToken);
    issuer.rotate();
    issuer.removeKey(oldKid);
    await sleep(80);
    // Expired keys serve once while the background refresh runs; afterwards the
    // removed key is gone (and the cached token with it).
    await verifier.verify(oldToken).catch(() => {});
    await sleep(100);
    await rejectsWith(verifier.verify(oldToken), 'ERR_KEY_NOT_FOUND');
  }));

test('JWKS requests go through HTTP_PROXY / HTTPS_PROXY when set, and straight to NO_PROXY hosts', () =>
  withIssuer(async (issuer) => {
    // A real forward proxy on loopback: it sees the absolute-form request line and relays it.
    const relayed = [];
    const proxy = createServer((req, res) => {
      relayed.push(req.url);
      const upstream = request(req.url, { method: req.method, headers: req.headers }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.writeHead(502).end());
      req.pipe(upstream);
    });
    proxy.listen(0, '127.0.0.1');
    await once(proxy, 'listening');
    const names = ['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'];
    const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
    let viaProxy, direct;
    try {
      for (const name of names) delete process.env[name];
      // Read when a verifier is created (its HTTP client is built then).
      process.env.HTTP_PROXY = `http://127.0.0.1:${proxy.address().port}`;
      viaProxy = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
      process.env.NO_PROXY = 'localhost, 127.0.0.1';
      direct = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
    } finally {
      for (const name of names) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
    try {
      assert.equal((await viaProxy.verify(issuer.mintUser({ sub: 'proxied' }))).sub, 'proxied');
      assert.deepEqual(relayed, [issuer.verifierOptions().jwksUri]);
      assert.equal((await direct.verify(issuer.mintUser({ sub: 'direct' }))).sub, 'direct');
      assert.equal(relayed.length, 1);
      assert.equal(issuer.jwksRequests, 2);
    } finally {
      proxy.closeAllConnections();
      proxy.close();
    }
  }));
