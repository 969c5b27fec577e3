// verifyCached(): the synchronous cache-hit path. It may only ever answer what a fresh
// verify() would answer right now, and otherwise say "ask verify()" (null) without
// throwing, counting or caching anything.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { Auth0Verifier, startLocalIssuer, rejectsWith, sleep } from './helpers.mjs';

let issuer;
before(async () => {
  issuer = await startLocalIssuer();
});
after(() => issuer.close());

const make = (options = {}) => new Auth0Verifier({ ...issuer.verifierOptions(), ...options });
const nowSec = () => Math.floor(Date.now() / 1000);

test('null until verify() accepted the token, then the same claims as verify(), synchronously', async () => {
  const v = make();
  const token = issuer.mintUser({ scope: 'read:a', claims: { 'https://example.com/roles': ['admin'] } });
  assert.equal(v.verifyCached(token), null);
  const verified = await v.verify(token);
  const cached = v.verifyCached(token);
  assert.deepEqual(cached, verified);
  assert.equal(cached.sub, 'auth0|test-user');
  assert.deepEqual(cached['https://example.com/roles'], ['admin']);
});

test('each hit is a fresh object: mutating one answer does not change the next', async () => {
  const v = make();
  const token = issuer.mintUser({ permissions: ['read:a'] });
  await v.verify(token);
  const first = v.verifyCached(token);
  first.sub = 'mutated';
  first.permissions.push('write:everything');
  const second = v.verifyCached(token);
  assert.notEqual(second, first);
  assert.equal(second.sub, 'auth0|test-user');
  assert.deepEqual(second.permissions, ['read:a']);
});

test('stats: a hit counts as a verify and a cache hit; null counts nothing', async () => {
  const v = make();
  const token = issuer.mintUser();
  v.verifyCached(token);
  v.verifyCached(42);
  assert.deepEqual([v.stats().verifies, v.stats().cacheHits, v.stats().cacheMisses], [0, 0, 0]);
  await v.verify(token);
  v.verifyCached(token);
  v.verifyCached(token);
  const s = v.stats();
  assert.deepEqual([s.verifies, s.succeeded, s.cacheHits, s.cacheMisses, s.failed], [3, 3, 2, 1, 0]);
});

test('never throws: any input that is not a cached token is null', async () => {
  const v = make();
  const token = issuer.mintUser();
  await v.verify(token);
  for (const input of [undefined, null, 42, {}, [token], Symbol('t'), '', 'abc.def.ghi', token + 'x', token.slice(1), ' ' + token, 'x'.repeat(1_000_000)]) {
    assert.equal(v.verifyCached(input), null, typeof input === 'string' ? `string of ${input.length}` : String(typeof input));
  }
  assert.equal(v.verifyCached(), null);
});

test('a string whose characters only share their low bytes with a cached token is not that token', async () => {
  const v = make();
  const token = issuer.mintUser();
  await v.verify(token);
  // 'e' is 0x65; U+0165 has the same low byte. A Latin-1 copy would alias the two.
  assert.equal(token[0], 'e');
  assert.equal(v.verifyCached('\u0165' + token.slice(1)), null);
  assert.equal(v.verifyCached(token + '\u0100'), null);
  assert.notEqual(v.verifyCached(token), null);
});

test('a cached token followed by a character that does not fit the copy buffer is not that token', async () => {
  // The native side copies short strings into a 2 KB buffer; a multi-byte character that
  // does not fit must not be silently dropped, turning `<token>€` into `<token>`.
  const v = make();
  let checked = 0;
  for (let pad = 960; pad < 1000 && checked < 3; pad++) {
    const token = issuer.mintUser({ claims: { p: 'x'.repeat(pad) } });
    if (token.length < 2044 || token.length > 2047) continue;
    checked++;
    await v.verify(token);
    assert.notEqual(v.verifyCached(token), null);
    for (const tail of ['€', 'é', '\u{1F600}', ' €']) assert.equal(v.verifyCached(token + tail), null, `${token.length} + ${tail}`);
  }
  assert.ok(checked > 0, 'no token of 2044-2047 characters minted');
});

