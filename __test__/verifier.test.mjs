// Auth0Verifier end to end against a real JWKS server on 127.0.0.1: what is accepted,
// what each rejection looks like, and construction-time option errors.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Auth0Verifier, startLocalIssuer, rejectsWith } from './helpers.mjs';

let issuer;
let verifier;
before(async () => {
  issuer = await startLocalIssuer();
  verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
});
after(() => issuer.close());

test('resolves with every claim of a valid token, custom namespaced claims kept', async () => {
  const token = issuer.mintUser({
    scope: 'read:messages',
    permissions: ['read:admin'],
    claims: { 'https://example.com/roles': ['admin'], nested: { a: [1, 2] } },
  });
  const claims = await verifier.verify(token);
  assert.equal(claims.iss, issuer.issuer);
  assert.equal(claims.sub, 'auth0|test-user');
  assert.equal(claims.scope, 'read:messages');
  assert.deepEqual(claims.permissions, ['read:admin']);
  assert.deepEqual(claims['https://example.com/roles'], ['admin']);
  assert.deepEqual(claims.nested, { a: [1, 2] });
  assert.equal(typeof claims.exp, 'number');
});

test('each call resolves a fresh object (mutations do not leak between requests)', async () => {
  const token = issuer.mintUser();
  const cached = new Auth0Verifier({ ...issuer.verifierOptions() });
  const first = await cached.verify(token);
  first.sub = 'mutated';
  const second = await cached.verify(token);
  assert.equal(second.sub, 'auth0|test-user');
  assert.equal(cached.stats().cacheHits, 1);
});

test('M2M client-credentials tokens verify', async () => {
  const claims = await verifier.verify(issuer.mintM2M({ clientId: 'svc' }));
  assert.equal(claims.sub, 'svc@clients');
  assert.equal(claims.gty, 'client-credentials');
});

test('missing and non-string tokens reject (never throw synchronously)', async () => {
  for (const value of [undefined, null, '']) {
    const promise = verifier.verify(value);
    assert.ok(promise instanceof Promise);
    await rejectsWith(promise, 'ERR_TOKEN_MISSING');
  }
  for (const value of [42, {}, ['a.b.c'], Buffer.from('x')]) {
    await rejectsWith(verifier.verify(value), 'ERR_TOKEN_MALFORMED');
  }
  // Refused before the pipeline, still counted.
  const counted = new Auth0Verifier({ ...issuer.verifierOptions(), maxTokenLength: 100 });
  await rejectsWith(counted.verify(42), 'ERR_TOKEN_MALFORMED');
  await rejectsWith(counted.verify('x'.repeat(200)), 'ERR_TOKEN_MALFORMED');
  // Within the limit in UTF-16 units (40), over it in UTF-8 bytes (120).
  await rejectsWith(counted.verify('€'.repeat(40)), 'ERR_TOKEN_MALFORMED');
  const stats = counted.stats();
  assert.equal(stats.verifies, 3);
  assert.equal(stats.failed, 3);
  assert.equal(stats.cacheMisses, 0);
});

test('rejection errors carry code, status, an RFC 6750 challenge and no token text', async () => {
  const token = issuer.mintExpired();
  const error = await verifier.verify(token).catch((e) => e);
  assert.ok(error instanceof Error);
  assert.equal(error.code, 'ERR_TOKEN_EXPIRED');
  assert.equal(error.status, 401);
  assert.equal(error.claim, 'exp');
  assert.equal(error.wwwAuthenticate, 'Bearer realm="api", error="invalid_token", error_description="token has expired"');
  for (const part of token.split('.')) assert.ok(!error.message.includes(part));
  assert.ok(!String(error.stack).includes(token.split('.')[1]));

  const missing = await verifier.verify('').catch((e) => e);
  assert.equal(missing.wwwAuthenticate, 'Bearer realm="api"');
});

