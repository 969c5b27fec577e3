// verify and verifyCached are own functions bound to their verifier (no receiver lookup per
// call): they must behave exactly like the prototype methods, work detached from the object,
// stay out of enumeration, be replaceable by test spies, and keep their verifier alive.
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Auth0Verifier, startLocalIssuer, rejectsWith } from './helpers.mjs';

let issuer;
before(async () => {
  issuer = await startLocalIssuer();
});
after(() => issuer.close());

const make = (options = {}) => new Auth0Verifier({ ...issuer.verifierOptions(), ...options });

test('own, non-enumerable properties that shadow the prototype methods', () => {
  const v = make();
  assert.deepEqual(Object.keys(v), []);
  assert.equal(JSON.stringify(v), '{}');
  for (const name of ['verify', 'verifyCached']) {
    const own = Object.getOwnPropertyDescriptor(v, name);
    assert.equal(typeof own.value, 'function', name);
    assert.equal(own.enumerable, false, name);
    assert.notEqual(own.value, Auth0Verifier.prototype[name], name);
    assert.equal(own.value.name, name);
  }
  // Two verifiers never share a bound function.
  assert.notEqual(make().verify, v.verify);
});

test('detached (destructured) functions answer for their own verifier', async () => {
  const { verify, verifyCached } = make({ audience: issuer.audience });
  const other = make({ audience: 'https://someone-else.example' });
  const token = issuer.mintUser({ scope: 'read:a' });
  assert.equal(verifyCached(token), null);
  const claims = await verify(token);
  assert.equal(claims.scope, 'read:a');
  assert.deepEqual(verifyCached(token), claims);
  // The other verifier's audience is different: its functions are its own.
  await rejectsWith(other.verify(token), 'ERR_AUDIENCE_INVALID');
  assert.equal(other.verifyCached(token), null);
});

test('the prototype methods give the same answers as the bound ones', async () => {
  const v = make();
  const token = issuer.mintUser({ permissions: ['read:a'] });
  const viaPrototype = await Auth0Verifier.prototype.verify.call(v, token);
  assert.deepEqual(await v.verify(token), viaPrototype);
  assert.deepEqual(Auth0Verifier.prototype.verifyCached.call(v, token), viaPrototype);
  await rejectsWith(Auth0Verifier.prototype.verify.call(v, 42), 'ERR_TOKEN_MALFORMED');
  await rejectsWith(v.verify(42), 'ERR_TOKEN_MALFORMED');
  assert.equal(v.stats().verifies, 5);
});

test('no argument, extra arguments and odd receivers', async () => {
  const v = make();
  const token = issuer.mintUser();
  await rejectsWith(v.verify(), 'ERR_TOKEN_MISSING');
  assert.equal(v.verifyCached(), null);
  const claims = await v.verify(token, 'ignored', {});
  assert.deepEqual(v.verifyCached.call({}, token, 'ignored'), claims);
  assert.deepEqual(await Reflect.apply(v.verify, null, [token]), claims);
});

test('replaceable by a test spy (writable, configurable)', async () => {
  const v = make();
  const calls = [];
  const original = v.verify;
  v.verify = (t) => {
    calls.push(t.length);
    return original(t);
  };
  const token = issuer.mintUser();
  await v.verify(token);
  assert.deepEqual(calls, [token.length]);
  delete v.verify;
  assert.equal(v.verify, Auth0Verifier.prototype.verify);
  await v.verify(token);
});

test('a detached function keeps working after its verifier object is garbage-collected', () => {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const source = `
    import { createRequire } from 'node:module';
    const require = createRequire(process.cwd() + '/');
    const { Auth0Verifier } = require('./index.js');
    const { startLocalIssuer } = require('./dist/testing/index.js');
    const issuer = await startLocalIssuer();
    let verifier = new Auth0Verifier({ ...issuer.verifierOptions() });
    let registry; // kept reachable: a collected registry never calls back
    const collected = new Promise((resolve) => { registry = new FinalizationRegistry(resolve); registry.register(verifier, 'gone'); });
    const { verify, verifyCached } = verifier;
    verifier = null;
    for (let i = 0; i < 20; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 5)); }
    console.log('verifier object', await Promise.race([collected, new Promise((r) => setTimeout(r, 500, 'still alive'))]));
    const token = issuer.mintUser({ sub: 'after-gc' });
    console.log('verify', (await verify(token)).sub, 'cached', verifyCached(token)?.sub);
    await issuer.close();`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', source], { cwd: root, encoding: 'utf8', timeout: 15_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /verifier object gone/);
  assert.match(r.stdout, /verify after-gc cached after-gc/);
});
