// How verify() results come back to the JS thread: finished results wait for the
// verifications still running, so one wake-up settles many (src/binding/wake.rs, where
// the rule itself is unit-tested, other verifiers on the shared pool included).
// These tests hold the rule to its promises: it batches, every result still settles at
// any number in flight, and no result waits for a verification parked on a JWKS fetch.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Auth0Verifier, rejectsWith, withIssuer } from './helpers.mjs';

/** Runs `lanes` async lanes, each verifying its share of `tokens` one after another. */
async function inLanes(lanes, tokens, verifyOne) {
  let next = 0;
  const lane = async () => {
    while (next < tokens.length) {
      const i = next++;
      await verifyOne(tokens[i], i);
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

test('every result settles with its own answer, at any number in flight', { timeout: 60_000 }, () =>
  withIssuer(async (issuer) => {
    // Cooldown 0: every unknown kid below refetches the JWKS, so jobs park on I/O mid-batch.
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0, jwksCooldown: 0 });
    const expected = (i) => (i % 5 === 4 ? 'ERR_SIGNATURE_INVALID' : i % 7 === 6 ? 'ERR_KEY_NOT_FOUND' : `user-${i}`);
    const tokens = Array.from({ length: 240 }, (_, i) => {
      const token = issuer.mintUser({ sub: `user-${i}` });
      if (expected(i) === 'ERR_SIGNATURE_INVALID') return token.slice(0, token.lastIndexOf('.') + 1) + issuer.mintUser().split('.')[2];
      if (expected(i) === 'ERR_KEY_NOT_FOUND') return issuer.mint({ sub: `user-${i}` }, { kid: `unknown-${i}` });
      return token;
    });
    for (const lanes of [1, 2, 3, 5, 17, 33, 64, 240]) {
      let settled = 0;
      await inLanes(lanes, tokens, async (token, i) => {
        if (expected(i).startsWith('ERR_')) {
          await rejectsWith(verifier.verify(token), expected(i));
        } else {
          assert.equal((await verifier.verify(token)).sub, expected(i));
        }
        settled++;
      });
      assert.equal(settled, tokens.length, `${lanes} lanes`);
    }
  }));

test('with many in flight, one wake-up of the JS thread settles many results', { timeout: 60_000 }, () =>
  withIssuer(async (issuer) => {
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
    const tokens = Array.from({ length: 640 }, (_, i) => issuer.mintUser({ sub: `user-${i}` }));
    await verifier.verify(tokens[0]); // keys loaded: no verification below waits on I/O
    // Results of one wake-up settle in one event-loop turn; count the turns they settle in.
    // (The setImmediate loop keeps the loop polling, so the JS thread never sleeps here and
    // would take whatever few results are ready at each turn if nothing held them back.)
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const turns = new Set();
    try {
      await inLanes(64, tokens, async (token) => {
        await verifier.verify(token);
        turns.add(turn);
      });
    } finally {
      ticking = false;
    }
    // 64 in flight: a wake-up waits for 32 results (see MAX_HELD), so about 20 turns.
    assert.ok(turns.size <= tokens.length / 16, `${tokens.length} results settled in ${turns.size} event-loop turns`);
  }));

test('no result waits for verifications parked on a slow JWKS fetch', { timeout: 30_000 }, () =>
  withIssuer(async (issuer) => {
    issuer.setFault({ kind: 'slow', delayMs: 2_000 });
    const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), jwksTimeout: 10_000 });
    const tokens = Array.from({ length: 8 }, (_, i) => issuer.mintUser({ sub: `user-${i}` }));
    const started = Date.now();
    // Cold start: all eight wait on the one JWKS fetch, which answers 2 s late.
    const waiting = Promise.all(tokens.map((t) => verifier.verify(t)));
    // Refused on the pool before any key is needed: must not wait for the eight.
    await rejectsWith(verifier.verify('not-a.jwt.token'), 'ERR_TOKEN_MALFORMED');
    const refusedAfter = Date.now() - started;
    assert.ok(refusedAfter < 1_000, `the refusal took ${refusedAfter} ms`);
    const claims = await waiting;
    assert.deepEqual(claims.map((c) => c.sub), tokens.map((_, i) => `user-${i}`));
    assert.ok(Date.now() - started >= 1_900, 'the slow fault was not applied');
    assert.equal(issuer.jwksRequests, 1);
  }));
