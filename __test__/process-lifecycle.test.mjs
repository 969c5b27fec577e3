// Nothing the verifier does may keep Node from exiting or crash it: idle verifiers,
// pending JWKS fetches, hooks that never settle, process.exit mid-flight, GC of a
// verifier with work in flight, and Node worker threads.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function runScript(source, timeout = 15_000) {
  const result = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', source], {
    cwd: root,
    timeout,
    encoding: 'utf8',
  });
  return result;
}

const prelude = `
import { createRequire } from 'node:module';
const require = createRequire(process.cwd() + '/');
const { Auth0Verifier } = require('./index.js');
const { startLocalIssuer } = require('./dist/testing/index.js');
`;

test('an idle verifier does not keep the process alive', () => {
  const r = runScript(`${prelude}
    const v = new Auth0Verifier({ domain: 'tenant.auth0.com', audience: 'a' });
    console.log('created');`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /created/);
});

test('the process waits for in-flight verifies, then exits by itself', () => {
  const r = runScript(`${prelude}
    const issuer = await startLocalIssuer();
    const v = new Auth0Verifier({ ...issuer.verifierOptions() });
    const claims = await Promise.all([v.verify(issuer.mintUser()), v.verify(issuer.mintUser({ sub: 'x' }))]);
    console.log('verified', claims.length);
    await issuer.close();`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /verified 2/);
});

test('a hook that never settles does not hold the process open', () => {
  const r = runScript(`${prelude}
    const issuer = await startLocalIssuer();
    const v = new Auth0Verifier({ ...issuer.verifierOptions(), authorizeUser: () => new Promise(() => {}) });
    v.verify(issuer.mintUser()).then(() => console.log('settled?'));
    setTimeout(() => issuer.close(), 300);`);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /settled/);
});

test('a rejected verify that nobody awaits is an ordinary unhandled rejection, not a crash of the addon', () => {
  const r = runScript(`${prelude}
    process.on('unhandledRejection', (e) => { console.log('unhandled', e.code); });
    const v = new Auth0Verifier({ domain: 'tenant.auth0.com', audience: 'a' });
    v.verify('not-a-token');`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /unhandled ERR_TOKEN_MALFORMED/);
});

test('process.exit with verifies in flight exits cleanly', () => {
  const r = runScript(`${prelude}
    const issuer = await startLocalIssuer();
    issuer.setFault({ kind: 'slow', delayMs: 2000 });
    const v = new Auth0Verifier({ ...issuer.verifierOptions() });
    for (let i = 0; i < 100; i++) v.verify(issuer.mintUser()).catch(() => {});
    setTimeout(() => process.exit(7), 100);`);
  assert.equal(r.status, 7, r.stderr);
});

test('a verifier garbage-collected with work in flight settles it and does not crash', () => {
  const r = runScript(`${prelude}
    const issuer = await startLocalIssuer();
    let v = new Auth0Verifier({ ...issuer.verifierOptions() });
    const pending = Array.from({ length: 50 }, (_, i) => v.verify(issuer.mintUser({ sub: 'u' + i })));
    v = null;
    for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    const results = await Promise.allSettled(pending);
    console.log('fulfilled', results.filter((r) => r.status === 'fulfilled').length);
    await issuer.close();`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /fulfilled 50/);
});

test('a hook that refers back to its verifier does not keep the verifier alive', () => {
  // One verifier per tenant, the hook reading the tenant that owns it: a cycle through
  // the hook. It must be collectable like a verifier without a hook.
  const r = runScript(`${prelude}
    const issuer = await startLocalIssuer();
    const token = issuer.mintUser();
    const freed = { noHook: 0, ownerHook: 0, setLater: 0 };
    const registry = new FinalizationRegistry((kind) => freed[kind]++);
    class Tenant {
      constructor(withHook) {
        this.blocked = new Set();
        this.verifier = new Auth0Verifier({ ...issuer.verifierOptions(),
          ...(withHook ? { authorizeUser: (c) => !this.blocked.has(c.sub) } : {}) });
      }
    }
    for (let i = 0; i < 20; i++) {
      const plain = new Tenant(false);
      registry.register(plain.verifier, 'noHook');
      await plain.verifier.verify(token);
      const owned = new Tenant(true);
      registry.register(owned.verifier, 'ownerHook');
      await owned.verifier.verify(token);
      const v = new Auth0Verifier({ ...issuer.verifierOptions() });
      v.setAuthorizeUser(() => v.issuer !== '');
      registry.register(v, 'setLater');
      await v.verify(token);
    }
    for (let i = 0; i < 20 && (freed.ownerHook < 20 || freed.setLater < 20); i++) {
      globalThis.gc(); await new Promise((r) => setTimeout(r, 20));
    }
    console.log('freed', JSON.stringify(freed));
    await issuer.close();`);
  assert.equal(r.status, 0, r.stderr);
  const freed = JSON.parse(r.stdout.match(/freed (.*)/)[1]);
  // The last of each kind may still be on the stack when the loop ends.
  assert.ok(freed.ownerHook >= 19 && freed.setLater >= 19, r.stdout);
});

test('the hook still runs for verifies in flight, and through detached methods, after its verifier is collected', () => {
  const r = runScript(`${prelude}
    const issuer = await startLocalIssuer();
    issuer.setFault({ kind: 'slow', delayMs: 200 });
    let calls = 0;
    const deny = (claims) => { calls++; return claims.sub !== 'blocked'; };
    let v = new Auth0Verifier({ ...issuer.verifierOptions(), authorizeUser: deny });
    const subs = ['a', 'blocked', 'b', 'blocked'];
    const pending = subs.map((sub) => v.verify(issuer.mintUser({ sub })));
    v = null;
    for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    const results = await Promise.allSettled(pending);
    console.log('in flight', results.map((r) => r.status === 'fulfilled' ? r.value.sub : r.reason.code).join(','), calls);

    issuer.setFault(null);
    const { verify } = new Auth0Verifier({ ...issuer.verifierOptions(), authorizeUser: deny });
    for (let i = 0; i < 5; i++) { globalThis.gc(); await new Promise((r) => setTimeout(r, 10)); }
    const detached = await Promise.allSettled(['c', 'blocked'].map((sub) => verify(issuer.mintUser({ sub }))));
    console.log('detached', detached.map((r) => r.status === 'fulfilled' ? r.value.sub : r.reason.code).join(','), calls);
    await issuer.close();`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /in flight a,ERR_ACCESS_DENIED,b,ERR_ACCESS_DENIED 4/);
  assert.match(r.stdout, /detached c,ERR_ACCESS_DENIED 6/);
});

test('works inside a worker thread, and the worker exits', () => {
  const r = runScript(`${prelude}
    import { Worker } from 'node:worker_threads';
    const issuer = await startLocalIssuer();
    const source = \`
      const { workerData, parentPort } = require('node:worker_threads');
      const { Auth0Verifier } = require(workerData.root + '/index.js');
      const v = new Auth0Verifier(workerData.options);
      v.verify(workerData.token).then((c) => parentPort.postMessage(c.sub), (e) => parentPort.postMessage(e.code));
    \`;
    const worker = new Worker(source, { eval: true, execArgv: [], workerData: { root: process.cwd(), options: issuer.verifierOptions(), token: issuer.mintUser({ sub: 'in-worker' }) } });
    worker.on('message', (m) => console.log('worker says', m));
    worker.on('exit', (code) => { console.log('worker exit', code); issuer.close(); });`);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /worker says in-worker/);
  assert.match(r.stdout, /worker exit 0/);
});
