// The claims object a verify resolves to must be exactly what JSON.parse of the payload
// gives: same members in the same order (integer-like keys first, as JSON.parse orders them),
// same values (-0, rounding of long numbers, escapes, non-ASCII), own `__proto__` members,
// plain Object.prototype, and fresh objects and arrays on every call. Misses build claims
// from compiled payload shapes (src/binding/claims_plan.rs, claims_builder.rs) from the
// second token of a shape on; hits copy a template. Each case runs several tokens of one
// shape through every path and compares each result with JSON.parse.
import test from 'node:test';
import assert from 'node:assert/strict';
import { Auth0Verifier, startLocalIssuer } from './helpers.mjs';

/** Deep comparison that also checks key order, -0, prototypes and property attributes. */
function assertSameAsJsonParse(actual, expected, path = '$') {
  if (typeof expected !== 'object' || expected === null) {
    assert.ok(Object.is(actual, expected), `${path}: ${String(actual)} !== ${String(expected)}`);
    return;
  }
  assert.equal(typeof actual, 'object', `${path}: not an object`);
  assert.notEqual(actual, null, `${path}: null`);
  assert.equal(Array.isArray(actual), Array.isArray(expected), `${path}: array-ness`);
  assert.equal(Object.getPrototypeOf(actual), Object.getPrototypeOf(expected), `${path}: prototype`);
  assert.deepEqual(Reflect.ownKeys(actual), Reflect.ownKeys(expected), `${path}: keys or their order`);
  for (const key of Reflect.ownKeys(expected)) {
    const a = Object.getOwnPropertyDescriptor(actual, key);
    const e = Object.getOwnPropertyDescriptor(expected, key);
    assert.deepEqual(
      [a.writable, a.enumerable, a.configurable, 'get' in a],
      [e.writable, e.enumerable, e.configurable, 'get' in e],
      `${path}.${String(key)}: attributes`,
    );
    assertSameAsJsonParse(a.value, e.value, `${path}.${String(key)}`);
  }
}

const payloadOf = (token) => Buffer.from(token.split('.')[1], 'base64url').toString('utf8');

let issuer;
test.before(async () => {
  issuer = await startLocalIssuer();
});
test.after(() => issuer.close());

/** Raw payload texts: `make(i)` varies per token but keeps the shape (unless the case says otherwise). */
function cases() {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const base = (i) => `"iss":"${issuer.issuer}","aud":"${issuer.audience}","exp":${exp + i}`;
  const many = (n, i) => Array.from({ length: n }, (_, k) => `"perm:${k}:${i % 2}"`).join(',');
  const nest = (depth, i) => `${'{"a":'.repeat(depth)}${i}${'}'.repeat(depth)}`;
  return {
    'Auth0 access token': (i) => payloadOf(issuer.mintUser({ sub: `auth0|user-${i}`, permissions: ['read:a', 'write:b'], claims: { 'https://example.com/roles': ['admin'] } })),
    'integer-like keys': (i) => `{${base(i)},"10":"a${i}","2":"b","x":1,"1":"c","4294967295":"big","-1":"neg","01":"lead"}`,
    'own __proto__ member': (i) => `{${base(i)},"__proto__":{"admin":true,"n":${i}},"sub":"u${i}"}`,
    'nested __proto__ member': (i) => `{${base(i)},"meta":{"x":[{"__proto__":[${i}]}]}}`,
    '"__proto__" as a value': (i) => `{${base(i)},"sub":"__proto__","v":["__proto__",${i}]}`,
    'escapes in strings': (i) => `{${base(i)},"name":"a\\"b\\\\c\\u00e9\\n\\t\\/${i}","k\\u0065y":"v","\\ud83d\\ude00":1}`,
    'non-ASCII text': (i) => `{${base(i)},"név":"Zoë € 😀 ${i}","ключ":["значение","\u2028"]}`,
    'numbers': (i) => `{${base(i)},"n":[-0,0,-0.0,0.1,1e21,1e-7,9007199254740993,1E+2,-1.5e-300,123456789012345678901234567890,${i}.5]}`,
    'literals and empty containers': (i) => `{${base(i)},"e":{},"f":[],"g":[[],{},[[]]],"t":true,"fa":false,"nu":null,"i":${i}}`,
    'nesting within the limit': (i) => `{${base(i)},"deep":${nest(20, i)}}`,
    'nesting beyond the limit': (i) => `{${base(i)},"deep":${nest(40, i)}}`,
    '200 leaves': (i) => `{${base(i)},"permissions":[${many(200, i)}]}`,
    '300 leaves': (i) => `{${base(i)},"permissions":[${many(300, i)}]}`,
    'a leaf changing kind in place': (i) => `{${base(i)},"v":${i % 2 ? `"s${i}"` : i}}`,
    'pretty-printed': (i) => JSON.stringify(JSON.parse(`{${base(i)},"sub":"u${i}","aud2":["a","b"],"o":{"k":[1,{"z":null}]}}`), null, 2),
    'a shape seen once between others': (i) => (i === 2 ? `{${base(i)},"only":"once"}` : `{${base(i)},"sub":"s${i}"}`),
  };
}