test('tokens longer than the stack buffer are looked up too', async () => {
  const v = make();
  const token = issuer.mintUser({ claims: { padding: 'p'.repeat(3000) } });
  assert.ok(token.length > 4096);
  await v.verify(token);
  assert.equal(v.verifyCached(token).padding.length, 3000);
  assert.equal(v.verifyCached(token.slice(0, -1)), null);
});

test('failures are never cached', async () => {
  const v = make();
  const token = issuer.mint({ aud: 'https://other.example' });
  await rejectsWith(v.verify(token), 'ERR_AUDIENCE_INVALID');
  assert.equal(v.verifyCached(token), null);
});

test('tokenCacheSize 0: always null', async () => {
  const v = make({ tokenCacheSize: 0 });
  const token = issuer.mintUser();
  await v.verify(token);
  assert.equal(v.verifyCached(token), null);
});

test('with an authorizeUser hook set: always null, so the hook runs through verify()', async () => {
  const calls = [];
  const v = make({ authorizeUser: (claims) => (calls.push(claims.sub), true) });
  const token = issuer.mintUser();
  await v.verify(token);
  assert.equal(v.verifyCached(token), null);
  await v.verify(token); // a cache hit, and the hook still runs
  assert.equal(calls.length, 2);
  v.setAuthorizeUser(null);
  assert.equal(v.verifyCached(token).sub, 'auth0|test-user');
  v.setAuthorizeUser(() => false);
  assert.equal(v.verifyCached(token), null);
  await rejectsWith(v.verify(token), 'ERR_ACCESS_DENIED', 403);
});

test('null once the token expires (same clock rule as verify)', async () => {
  const v = make({ clockTolerance: 0 });
  const exp = nowSec() + 2;
  const token = issuer.mint({ exp, sub: 'short-lived' });
  await v.verify(token);
  assert.equal(v.verifyCached(token).sub, 'short-lived');
  await sleep(Math.max(0, exp * 1000 - Date.now()) + 50);
  assert.equal(v.verifyCached(token), null);
  await rejectsWith(v.verify(token), 'ERR_TOKEN_EXPIRED');
});

test('null once the JWKS is due for a refresh, and after a refresh removed the key', async () => {
  const fresh = await startLocalIssuer();
  try {
    const v = new Auth0Verifier({ ...fresh.verifierOptions(), jwksCacheMaxAge: 50, jwksCooldown: 0 });
    const oldKid = fresh.currentKid;
    const token = fresh.mint({ sub: 'rotating' });
    await v.verify(token);
    assert.equal(v.verifyCached(token).sub, 'rotating');
    fresh.rotate();
    fresh.removeKey(oldKid);
    await sleep(120);
    // Stale keys: only the full path (which refreshes) may answer.
    assert.equal(v.verifyCached(token), null);
    await v.verify(token).catch(() => {});
    const deadline = Date.now() + 2000;
    let outcome;
    while (Date.now() < deadline) {
      outcome = await v.verify(token).then(() => 'accepted', (e) => e.code);
      if (outcome === 'ERR_KEY_NOT_FOUND') break;
      await sleep(20);
    }
    assert.equal(outcome, 'ERR_KEY_NOT_FOUND');
    assert.equal(v.verifyCached(token), null);
  } finally {
    await fresh.close();
  }
});

test('the cache is per verifier', async () => {
  const a = make();
  const b = make({ audience: 'https://other.example' });
  const token = issuer.mintUser();
  await a.verify(token);
  assert.notEqual(a.verifyCached(token), null);
  assert.equal(b.verifyCached(token), null);
});

