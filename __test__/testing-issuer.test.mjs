// Tests of the testing issuer itself (`@example/auth0-native/testing`), checked with node:crypto
// and the served JWKS only: the native verifier is not involved here.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { constants, createHmac, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { request as httpRequest, Agent } from 'node:http';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startLocalIssuer, generateForeignKey } from '../dist/testing/index.js';

const decode = (segment) => JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
const parts = (token) => {
  const [h, p, s] = token.split('.');
  return { header: decode(h), payload: decode(p), input: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
};
const now = () => Math.floor(Date.now() / 1000);

/** GET a path with a fresh connection; resolves { status, headers, body } or rejects on socket errors. */
function get(issuer, path = '/.well-known/jwks.json', { method = 'GET', agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, issuer.issuer), { method, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function servedKeys(issuer) {
  const res = await get(issuer);
  assert.equal(res.status, 200);
  return JSON.parse(res.body).keys;
}

/** Verify a token's signature against the JWKS the issuer serves, the way a verifier would. */
async function verifiesAgainstJwks(issuer, token) {
  const { header, input, signature } = parts(token);
  const jwk = (await servedKeys(issuer)).find((k) => k.kid === header.kid);
  if (!jwk) return false;
  return verifyWithJwk(jwk, header.alg, input, signature);
}

function verifyWithJwk(jwk, alg, input, signature) {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  const data = Buffer.from(input);
  const digest = `sha${alg.slice(2)}`;
  if (alg.startsWith('PS')) {
    return cryptoVerify(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
  }
  if (alg.startsWith('ES')) return cryptoVerify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  if (alg === 'EdDSA') return cryptoVerify(null, data, key, signature);
  return cryptoVerify(digest, data, key, signature);
}

describe('startLocalIssuer', () => {
  let issuer;
  before(async () => { issuer = await startLocalIssuer(); });
  after(() => issuer.close());

  test('addresses look like an Auth0 tenant on 127.0.0.1', () => {
    assert.match(issuer.issuer, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(issuer.domain, issuer.issuer.slice('http://'.length, -1));
    assert.equal(issuer.jwksUri, `${issuer.issuer}.well-known/jwks.json`);
    assert.equal(issuer.audience, 'https://api.example.test');
    assert.deepEqual(issuer.verifierOptions(), { issuer: issuer.issuer, jwksUri: issuer.jwksUri, audience: issuer.audience });
  });

  test('serves a public RS256 JWKS, the same as jwks()', async () => {
    const res = await get(issuer);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(res.headers['cache-control'], undefined);
    const { keys } = JSON.parse(res.body);
    assert.equal(keys.length, 1);
    assert.deepEqual(Object.keys(keys[0]), ['kty', 'use', 'alg', 'kid', 'n', 'e']);
    assert.equal(keys[0].kty, 'RSA');
    assert.equal(keys[0].use, 'sig');
    assert.equal(keys[0].alg, 'RS256');
    assert.equal(keys[0].kid, issuer.currentKid);
    assert.equal(createPublicKey({ key: keys[0], format: 'jwk' }).asymmetricKeyDetails.modulusLength, 2048);
    assert.deepEqual({ keys }, issuer.jwks());
  });

  test('404 elsewhere, 405 for other methods, neither counted', async () => {
    const before = issuer.jwksRequests;
    assert.equal((await get(issuer, '/nope')).status, 404);
    assert.equal((await get(issuer, '/.well-known/jwks.json', { method: 'POST' })).status, 405);
    assert.equal(issuer.jwksRequests, before);
    const discovery = JSON.parse((await get(issuer, '/.well-known/openid-configuration')).body);
    assert.deepEqual(discovery, { issuer: issuer.issuer, jwks_uri: issuer.jwksUri });
  });

  test('jwksRequests counts JWKS GETs', async () => {
    const before = issuer.jwksRequests;
    await get(issuer);
    await get(issuer, '/.well-known/jwks.json?x=1');
    assert.equal(issuer.jwksRequests, before + 2);
  });

  test('rejects bad options', async () => {
    await assert.rejects(startLocalIssuer({ keyCount: 0 }), TypeError);
    await assert.rejects(startLocalIssuer({ port: -1 }), TypeError);
    await assert.rejects(startLocalIssuer({ audience: '' }), TypeError);
  });

  test('keyCount publishes that many keys; the first one signs', async () => {
    const two = await startLocalIssuer({ keyCount: 2, audience: 'urn:other' });
    try {
      const keys = await servedKeys(two);
      assert.equal(keys.length, 2);
      assert.equal(keys[0].kid, two.currentKid);
      assert.notEqual(keys[0].kid, keys[1].kid);
      assert.equal(parts(two.mint()).payload.aud, 'urn:other');
      two.useKey(keys[1].kid);
      const token = two.mint();
      assert.equal(parts(token).header.kid, keys[1].kid);
      assert.ok(await verifiesAgainstJwks(two, token));
    } finally {
      await two.close();
    }
  });
});

describe('minting', () => {
  let issuer;
  before(async () => { issuer = await startLocalIssuer(); });
  after(() => issuer.close());

  test('mint() defaults: Auth0 header and registered claims, signature verifies against the JWKS', async () => {
    const t0 = now();
    const token = issuer.mint();
    const { header, payload } = parts(token);
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: issuer.currentKid });
    assert.deepEqual(Object.keys(payload), ['iss', 'sub', 'aud', 'iat', 'exp']);
    assert.equal(payload.iss, issuer.issuer);
    assert.equal(payload.sub, 'auth0|test-user');
    assert.equal(payload.aud, issuer.audience);
    assert.ok(payload.iat >= t0 && payload.iat <= now());
    assert.equal(payload.exp, payload.iat + 3600);
    assert.ok(await verifiesAgainstJwks(issuer, token));
  });

  test('claims override and undefined omits; expiresIn; kid null omits kid; header merges', () => {
    const { payload } = parts(issuer.mint({ sub: 'x', exp: undefined, iat: undefined, extra: null }, { expiresIn: 10 }));
    assert.deepEqual(payload, { iss: issuer.issuer, sub: 'x', aud: issuer.audience, extra: null });
    const short = parts(issuer.mint({}, { expiresIn: -30 })).payload;
    assert.equal(short.exp, short.iat - 30);
    assert.equal('kid' in parts(issuer.mint({}, { kid: null })).header, false);
    assert.deepEqual(parts(issuer.mint({}, { header: { typ: 'at+jwt', crit: ['x'], kid: undefined } })).header, { alg: 'RS256', typ: 'at+jwt', crit: ['x'] });
    assert.throws(() => issuer.mint({}, { expiresIn: NaN }), TypeError);
  });

  test('mintUser: Auth0 default profile', async () => {
    const token = issuer.mintUser({ permissions: ['read:reports'], claims: { 'https://example.com/roles': ['admin'] } });
    const { payload } = parts(token);
    assert.equal(payload.sub, 'auth0|test-user');
    assert.deepEqual(payload.aud, [issuer.audience, `${issuer.issuer}userinfo`]);
    assert.equal(payload.azp, 'test-client-id');
    assert.equal(payload.scope, 'openid profile email');
    assert.deepEqual(payload.permissions, ['read:reports']);
    assert.deepEqual(payload['https://example.com/roles'], ['admin']);
    assert.ok(await verifiesAgainstJwks(issuer, token));

    const plain = parts(issuer.mintUser({ sub: 'auth0|42', scope: ['read:a', 'write:b'], expiresIn: 60, clientId: 'app' })).payload;
    assert.equal(plain.aud, issuer.audience, 'no openid scope: aud is the API only');
    assert.equal(plain.scope, 'read:a write:b');
    assert.equal(plain.azp, 'app');
    assert.equal(plain.sub, 'auth0|42');
    assert.equal(plain.exp, plain.iat + 60);
    assert.equal('permissions' in plain, false);
    assert.equal('scope' in parts(issuer.mintUser({ scope: [] })).payload, false);
  });

  test('mintM2M: client-credentials shape', async () => {
    const token = issuer.mintM2M({ clientId: 'svc', scope: ['read:a', 'write:a'], permissions: ['read:a'] });
    const { payload } = parts(token);
    assert.equal(payload.sub, 'svc@clients');
    assert.equal(payload.azp, 'svc');
    assert.equal(payload.gty, 'client-credentials');
    assert.equal(payload.scope, 'read:a write:a');
    assert.deepEqual(payload.permissions, ['read:a']);
    assert.equal(payload.aud, issuer.audience);
    assert.ok(await verifiesAgainstJwks(issuer, token));
    const bare = parts(issuer.mintM2M()).payload;
    assert.equal(bare.sub, 'test-m2m-client-id@clients');
    assert.equal('scope' in bare, false);
  });

  test('mintExpired: an hour past exp, still validly signed', async () => {
    const token = issuer.mintExpired({ sub: 'late' });
    const { payload } = parts(token);
    assert.ok(payload.exp <= now() - 3599);
    assert.ok(payload.iat < payload.exp);
    assert.equal(payload.sub, 'late');
    assert.ok(await verifiesAgainstJwks(issuer, token));
  });

  for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) {
    test(`alg ${alg} signs with the current RSA key`, async () => {
      const token = issuer.mint({}, { alg });
      assert.equal(parts(token).header.alg, alg);
      assert.ok(await verifiesAgainstJwks(issuer, token));
    });
  }

  test('PS256 signature is PSS (it does not verify as PKCS#1 v1.5)', async () => {
    const { input, signature } = parts(issuer.mint({}, { alg: 'PS256' }));
    const [jwk] = await servedKeys(issuer);
    assert.equal(verifyWithJwk(jwk, 'RS256', input, signature), false);
  });

  test('HS256 with a secret (alg confusion with the public key PEM)', () => {
    const pem = issuer.getKey().publicKey.export({ type: 'spki', format: 'pem' });
    const token = issuer.mint({}, { signWith: { hmacSecret: pem } });
    const { header, input, signature } = parts(token);
    assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', kid: issuer.currentKid });
    assert.deepEqual(signature, createHmac('sha256', pem).update(input).digest());
  });

  test("'none' gives an empty signature", () => {
    const token = issuer.mint({}, { signWith: 'none' });
    assert.ok(token.endsWith('.'));
    assert.equal(parts(token).header.alg, 'none');
    const lying = issuer.mint({}, { signWith: 'none', alg: 'RS256' });
    assert.equal(parts(lying).header.alg, 'RS256');
    assert.ok(lying.endsWith('.'));
  });

  test('alg can lie: header HS256 over an RS256 signature; signAlg is explicit', async () => {
    const token = issuer.mint({}, { alg: 'HS256' });
    const { header, input, signature } = parts(token);
    assert.equal(header.alg, 'HS256');
    const [jwk] = await servedKeys(issuer);
    assert.ok(verifyWithJwk(jwk, 'RS256', input, signature));
    const ps = parts(issuer.mint({}, { alg: 'RS256', signAlg: 'PS256' }));
    assert.equal(ps.header.alg, 'RS256');
    assert.ok(verifyWithJwk(jwk, 'PS256', ps.input, ps.signature));
    assert.throws(() => issuer.mint({}, { signAlg: 'ES256' }), TypeError);
  });

  test("'foreign' key: its kid is not in the JWKS; with the current kid the signature fails", async () => {
    const foreign = issuer.mint({}, { signWith: 'foreign' });
    const kid = parts(foreign).header.kid;
    assert.ok(kid && kid !== issuer.currentKid);
    assert.equal((await servedKeys(issuer)).some((k) => k.kid === kid), false);
    assert.equal(parts(issuer.mint({}, { signWith: 'foreign' })).header.kid, kid, 'one foreign key per issuer');
    const forged = issuer.mint({}, { signWith: 'foreign', kid: issuer.currentKid });
    assert.equal(await verifiesAgainstJwks(issuer, forged), false);
  });

  test('generateForeignKey: RSA, EC and EdDSA keys sign verifiable tokens', () => {
    for (const alg of ['RS256', 'ES256', 'ES384', 'ES512', 'EdDSA']) {
      const key = generateForeignKey(alg);
      assert.equal(key.publicJwk.kid, key.kid);
      assert.equal(key.publicJwk.alg, alg);
      assert.equal('d' in key.publicJwk, false);
      const token = issuer.mint({}, { signWith: key });
      const { header, input, signature } = parts(token);
      assert.equal(header.alg, alg);
      assert.equal(header.kid, key.kid);
      assert.ok(verifyWithJwk(key.publicJwk, alg, input, signature), alg);
      // A bare KeyObject borrows the current kid.
      assert.equal(parts(issuer.mint({}, { signWith: key.privateKey })).header.kid, issuer.currentKid);
    }
  });

  test('raw header, payload and signature are written verbatim', () => {
    const rawHeader = '{"alg":"RS256","alg":"none"}';
    const rawPayload = '{"sub":"a","sub":"b"}';
    const token = issuer.mint({}, { rawHeader, rawPayload });
    const [h, p] = token.split('.');
    assert.equal(Buffer.from(h, 'base64url').toString(), rawHeader);
    assert.equal(Buffer.from(p, 'base64url').toString(), rawPayload);
    assert.equal(issuer.mint({}, { rawSignature: 'AAAA' }).split('.')[2], 'AAAA');
  });

  test("a raw header's alg picks the signature algorithm, as a built header's does", async () => {
    const rawHeader = JSON.stringify({ alg: 'PS256', typ: 'JWT', kid: issuer.currentKid });
    const { input, signature } = parts(issuer.mint({}, { rawHeader }));
    const [jwk] = await servedKeys(issuer);
    assert.equal(verifyWithJwk(jwk, 'PS256', input, signature), true);
    assert.equal(verifyWithJwk(jwk, 'RS256', input, signature), false);
  });

  test('mintUser and mintM2M keep their expiresIn when mintOptions passes expiresIn: undefined', () => {
    const lifetime = ({ payload }) => payload.exp - payload.iat;
    assert.equal(lifetime(parts(issuer.mintUser({ expiresIn: 60 }, { expiresIn: undefined }))), 60);
    assert.equal(lifetime(parts(issuer.mintM2M({ expiresIn: 60 }, { expiresIn: undefined }))), 60);
    assert.equal(lifetime(parts(issuer.mintUser({ expiresIn: 60 }, { expiresIn: 30 }))), 30);
  });

  test('bad signWith throws', () => {
    assert.throws(() => issuer.mint({}, { signWith: 'no-such-kid' }), /no key/);
    assert.throws(() => issuer.mint({}, { signWith: issuer.getKey().publicKey }), TypeError);
    assert.throws(() => issuer.mint({}, { signWith: 42 }), TypeError);
  });
});

describe('key rotation', () => {
  test('rotate adds a key and signs with it; removeKey unpublishes', async () => {
    const issuer = await startLocalIssuer();
    try {
      const first = issuer.currentKid;
      const oldToken = issuer.mint();
      const { kid } = issuer.rotate();
      assert.notEqual(kid, first);
      assert.equal(issuer.currentKid, kid);
      assert.deepEqual((await servedKeys(issuer)).map((k) => k.kid), [first, kid]);
      const newToken = issuer.mint();
      assert.equal(parts(newToken).header.kid, kid);
      assert.ok(await verifiesAgainstJwks(issuer, newToken));
      assert.ok(await verifiesAgainstJwks(issuer, oldToken), 'old key kept until removed');

      issuer.removeKey(first);
      assert.deepEqual((await servedKeys(issuer)).map((k) => k.kid), [kid]);
      assert.equal(await verifiesAgainstJwks(issuer, oldToken), false);
      // A revoked key can still sign, for tests of revoked-key tokens.
      assert.equal(parts(issuer.mint({}, { signWith: first })).header.kid, first);
      assert.throws(() => issuer.removeKey(first), /no key/);

      const ec = issuer.rotate({ alg: 'ES256' });
      const ecToken = issuer.mint();
      assert.equal(parts(ecToken).header.alg, 'ES256');
      assert.equal((await servedKeys(issuer)).find((k) => k.kid === ec.kid).kty, 'EC');
      assert.ok(await verifiesAgainstJwks(issuer, ecToken));
    } finally {
      await issuer.close();
    }
  });
});

describe('faults', () => {
  let issuer;
  before(async () => { issuer = await startLocalIssuer(); });
  after(() => issuer.close());

  test('down: 503', async () => {
    issuer.setFault({ kind: 'down' });
    assert.equal((await get(issuer)).status, 503);
    assert.equal((await get(issuer)).status, 503, 'stays until cleared');
    issuer.setFault(null);
    assert.equal((await get(issuer)).status, 200);
  });

  test('times: the fault clears itself', async () => {
    issuer.setFault({ kind: 'status', status: 500, times: 2 });
    assert.equal((await get(issuer)).status, 500);
    assert.equal((await get(issuer)).status, 500);
    assert.equal((await get(issuer)).status, 200);
  });

  test('slow: the normal response, late', async () => {
    issuer.setFault({ kind: 'slow', delayMs: 300 });
    const t0 = performance.now();
    const res = await get(issuer);
    assert.ok(performance.now() - t0 >= 280);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), issuer.jwks());
    issuer.setFault(null);
  });

  test('garbage: 200 JSON content type, not JSON', async () => {
    issuer.setFault({ kind: 'garbage' });
    const res = await get(issuer);
    assert.equal(res.status, 200);
    assert.match(res.headers['content-type'], /application\/json/);
    assert.throws(() => JSON.parse(res.body), SyntaxError);
    issuer.setFault(null);
  });

  test('status: any status', async () => {
    issuer.setFault({ kind: 'status', status: 429 });
    assert.equal((await get(issuer)).status, 429);
    issuer.setFault({ kind: 'status', status: 304 });
    const res = await get(issuer);
    assert.equal(res.status, 304);
    assert.equal(res.body, '');
    issuer.setFault(null);
  });

  test('body: exact body and content type', async () => {
    issuer.setFault({ kind: 'body', body: '{"keys":[]}' });
    let res = await get(issuer);
    assert.equal(res.status, 200);
    assert.equal(res.body, '{"keys":[]}');
    assert.equal(res.headers['content-type'], 'application/json');
    issuer.setFault({ kind: 'body', body: 'hi', contentType: 'text/html', status: 502 });
    res = await get(issuer);
    assert.equal(res.status, 502);
    assert.equal(res.headers['content-type'], 'text/html');
    assert.equal(res.body, 'hi');
    issuer.setFault(null);
  });

  test('huge: a valid JWKS of exactly `bytes`, chunked unless contentLength', async () => {
    const bytes = 1024 * 1024 + 3;
    issuer.setFault({ kind: 'huge', bytes });
    let res = await get(issuer);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    assert.equal(Buffer.byteLength(res.body), bytes);
    assert.deepEqual(JSON.parse(res.body).keys, issuer.jwks().keys);

    issuer.setFault({ kind: 'huge', bytes, contentLength: true });
    res = await get(issuer);
    assert.equal(res.headers['content-length'], String(bytes));
    assert.equal(Buffer.byteLength(res.body), bytes);
    issuer.setFault(null);
  });

  test('huge: a client hanging up early is fine', async () => {
    issuer.setFault({ kind: 'huge', bytes: 64 * 1024 * 1024 });
    await new Promise((resolve, reject) => {
      const req = httpRequest(issuer.jwksUri, { agent: false }, (res) => {
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve() : reject(e)));
      req.end();
    });
    issuer.setFault(null);
    assert.equal((await get(issuer)).status, 200);
  });

  test('destroy: the connection drops without a response', async () => {
    issuer.setFault({ kind: 'destroy' });
    await assert.rejects(get(issuer), (e) => e.code === 'ECONNRESET' || /socket hang up/.test(e.message));
    await assert.rejects(fetch(issuer.jwksUri), TypeError);
    issuer.setFault(null);
  });

  test('faulted requests are counted too', async () => {
    const before = issuer.jwksRequests;
    issuer.setFault({ kind: 'down', times: 1 });
    await get(issuer);
    await get(issuer);
    assert.equal(issuer.jwksRequests, before + 2);
  });

  test('setCacheControl sets and clears the header', async () => {
    issuer.setCacheControl('public, max-age=60');
    assert.equal((await get(issuer)).headers['cache-control'], 'public, max-age=60');
    issuer.setCacheControl(null);
    assert.equal((await get(issuer)).headers['cache-control'], undefined);
  });

  test('invalid faults are refused', () => {
    assert.throws(() => issuer.setFault({ kind: 'slow' }), TypeError);
    assert.throws(() => issuer.setFault({ kind: 'status', status: 99 }), TypeError);
    assert.throws(() => issuer.setFault({ kind: 'huge', bytes: -1 }), TypeError);
    assert.throws(() => issuer.setFault({ kind: 'down', times: 0 }), TypeError);
    assert.throws(() => issuer.setFault({ kind: 'explode' }), TypeError);
    assert.throws(() => issuer.setCacheControl('a\r\nb'), TypeError);
    // Values that would only fail when a request came in, ending the test process there.
    assert.throws(() => issuer.setCacheControl('max-age=60\u0000'), TypeError);
    assert.throws(() => issuer.setFault({ kind: 'body', body: '{}', contentType: 'application/json\r\nX: 1' }), TypeError);
    // Past 2^31-1 ms, setTimeout fires at once: "never answers" would answer.
    assert.throws(() => issuer.setFault({ kind: 'slow', delayMs: 3_000_000_000 }), /delayMs/);
    issuer.setFault({ kind: 'slow', delayMs: 2 ** 31 - 1 });
    issuer.setFault(null);
  });
});