for (const [name, make] of Object.entries(cases())) {
  test(`claims equal JSON.parse of the payload: ${name}`, async () => {
    const uncached = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
    const cached = new Auth0Verifier(issuer.verifierOptions());
    for (let i = 0; i < 6; i++) {
      const payload = make(i);
      const token = issuer.mint({}, { rawPayload: payload });
      const expected = JSON.parse(payload);
      // Misses: the first token of a shape is parsed, later ones come from its compiled shape.
      assertSameAsJsonParse(await uncached.verify(token), expected);
      // The cache: a miss, then hits from the template (verify and verifyCached).
      assertSameAsJsonParse(await cached.verify(token), expected);
      assertSameAsJsonParse(await cached.verify(token), expected);
      assertSameAsJsonParse(cached.verifyCached(token), expected);
    }
  });
}

/** A small seeded PRNG (mulberry32), so a failing random case can be replayed. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const KEYS = ['sub', 'a', '0', '7', '42', '__proto__', 'ünï', 'k\\"q', 'https://x.example/c', 'constructor', 'toString', ''];
const STRINGS = ['', 'x', 'Zoë', '\\u00e9', 'a\\"b', '__proto__', '😀', 'line\\nbreak', 'https://t.example/'];
const NUMBERS = ['0', '-0', '1', '-17', '0.5', '1e21', '1E-7', '9007199254740993', '3.14159'];

/** A random payload shape: `(variant) => JSON text`; variants differ only in leaf values. */
function randomShape(rng, depth = 0) {
  const pick = (list) => list[Math.floor(rng() * list.length)];
  const r = rng();
  if (depth < 4 && r < 0.25) {
    const keys = [...new Set(Array.from({ length: Math.floor(rng() * 5) }, () => pick(KEYS)))];
    const members = keys.map((k) => [k, randomShape(rng, depth + 1)]);
    return (v) => `{${members.map(([k, f]) => `"${k}":${f(v)}`).join(',')}}`;
  }
  if (depth < 4 && r < 0.4) {
    const items = Array.from({ length: Math.floor(rng() * 4) }, () => randomShape(rng, depth + 1));
    return (v) => `[${items.map((f) => f(v)).join(',')}]`;
  }
  if (r < 0.65) {
    const base = pick(STRINGS);
    return (v) => `"${base}${v}"`;
  }
  if (r < 0.9) {
    const base = pick(NUMBERS);
    return (v) => (v === 0 ? base : `${v}${base.replace(/^-?\d+/, '')}`);
  }
  const literal = pick(['true', 'false', 'null']);
  return () => literal;
}

test('random payload shapes: claims equal JSON.parse on every path', async () => {
  const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const rng = prng(20261123);
  for (let n = 0; n < 40; n++) {
    const members = Array.from({ length: 1 + Math.floor(rng() * 6) }, (_, i) => [`${KEYS[Math.floor(rng() * KEYS.length)]}${i}`, randomShape(rng)]);
    for (let v = 0; v < 3; v++) {
      const extra = members.map(([k, f]) => `,"${k}":${f(v)}`).join('');
      const payload = `{"iss":"${issuer.issuer}","aud":"${issuer.audience}","exp":${exp}${extra}}`;
      const expected = JSON.parse(payload);
      const claims = await verifier.verify(issuer.mint({}, { rawPayload: payload })).catch((e) => e);
      assert.ok(!(claims instanceof Error), `${payload}: ${claims.message}`);
      assertSameAsJsonParse(claims, expected);
    }
  }
});

