// The authorizeUser hook: Rust calls it after verification and awaits it. Only `true`
// allows; false is a 403; a throw or rejection rejects verify with that very error.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Auth0Verifier, startLocalIssuer, rejectsWith } from './helpers.mjs';

let issuer;
before(async () => {
  issuer = await startLocalIssuer();
});
after(() => issuer.close());

const make = (authorizeUser, extra = {}) => new Auth0Verifier({ ...issuer.verifierOptions(), authorizeUser, ...extra });

test('sync and async true allow; the hook sees the verified claims', async () => {
  const seen = [];
  const sync = make((claims) => (seen.push(claims.sub), true));
  assert.equal((await sync.verify(issuer.mintUser({ sub: 'a' }))).sub, 'a');
  const asyncHook = make(async (claims) => (seen.push(claims.sub), true));
  assert.equal((await asyncHook.verify(issuer.mintUser({ sub: 'b' }))).sub, 'b');
  assert.deepEqual(seen, ['a', 'b']);
});

test('false (sync or async) rejects with 403 ERR_ACCESS_DENIED and an insufficient_scope challenge', async () => {
  for (const hook of [() => false, async () => false, () => Promise.resolve(false)]) {
    const error = await make(hook).verify(issuer.mintUser()).catch((e) => e);
    assert.equal(error.code, 'ERR_ACCESS_DENIED');
    assert.equal(error.status, 403);
    assert.equal(error.wwwAuthenticate, 'Bearer realm="api", error="insufficient_scope", error_description="Access denied"');
  }
});

test('anything but true denies (fail closed)', async () => {
  for (const value of [undefined, null, 1, 'yes', {}, []]) {
    await rejectsWith(make(() => value).verify(issuer.mintUser()), 'ERR_ACCESS_DENIED', 403);
    await rejectsWith(make(async () => value).verify(issuer.mintUser()), 'ERR_ACCESS_DENIED', 403);
  }
});

test('a throw or a rejection rejects verify with that error', async () => {
  const boom = new Error('database down');
  await assert.rejects(make(() => { throw boom; }).verify(issuer.mintUser()), (e) => e === boom);
  await assert.rejects(make(async () => { throw boom; }).verify(issuer.mintUser()), (e) => e === boom);
  await assert.rejects(make(() => Promise.reject(boom)).verify(issuer.mintUser()), (e) => e === boom);
  // Thrown non-errors pass through as they are.
  await assert.rejects(make(() => { throw 'plain'; }).verify(issuer.mintUser()), (e) => e === 'plain');
});

test('the hook runs on cache hits too, and not for tokens that fail', async () => {
  let calls = 0;
  const v = make(() => (calls++, true));
  const token = issuer.mintUser();
  await v.verify(token);
  await v.verify(token);
  assert.equal(v.stats().cacheHits, 1);
  assert.equal(calls, 2);
  await v.verify(issuer.mintExpired()).catch(() => {});
  assert.equal(calls, 2);
});

test('setAuthorizeUser replaces and removes the hook; rejects non-functions', async () => {
  const v = make(() => false);
  const token = issuer.mintUser();
  await rejectsWith(v.verify(token), 'ERR_ACCESS_DENIED', 403);
  v.setAuthorizeUser((claims) => claims.sub === 'auth0|test-user');
  await v.verify(token);
  v.setAuthorizeUser(null);
  await v.verify(token);
  assert.throws(() => v.setAuthorizeUser('nope'), (e) => e.code === 'ERR_INVALID_OPTIONS');
});

test('a hook may call verify re-entrantly', async () => {
  const inner = make(undefined);
  const token = issuer.mintUser();
  const v = make(async (claims) => (await inner.verify(token)).sub === claims.sub);
  await v.verify(token);
});

test('many concurrent verifies with an async hook all settle', async () => {
  const v = make(async (claims) => claims.sub !== 'deny', { tokenCacheSize: 0 });
  const tokens = Array.from({ length: 500 }, (_, i) => issuer.mintUser({ sub: i % 5 === 0 ? 'deny' : `u${i}` }));
  const results = await Promise.allSettled(tokens.map((t) => v.verify(t)));
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 400);
  assert.ok(results.filter((r) => r.status === 'rejected').every((r) => r.reason.code === 'ERR_ACCESS_DENIED'));
});