test('realm option shapes the challenge', async () => {
  const v = new Auth0Verifier({ ...issuer.verifierOptions(), realm: 'agents' });
  const error = await v.verify('').catch((e) => e);
  assert.equal(error.wwwAuthenticate, 'Bearer realm="agents"');
});

test('signature, key and algorithm failures', async () => {
  await rejectsWith(verifier.verify(issuer.mint({}, { signWith: 'foreign' })), 'ERR_KEY_NOT_FOUND');
  const [h, p, s] = issuer.mint().split('.');
  const flipped = s[0] === 'A' ? 'B' + s.slice(1) : 'A' + s.slice(1);
  await rejectsWith(verifier.verify(`${h}.${p}.${flipped}`), 'ERR_SIGNATURE_INVALID');
  const other = issuer.mint({ sub: 'someone-else' }).split('.')[1];
  await rejectsWith(verifier.verify(`${h}.${other}.${s}`), 'ERR_SIGNATURE_INVALID');
  await rejectsWith(verifier.verify(issuer.mint({}, { alg: 'HS256', signWith: { hmacSecret: 'secret' } })), 'ERR_ALG_NOT_ALLOWED');
  await rejectsWith(verifier.verify(issuer.mint({}, { alg: 'none', signWith: 'none' })), 'ERR_TOKEN_MALFORMED');
  await rejectsWith(verifier.verify(issuer.mint({}, { header: { crit: ['exp'] } })), 'ERR_CRIT_UNSUPPORTED');
});

test('claim failures name the claim', async () => {
  const now = Math.floor(Date.now() / 1000);
  const cases = [
    [{ iss: 'https://evil.example/' }, 'ERR_ISSUER_INVALID', 'iss'],
    [{ iss: issuer.issuer.slice(0, -1) }, 'ERR_ISSUER_INVALID', 'iss'],
    [{ aud: 'https://other.example' }, 'ERR_AUDIENCE_INVALID', 'aud'],
    [{ aud: undefined }, 'ERR_AUDIENCE_INVALID', 'aud'],
    [{ exp: undefined }, 'ERR_CLAIM_INVALID', 'exp'],
    [{ exp: String(now + 60) }, 'ERR_CLAIM_INVALID', 'exp'],
    [{ exp: now - 60 }, 'ERR_TOKEN_EXPIRED', 'exp'],
    [{ nbf: now + 60 }, 'ERR_TOKEN_NOT_YET_VALID', 'nbf'],
    [{ iat: now + 3600 }, 'ERR_CLAIM_INVALID', 'iat'],
  ];
  for (const [claims, code, claim] of cases) {
    const error = await verifier.verify(issuer.mint(claims)).catch((e) => e);
    assert.equal(error.code, code, JSON.stringify(claims));
    assert.equal(error.claim, claim);
  }
});

test('clock tolerance: a few seconds of skew pass, more do not', async () => {
  const now = Math.floor(Date.now() / 1000);
  await verifier.verify(issuer.mint({ exp: now - 2 }));
  await verifier.verify(issuer.mint({ nbf: now + 2 }));
  const strict = new Auth0Verifier({ ...issuer.verifierOptions(), clockTolerance: 0, tokenCacheSize: 0 });
  await rejectsWith(strict.verify(issuer.mint({ exp: now - 2 })), 'ERR_TOKEN_EXPIRED');
});

test('any one of several accepted audiences passes', async () => {
  const v = new Auth0Verifier({ ...issuer.verifierOptions(), audience: ['https://a.example', issuer.audience] });
  await v.verify(issuer.mint({ aud: ['https://x.example', issuer.audience] }));
  await v.verify(issuer.mint({ aud: 'https://a.example' }));
  await rejectsWith(v.verify(issuer.mint({ aud: ['https://x.example'] })), 'ERR_AUDIENCE_INVALID');
  assert.deepEqual(v.audiences, ['https://a.example', issuer.audience]);
});