test('every verify returns its own objects and arrays: mutating one changes no later result', async () => {
  const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  const token = (i) => issuer.mintUser({ sub: `user-${i}`, permissions: ['read:a'], claims: { org: { id: 'o1', tags: ['x'] } } });
  const results = [];
  for (let i = 0; i < 5; i++) {
    const claims = await verifier.verify(token(i));
    results.push(claims);
    claims.permissions.push('forged');
    claims.org.tags.push('forged');
    claims.org.id = 'forged';
    claims.aud.length = 0;
    claims.extra = true;
  }
  const fresh = await verifier.verify(token(9));
  assert.deepEqual(fresh.permissions, ['read:a']);
  assert.deepEqual(fresh.org, { id: 'o1', tags: ['x'] });
  assert.equal(fresh.aud.length, 2);
  assert.equal('extra' in fresh, false);
  for (let i = 1; i < results.length; i++) {
    assert.notEqual(results[i], results[i - 1]);
    assert.notEqual(results[i].permissions, results[i - 1].permissions);
    assert.notEqual(results[i].org, results[i - 1].org);
  }
});

// A compiled builder keeps each leaf's last value and is passed only the leaves that changed
// (claims_plan::builder_source): every change must show, in any order, alone or together,
// whether the results settle one at a time or many in one batch.
test('leaves repeating from the previous token of a shape are kept; every changed leaf shows', async () => {
  const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const rng = prng(20261202);
  const pick = (values) => values[Math.floor(rng() * values.length)];
  const payload = () =>
    `{"iss":"${issuer.issuer}","aud":["${issuer.audience}","${pick(['a', 'b'])}"],"exp":${exp},` +
    `"sub":"${pick(['u1', 'u2', 'u1x', ''])}","n":${pick(['0', '-0', '1', '1.0', '-0.0'])},"m":[${pick(['7', '8'])},"${pick(['p', 'q'])}"]}`;
  for (let i = 0; i < 60; i++) {
    const text = payload();
    assertSameAsJsonParse(await verifier.verify(issuer.mint({}, { rawPayload: text })), JSON.parse(text));
  }
  for (let round = 0; round < 4; round++) {
    const texts = Array.from({ length: 48 }, payload);
    const results = await Promise.all(texts.map((text) => verifier.verify(issuer.mint({}, { rawPayload: text }))));
    results.forEach((claims, i) => assertSameAsJsonParse(claims, JSON.parse(texts[i])));
  }
});

test('many shapes: past the compiled-shape bound, payloads still come out exactly right', async () => {
  const verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  const exp = Math.floor(Date.now() / 1000) + 3600;
  for (let shape = 0; shape < 90; shape++) {
    for (let i = 0; i < 3; i++) {
      const payload = `{"iss":"${issuer.issuer}","aud":"${issuer.audience}","exp":${exp},"claim${shape}":"v${i}","n":${i}}`;
      assertSameAsJsonParse(await verifier.verify(issuer.mint({}, { rawPayload: payload })), JSON.parse(payload));
    }
  }
});

test('the authorizeUser hook gets the built claims object, and what it resolves to is that object', async () => {
  const seen = [];
  const verifier = new Auth0Verifier({
    ...issuer.verifierOptions(),
    tokenCacheSize: 0,
    authorizeUser: (user) => {
      seen.push(user);
      return user.sub !== 'denied';
    },
  });
  for (let i = 0; i < 4; i++) {
    const token = issuer.mintUser({ sub: `user-${i}` });
    const claims = await verifier.verify(token);
    assert.equal(claims, seen.at(-1));
    assertSameAsJsonParse(claims, JSON.parse(payloadOf(token)));
  }
  await assert.rejects(verifier.verify(issuer.mintUser({ sub: 'denied' })), { code: 'ERR_ACCESS_DENIED' });
});

/**
 * Counts the verifier's own JSON.parse calls: a verifier takes `JSON.parse` when it is
 * constructed, so a wrapper installed around construction sees exactly its parses.
 */