test('repeat hits copy a kept parse: deep-fresh, same members in the same order, own __proto__ kept as data', async () => {
  const v = make();
  const exp = nowSec() + 600;
  const payload = `{"iss":${JSON.stringify(issuer.issuer)},"aud":[${JSON.stringify(issuer.audience)},"x"],"exp":${exp},"sub":"auth0|ü-✓",` +
    `"__proto__":{"admin":true,"__proto__":{"deep":[1,{"polluted":true}]}},"2":"int-like key","n":[1.5,-0,1e21,null,true,false,[],{}],` +
    `"nested":{"a":{"b":{"c":["d"]}}},"constructor":{"prototype":{"polluted":true}}}`;
  const token = issuer.mint({}, { rawPayload: payload });
  const first = await v.verify(token);
  const reference = JSON.stringify(first);
  const answers = [];
  for (let i = 0; i < 4; i++) answers.push(v.verifyCached(token), await v.verify(token));
  for (const claims of answers) {
    assert.equal(JSON.stringify(claims), reference, 'same members, same order, same values');
    assert.equal(Object.getPrototypeOf(claims), Object.prototype);
    assert.ok(Object.hasOwn(claims, '__proto__'));
    assert.equal(claims.admin, undefined);
    assert.ok(Object.hasOwn(claims.__proto__, '__proto__'));
    assert.equal(Object.getPrototypeOf(claims.__proto__), Object.prototype);
    assert.equal(claims.__proto__.deep, undefined);
    assert.ok(Object.is(claims.n[1], -0));
  }
  assert.equal({}.admin, undefined);
  assert.equal({}.polluted, undefined);
  assert.equal([].deep, undefined);
  // Every answer is its own object graph, however deep.
  answers[0].nested.a.b.c.push('mutated');
  answers[0].__proto__.__proto__.deep[1].polluted = false;
  answers[0].n[6].push(1);
  for (const claims of [...answers.slice(1), v.verifyCached(token), await v.verify(token)]) {
    assert.equal(JSON.stringify(claims), reference);
  }
  assert.equal(new Set(answers.map((c) => c.nested.a.b.c)).size, answers.length);
});

test('many hot tokens, entries evicted and re-verified: every hit answers its own claims', async () => {
  const tokens = Array.from({ length: 600 }, (_, i) => issuer.mintUser({ sub: `auth0|hot-${i}`, claims: { i } }));
  for (const tokenCacheSize of [10000, 16]) {
    const v = make({ tokenCacheSize });
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < tokens.length; i += round + 1) {
        // A miss verifies (and caches); the hits after it copy a kept parse of that entry.
        const claims = v.verifyCached(tokens[i]) ?? (await v.verify(tokens[i]));
        const again = round % 2 ? await v.verify(tokens[i]) : v.verifyCached(tokens[i]);
        for (const c of [claims, again]) {
          assert.equal(c.sub, `auth0|hot-${i}`, `cache ${tokenCacheSize}`);
          assert.equal(c.i, i);
        }
      }
    }
    assert.ok(v.stats().cacheSize <= tokenCacheSize);
  }
});

test('a forged token with a cached token\'s length and signature is not served from the cache', async () => {
  const v = make({ tokenCacheSize: 100 });
  const token = issuer.mintUser({ sub: 'auth0|victim-0' });
  await v.verify(token);
  // Same length, same signature (the cache fingerprints a token by its length and tail),
  // another payload: it shares the cached entry's fingerprint, so only the full comparison
  // keeps the victim's claims from being answered for it.
  const [header, payload, signature] = token.split('.');
  const claims = JSON.parse(Buffer.from(payload, 'base64url'));
  const forgedPayload = Buffer.from(JSON.stringify({ ...claims, sub: 'auth0|victim-1' })).toString('base64url');
  assert.equal(forgedPayload.length, payload.length);
  const forged = `${header}.${forgedPayload}.${signature}`;
  assert.equal(v.verifyCached(forged), null);
  await rejectsWith(v.verify(forged), 'ERR_SIGNATURE_INVALID');
  // And the real entry is untouched by the forged lookups.
  const hitsBefore = v.stats().cacheHits;
  assert.equal(v.verifyCached(token).sub, 'auth0|victim-0');
  assert.equal((await v.verify(token)).sub, 'auth0|victim-0');
  assert.equal(v.stats().cacheHits, hitsBefore + 2);
});
