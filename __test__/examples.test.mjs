// The examples run as users run them: `npm run demo`'s script and each example server, as child
// processes of plain `node`, importing the package by its own name (self-reference through
// "exports"). Each must exit by itself with 0 and print the lines its README promise rests on.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const TIMEOUT_MS = 30_000;

/** The parent's env without anything that would change an example's mode. */
function cleanEnv(extra = {}) {
  const env = { ...process.env, ...extra };
  for (const key of ['AUTH0_DOMAIN', 'AUTH0_AUDIENCE', 'EXAMPLE_SELF_TEST', 'PORT', 'HOST', 'NODE_OPTIONS']) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

/** Runs `node examples/<file> ...args` to completion: { code, stdout, stderr }. */
function run(file, args = [], env = {}) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`examples/${file}`, ...args],
      { cwd: root, env: cleanEnv(env), timeout: TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 8 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (error.killed ? 'timeout' : error.code) : 0, stdout, stderr }),
    );
  });
}

function assertExit(result, expected) {
  assert.equal(result.code, expected, `exit ${result.code}, expected ${expected}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
}

/** Asserts an `ok` result line for `who` requesting `path` that expected and got `status`. */
function assertLine(stdout, who, path, status) {
  const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const line = new RegExp(`^  ok    ${esc(who)} +GET ${esc(path)} +${status} +${status}  `, 'm');
  assert.match(stdout, line, `no "ok ${who} GET ${path} ${status}" line in:\n${stdout}`);
}

describe('npm run demo (examples/demo.mjs)', () => {
  test('every persona gets its status, one JWKS fetch, exit 0', async () => {
    const result = await run('demo.mjs');
    assertExit(result, 0);
    const { stdout } = result;
    // The banner says what is served.
    assert.match(stdout, /^  server +http:\/\/127\.0\.0\.1:\d+$/m);
    assert.match(stdout, /^  issuer +http:\/\/127\.0\.0\.1:\d+\/$/m);
    assert.match(stdout, /^  audience +https:\/\/api\.example\.test$/m);
    assert.match(stdout, /^ +GET \/api\/messages +scope read:messages$/m);
    assert.match(stdout, /^ +GET \/api\/admin +permission admin:access/m);
    assert.match(stdout, /^ +GET \/api\/reports +scope read:reports/m);

    assertLine(stdout, 'no token', '/api/messages', 401);
    assertLine(stdout, 'expired token', '/api/messages', 401);
    assertLine(stdout, 'garbage token', '/api/messages', 401);
    assertLine(stdout, 'forged admin token', '/api/admin', 401);
    assertLine(stdout, 'bad Bearer syntax', '/api/messages', 400);
    assertLine(stdout, 'alice (read:messages)', '/api/messages', 200);
    assertLine(stdout, 'alice (read:messages)', '/api/admin', 403);
    assertLine(stdout, 'bob (admin:access)', '/api/admin', 200);
    assertLine(stdout, 'M2M reporting-service', '/api/reports', 200);
    assert.match(stdout, /expired token .* invalid_token: /);
    assert.match(stdout, /insufficient_scope: .*\(needs admin:access\)/);

    assert.doesNotMatch(stdout, /FAIL/);
    assert.match(stdout, /^  (\d+)\/\1 requests got the expected status$/m);
    assert.match(stdout, /, 1 JWKS fetch \(issuer saw 1\)$/m);
    assert.match(stdout, /demo passed/);
  });
});

const SERVERS = [
  {
    file: 'hono-server.mjs',
    lines: [['anonymous', '/api/public', 200], ['anonymous', '/api/messages', 401], ['garbage token', '/api/messages', 401],
      ['reader', '/api/messages', 200], ['reader', '/api/admin', 403], ['admin', '/api/admin', 200]],
  },
  {
    file: 'express-server.mjs',
    lines: [['anonymous', '/api/messages', 401], ['reader', '/api/messages', 200], ['reader', '/api/admin', 403],
      ['reader', '/api/machines', 403], ['M2M client', '/api/machines', 200]],
  },
  {
    file: 'mastra-server.mjs',
    lines: [['anonymous', '/api/agents', 401], ['expired token', '/me', 401], ['alice', '/api/agents', 200],
      ['alice', '/me', 200], ['M2M client', '/me', 200]],
  },
];

for (const { file, lines } of SERVERS) {
  describe(`examples/${file}`, () => {
    test('--self-test against the local issuer: expected statuses, exit 0', async () => {
      const result = await run(file, ['--self-test']);
      assertExit(result, 0);
      for (const [who, path, status] of lines) assertLine(result.stdout, who, path, status);
      assert.doesNotMatch(result.stdout, /FAIL/);
      assert.match(result.stdout, /self-test passed/);
    });

    test('EXAMPLE_SELF_TEST=1 does the same', async () => {
      const result = await run(file, [], { EXAMPLE_SELF_TEST: '1' });
      assertExit(result, 0);
      assert.match(result.stdout, /self-test passed/);
    });

    test('without --self-test it serves until SIGINT, and its printed curl command works', async () => {
      const child = spawn(process.execPath, [`examples/${file}`], {
        cwd: root,
        env: cleanEnv({ PORT: '0' }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
      child.stderr.setEncoding('utf8').on('data', (chunk) => { stderr += chunk; });
      const exited = once(child, 'exit');
      try {
        // Wait for the banner's last line, then follow the first curl command that carries a token.
        while (!stdout.includes('Ctrl-C to stop') && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
        const curl = /curl -i -H "Authorization: Bearer ([\w.-]+)" (http:\/\/\S+)/.exec(stdout);
        assert.ok(curl, `no curl command with a token in:\n${stdout}\n${stderr}`);
        const res = await fetch(curl[2], { headers: { authorization: `Bearer ${curl[1]}` } });
        assert.equal(res.status, 200, await res.text());
        assert.equal((await fetch(curl[2])).status, 401);
        child.kill('SIGINT');
        const [code] = await exited;
        assert.equal(code, 0, `exit ${code} after SIGINT\n${stderr}`);
      } finally {
        clearTimeout(killer);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
    });
  });
}

describe('examples against a real tenant configuration (no network needed for these checks)', () => {
  const tenant = { AUTH0_DOMAIN: 'example-tenant.us.auth0.com', AUTH0_AUDIENCE: 'https://api.example.com' };

  for (const { file } of SERVERS) {
    test(`${file} trusts https://$AUTH0_DOMAIN/, not a local issuer`, async () => {
      const result = await run(file, ['--self-test'], tenant);
      assertExit(result, 0);
      assert.match(result.stdout, /^  issuer +https:\/\/example-tenant\.us\.auth0\.com\/$/m);
      assert.match(result.stdout, /^  audience +https:\/\/api\.example\.com$/m);
      assert.match(result.stdout, /garbage token .* 401 +401/);
      assert.doesNotMatch(result.stdout, /127\.0\.0\.1:\d+\/\.well-known/);
    });
  }

  test('a domain written as a URL (https://, trailing /) still gives a working token command', async () => {
    const child = spawn(process.execPath, ['examples/hono-server.mjs'], {
      cwd: root,
      env: cleanEnv({ ...tenant, AUTH0_DOMAIN: `https://${tenant.AUTH0_DOMAIN}/`, PORT: '0' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const killer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => { stdout += chunk; });
    const exited = once(child, 'exit');
    try {
      while (!stdout.includes('Ctrl-C to stop') && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
      assert.match(stdout, /curl -s https:\/\/example-tenant\.us\.auth0\.com\/oauth\/token /);
      child.kill('SIGINT');
      assert.deepEqual(await exited, [0, null]);
    } finally {
      clearTimeout(killer);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  test('an IPv6 HOST works (the URL puts it in brackets)', async () => {
    const result = await run('hono-server.mjs', ['--self-test'], { HOST: '::1' });
    assertExit(result, 0);
    assert.match(result.stdout, /^  server +http:\/\/\[::1\]:\d+$/m);
    assert.match(result.stdout, /self-test passed/);
  });

  test('only one of AUTH0_DOMAIN / AUTH0_AUDIENCE set: exits 2 with a message', async () => {
    const result = await run('hono-server.mjs', ['--self-test'], { AUTH0_DOMAIN: tenant.AUTH0_DOMAIN });
    assertExit(result, 2);
    assert.match(result.stderr, /Set both AUTH0_DOMAIN and AUTH0_AUDIENCE/);
  });
});