function countingParses(options) {
  const original = JSON.parse;
  const counter = { parses: 0 };
  JSON.parse = function countedParse(...args) {
    counter.parses++;
    return original.apply(this, args);
  };
  try {
    counter.verifier = new Auth0Verifier(options);
  } finally {
    JSON.parse = original;
  }
  return counter;
}

test('a payload shape is parsed on its first two tokens, then built without JSON.parse', async () => {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const counter = countingParses({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  // Leading and inner line breaks included: the builder must not return undefined for them.
  const shapes = [
    (i) => `{"iss":"${issuer.issuer}","aud":"${issuer.audience}","exp":${exp},"sub":"u${i}"}`,
    (i) => `\n{"iss":"${issuer.issuer}",\r\n"aud":"${issuer.audience}","exp":${exp},"sub":"u${i}"}`,
    (i) => `\r\n {"iss":"${issuer.issuer}","aud":["${issuer.audience}"],"exp":${exp + i}}\n`,
  ];
  for (const make of shapes) {
    const before = counter.parses;
    for (let i = 0; i < 5; i++) {
      const payload = make(i);
      assertSameAsJsonParse(await counter.verifier.verify(issuer.mint({}, { rawPayload: payload })), JSON.parse(payload));
    }
    // First sighting parses; the second compiles the shape (and parses once more on the way).
    assert.ok(counter.parses - before <= 2, `${JSON.stringify(make(0))}: ${counter.parses - before} parses for 5 tokens`);
  }
});

test('payloads a literal cannot express go through JSON.parse every time', async () => {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const counter = countingParses({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  const base = `"iss":"${issuer.issuer}","aud":"${issuer.audience}","exp":${exp}`;
  for (const make of [(i) => `{${base},"__proto__":{"n":${i}}}`, (i) => `{${base},"s":"a\\"${i}"}`]) {
    const before = counter.parses;
    for (let i = 0; i < 4; i++) {
      const payload = make(i);
      assertSameAsJsonParse(await counter.verifier.verify(issuer.mint({}, { rawPayload: payload })), JSON.parse(payload));
    }
    assert.equal(counter.parses - before, 4);
  }
});

test('cache hits return their own objects too: mutating one hit changes no later hit', async () => {
  const verifier = new Auth0Verifier(issuer.verifierOptions());
  const token = issuer.mintUser({ permissions: ['read:a'], claims: { org: { id: 'o1', tags: ['x'] } } });
  const expected = JSON.parse(payloadOf(token));
  const seen = [];
  for (let i = 0; i < 6; i++) {
    // A miss, then hits: the first hit makes the template, later ones copy it by its shape.
    const claims = i % 2 ? verifier.verifyCached(token) : await verifier.verify(token);
    assertSameAsJsonParse(claims, expected);
    assert.ok(!seen.includes(claims) && !seen.some((s) => s.org === claims.org || s.aud === claims.aud));
    seen.push(claims);
    claims.permissions.push('forged');
    claims.org.tags.push('forged');
    claims.org.id = 'forged';
    claims.aud.length = 0;
  }
  assert.ok(verifier.stats().cacheHits >= 5);
});

test('a replaced JSON.parse that calls verify() while the claims are parsed is re-entrant', async () => {
  const original = JSON.parse;
  let verifier;
  const inner = [];
  // An app (or instrumentation) wrapping JSON.parse before the verifier is created: the
  // verifier uses that wrapper for first-sighting payloads, so app code runs mid-settle.
  JSON.parse = function wrappedParse(...args) {
    if (verifier && inner.length < 3) inner.push(verifier.verify(issuer.mintUser({ sub: `inner-${inner.length}` })));
    return original.apply(this, args);
  };
  try {
    verifier = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  } finally {
    JSON.parse = original;
  }
  const outer = await verifier.verify(issuer.mintUser({ sub: 'outer' }));
  assert.equal(outer.sub, 'outer');
  assert.ok(inner.length >= 1, 'the wrapper ran during a settle');
  const settled = await Promise.allSettled(inner);
  assert.deepEqual(settled.map((r) => r.status), inner.map(() => 'fulfilled'), JSON.stringify(settled.map((r) => r.reason?.code)));
});