test('oversized tokens are refused before decoding', async () => {
  const v = new Auth0Verifier({ ...issuer.verifierOptions(), maxTokenLength: 4096 });
  const started = process.hrtime.bigint();
  await rejectsWith(v.verify('a'.repeat(50 * 1024 * 1024)), 'ERR_TOKEN_MALFORMED');
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 200);
  await rejectsWith(v.verify(issuer.mint({ pad: 'x'.repeat(5000) })), 'ERR_TOKEN_MALFORMED');
});

test('constructor: defaults derived from domain, env fallbacks', () => {
  const v = new Auth0Verifier({ domain: 'tenant.auth0.com', audience: 'https://api' });
  assert.equal(v.issuer, 'https://tenant.auth0.com/');
  assert.equal(v.jwksUri, 'https://tenant.auth0.com/.well-known/jwks.json');
  const saved = { ...process.env };
  try {
    process.env.AUTH0_DOMAIN = 'env-tenant.eu.auth0.com';
    process.env.AUTH0_AUDIENCE = 'https://env-api';
    const fromEnv = new Auth0Verifier();
    assert.equal(fromEnv.issuer, 'https://env-tenant.eu.auth0.com/');
    assert.deepEqual(fromEnv.audiences, ['https://env-api']);
  } finally {
    delete process.env.AUTH0_DOMAIN;
    delete process.env.AUTH0_AUDIENCE;
    Object.assign(process.env, saved);
  }
});

test('constructor: bad options throw ERR_INVALID_OPTIONS naming the problem', () => {
  delete process.env.AUTH0_DOMAIN;
  delete process.env.AUTH0_AUDIENCE;
  const cases = [
    [{}, /domain/],
    [{ domain: 't.auth0.com' }, /audience/],
    [{ domain: 't.auth0.com', audience: [] }, /audience/],
    [{ domain: 't.auth0.com', audience: 'a', algorithms: ['HS256'] }, /HS256/],
    [{ domain: 't.auth0.com', audience: 'a', algorithms: ['none'] }, /none/],
    [{ domain: 't.auth0.com', audience: 'a', algorithms: ['RS255'] }, /RS255/],
    [{ domain: 't.auth0.com', audience: 'a', jwksUri: 'http://jwks.example.com/keys' }, /https/],
    [{ domain: 't.auth0.com', audience: 'a', clockTolerance: -1 }, /clockTolerance/],
    [{ domain: 't.auth0.com', audience: 'a', clockTolerance: '5' }, /clockTolerance/],
    [{ domain: 't.auth0.com', audience: 42 }, /audience/],
    [{ domain: 't.auth0.com', audience: 'a', authorizeUser: true }, /authorizeUser/],
    [{ domain: 't.auth0.com', audiance: 'a' }, /unknown option `audiance`/],
    [{ domain: 'http://t.auth0.com', audience: 'a' }, /domain/],
    ['t.auth0.com', /object/],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => new Auth0Verifier(options), (error) => {
      assert.equal(error.code, 'ERR_INVALID_OPTIONS', JSON.stringify(options));
      assert.match(error.message, message);
      return true;
    });
  }
});

test('constructor: an exception thrown while reading the options is the one that surfaces', () => {
  const mine = new Error('from a getter');
  const base = { domain: 't.auth0.com', audience: 'a' };
  const throwing = (name) => Object.defineProperty({ ...base }, name, { enumerable: true, get() { throw mine; } });
  for (const name of ['domain', 'audience', 'tokenCacheSize', 'authorizeUser']) {
    assert.throws(() => new Auth0Verifier(throwing(name)), (error) => error === mine, name);
  }
  const proxy = new Proxy(base, { ownKeys() { throw mine; } });
  assert.throws(() => new Auth0Verifier(proxy), (error) => error === mine, 'ownKeys trap');
  // Nothing is left pending: the next construction works.
  assert.equal(new Auth0Verifier(base).issuer, 'https://t.auth0.com/');
});
