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