describe('close', () => {
  test('closes keep-alive and in-flight connections at once; idempotent', { timeout: 10_000 }, async () => {
    const issuer = await startLocalIssuer();
    const agent = new Agent({ keepAlive: true });
    try {
      assert.equal((await get(issuer, undefined, { agent })).status, 200); // leaves an idle keep-alive socket
      await fetch(issuer.jwksUri).then((r) => r.arrayBuffer()); // and one in undici's pool
      issuer.setFault({ kind: 'slow', delayMs: 60_000 });
      const pending = get(issuer);
      await new Promise((r) => setTimeout(r, 50));
      const t0 = performance.now();
      await issuer.close();
      assert.ok(performance.now() - t0 < 1000, 'close() must not wait for keep-alive timeouts');
      await assert.rejects(pending);
      await assert.rejects(get(issuer), (e) => e.code === 'ECONNREFUSED');
      await issuer.close();
    } finally {
      agent.destroy();
    }
  });

  test('the process exits after close()', { timeout: 10_000 }, async () => {
    const script = `
      import { startLocalIssuer } from ${JSON.stringify(fileURLToPath(new URL('../dist/testing/index.js', import.meta.url)))};
      const issuer = await startLocalIssuer();
      await fetch(issuer.jwksUri).then((r) => r.json());
      issuer.setFault({ kind: 'slow', delayMs: 60000 });
      fetch(issuer.jwksUri).catch(() => {});
      await new Promise((r) => setTimeout(r, 50));
      await issuer.close();
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
    const code = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => { child.kill(); reject(new Error('process still alive 5 s after close()')); }, 5000);
      child.on('exit', (c) => { clearTimeout(timer); resolve(c); });
    });
    assert.equal(code, 0);
  });
});
