// "npm install @example/auth0-native", honestly: `npm pack` this repo, install only the tarball
// into a fresh project in a temp dir (no other packages, offline: the package has no runtime
// dependencies), and use it from there the way users do: require, import, every subpath, a real
// verify against the installed local issuer, and a TypeScript type-check of the installed types.
// Nothing here reads the repo's own files at run time, so a file missing from "files", a
// broken "exports" map or an addon left out of the tarball fails this test.
import { describe, before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');

/** Runs a command to completion; throws with its output unless it exits 0. */
function sh(command, args, cwd, timeout = 60_000) {
  const env = { ...process.env };
  // Nothing may point the installed package back at this repo or change how Node loads it.
  for (const key of ['NODE_PATH', 'NODE_OPTIONS', 'NAPI_RS_NATIVE_LIBRARY_PATH', 'AUTH0_DOMAIN', 'AUTH0_AUDIENCE']) delete env[key];
  const r = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout, maxBuffer: 16 * 1024 * 1024 });
  const output = `$ ${command} ${args.join(' ')}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
  if (r.error) throw new Error(`${r.error.message}\n${output}`);
  assert.equal(r.status, 0, `exit ${r.status}\n${output}`);
  return r.stdout;
}

describe('the packed package, installed into a fresh project', () => {
  let temp, app, packed, manifest;

  before(() => {
    temp = mkdtempSync(join(tmpdir(), 'auth0-native-pack-'));
    // --ignore-scripts: pack what is built; building is not this test's job (and no prepack exists).
    const out = sh(npm, ['pack', '--ignore-scripts', '--json', '--pack-destination', temp], root, 120_000);
    packed = JSON.parse(out.slice(out.indexOf('[')))[0];

    app = join(temp, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }, null, 2));
    // Offline: the tarball is the only thing to install. A runtime dependency would fail here.
    sh(npm, ['install', join(temp, packed.filename), '--offline', '--no-audit', '--no-fund', '--no-package-lock'], app, 120_000);
    manifest = JSON.parse(readFileSync(join(app, 'node_modules', '@example', 'auth0-native', 'package.json'), 'utf8'));
  });

  after(() => {
    if (temp) rmSync(temp, { recursive: true, force: true });
  });

  test('the tarball holds the addon, the loader, dist/ and every file "exports" points at', (t) => {
    const files = new Set(packed.files.map((f) => f.path));
    for (const file of ['package.json', 'LICENSE', 'README.md', 'index.js', 'index.d.ts', 'dist/index.js', 'dist/index.d.ts']) {
      assert.ok(files.has(file), `${file} is not in the tarball`);
    }

    // Every .node the repo root holds (the addon napi build wrote) ships, named as the loader expects.
    const addons = readdirSync(root).filter((f) => f.endsWith('.node'));
    assert.ok(addons.length > 0, 'no built .node addon in the repo root to pack');
    for (const addon of addons) assert.ok(files.has(addon), `${addon} is not in the tarball`);
    assert.ok([...files].some((f) => /^auth0-native\.[\w-]+\.node$/.test(f)), 'no auth0-native.<platform>.node in the tarball');

    const targets = [manifest.main, manifest.types];
    for (const [subpath, entry] of Object.entries(manifest.exports)) {
      const values = typeof entry === 'string' ? [entry] : Object.values(entry);
      assert.ok(values.length > 0, `exports["${subpath}"] is empty`);
      targets.push(...values);
    }
    for (const target of targets) {
      assert.ok(files.has(target.replace(/^\.\//, '')), `${target} (from package.json) is not in the tarball`);
    }

    // Each "files" entry matched something (README.md included), and nothing else came along.
    for (const pattern of manifest.files) {
      const glob = pattern.replace(/\./g, '\\.').replace(/\*/g, '[^/]*').replace(/\/$/, '/.+');
      const re = new RegExp(`^${glob}$`);
      assert.ok([...files].some((f) => re.test(f)), `"files" entry ${pattern} matched nothing`);
    }
    const stray = [...files].filter((f) => /^(src|lib|target|__test__|examples|bench|scripts|node_modules)\/|\.(tmp|tgz|ts\.map)$/.test(f));
    assert.deepEqual(stray, [], 'sources or build leftovers in the tarball');

    // Not a failure (a dev build is fine locally) but worth seeing before a publish.
    for (const f of packed.files.filter((f) => f.path.endsWith('.node'))) {
      t.diagnostic(`${f.path}: ${(f.size / 1e6).toFixed(1)} MB${f.size > 20e6 ? ' (a debug build? release builds strip symbols)' : ''}`);
    }
  });

  test('the manifest needs nothing at runtime: no dependencies, @mastra/core an optional peer', () => {
    assert.equal(manifest.dependencies, undefined);
    assert.equal(manifest.peerDependenciesMeta?.['@mastra/core']?.optional, true);
    assert.deepEqual(readdirSync(join(app, 'node_modules')).filter((f) => !f.startsWith('.')), ['@example'], 'only the package got installed');
  });

  test('CommonJS: require() of the root and every subpath, the addon loaded from the install', () => {
    writeFileSync(join(app, 'check.cjs'), `
const assert = require('node:assert/strict');
const path = require('node:path');
const pkg = require('@example/auth0-native');
assert.equal(typeof pkg.Auth0Verifier, 'function');
assert.equal(typeof pkg.MastraAuthAuth0Native, 'function');
assert.equal(typeof pkg.isAuth0VerifyError, 'function');
const installed = path.join(__dirname, 'node_modules', '@example', 'auth0-native') + path.sep;
for (const id of ['@example/auth0-native', '@example/auth0-native/native', '@example/auth0-native/testing']) {
  assert.ok(require.resolve(id).startsWith(installed), id + ' resolved to ' + require.resolve(id));
}
const native = require('@example/auth0-native/native');
assert.equal(native.__napiBindingTarget, 'native');
assert.equal(native.Auth0Verifier, pkg.Auth0Verifier, 'one addon instance behind the root and ./native');
for (const name of ['auth', 'requiredScopes', 'requiredPermissions', 'claimCheck', 'AuthHttpError']) {
  assert.equal(typeof require('@example/auth0-native/express')[name], 'function', 'express ' + name);
  assert.equal(typeof require('@example/auth0-native/hono')[name], 'function', 'hono ' + name);
}
assert.equal(require('@example/auth0-native/mastra').MastraAuthAuth0Native, pkg.MastraAuthAuth0Native);
assert.equal(typeof require('@example/auth0-native/testing').startLocalIssuer, 'function');
assert.equal(require('@example/auth0-native/package.json').name, '@example/auth0-native');
// Internals stay internal: only "exports" is public.
assert.throws(() => require('@example/auth0-native/dist/http/bearer.js'), { code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' });
const v = new pkg.Auth0Verifier({ domain: 'tenant.example.com', audience: 'https://api.example.com' });
assert.equal(v.issuer, 'https://tenant.example.com/');
console.log('cjs ok');
`);
    assert.match(sh(process.execPath, ['check.cjs'], app), /cjs ok/);
  });

  test('ESM: named imports from every subpath, a real verify against the installed local issuer', () => {
    writeFileSync(join(app, 'check.mjs'), `
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Auth0Verifier, MastraAuthAuth0Native, isAuth0VerifyError } from '@example/auth0-native';
import { auth as expressAuth, requiredScopes, requiredPermissions, claimCheck } from '@example/auth0-native/express';
import { auth as honoAuth } from '@example/auth0-native/hono';
import { MastraAuthAuth0Native as FromMastra } from '@example/auth0-native/mastra';
import { startLocalIssuer } from '@example/auth0-native/testing';
import { Auth0Verifier as FromNative } from '@example/auth0-native/native';

assert.equal(FromMastra, MastraAuthAuth0Native);
assert.equal(FromNative, Auth0Verifier);
// None of the frameworks is installed here: the adapters must not need them at runtime.
const require = createRequire(import.meta.url);
for (const dep of ['express', 'hono', '@mastra/core']) {
  assert.throws(() => require.resolve(dep), { code: 'MODULE_NOT_FOUND' }, dep + ' should not be installed');
}

const issuer = await startLocalIssuer();
try {
  const verifier = new Auth0Verifier(issuer.verifierOptions());
  const claims = await verifier.verify(issuer.mintUser({ sub: 'auth0|packaged', permissions: ['read:x'] }));
  assert.equal(claims.sub, 'auth0|packaged');
  assert.deepEqual(claims.permissions, ['read:x']);
  await assert.rejects(verifier.verify(issuer.mintExpired()), (e) => isAuth0VerifyError(e) && e.code === 'ERR_TOKEN_EXPIRED' && e.status === 401);
  await assert.rejects(verifier.verify(issuer.mint({}, { signWith: 'foreign', kid: issuer.currentKid })), { code: 'ERR_SIGNATURE_INVALID' });

  // The Mastra provider works without @mastra/core.
  const provider = new MastraAuthAuth0Native({ verifier });
  assert.equal((await provider.authenticateToken(issuer.mintM2M({ scope: 'read:reports' })))?.gty, 'client-credentials');
  assert.equal(await provider.authenticateToken('not-a-jwt'), null);

  // Middleware is built without its framework.
  for (const mw of [expressAuth({ verifier }), honoAuth({ verifier }), requiredScopes('a'), requiredPermissions('b'), claimCheck(() => true)]) {
    assert.equal(typeof mw, 'function');
  }
  assert.equal(verifier.stats().jwksFetches, 1);
  assert.equal(issuer.jwksRequests, 1);
} finally {
  await issuer.close();
}
console.log('esm ok');
`);
    // The timeout also catches a process the addon or the issuer would keep alive.
    assert.match(sh(process.execPath, ['check.mjs'], app, 30_000), /esm ok/);
  });

  test('TypeScript: the installed declarations type-check a consumer (node16 resolution, ESM and CJS)', () => {
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'node16',
        moduleResolution: 'node16',
        strict: true,
        noEmit: true,
        types: [],
        skipLibCheck: true,
      },
      files: ['check-types.mts', 'check-types.cts'],
    }, null, 2));
    writeFileSync(join(app, 'check-types.mts'), `
import { Auth0Verifier, MastraAuthAuth0Native, isAuth0VerifyError } from '@example/auth0-native';
import type { Auth0VerifierOptions, Auth0VerifyErrorCode, JwtClaims, MastraAuthAuth0NativeOptions, VerifierStats } from '@example/auth0-native';
import { startLocalIssuer, DEFAULT_SUBJECT, type LocalIssuer } from '@example/auth0-native/testing';
// The framework subpaths' declarations must exist too (their framework types are not installed here).
import type * as ExpressAdapter from '@example/auth0-native/express';
import type * as HonoAdapter from '@example/auth0-native/hono';
import type * as NativeBinding from '@example/auth0-native/native';

type Exists = [typeof ExpressAdapter.requiredScopes, typeof HonoAdapter.claimCheck, typeof NativeBinding.Auth0Verifier];

const options: Auth0VerifierOptions = {
  domain: 'tenant.auth0.com',
  audience: ['https://api.example.com'],
  algorithms: ['RS256'],
  clockTolerance: 5,
  authorizeUser: (claims: JwtClaims) => claims.sub !== undefined,
};
// @ts-expect-error audience is a string or a string[]
const wrongAudience: Auth0VerifierOptions = { audience: 42 };

export async function check(token: string): Promise<string | undefined> {
  const verifier = new Auth0Verifier(options);
  const claims: JwtClaims = await verifier.verify(token);
  const permissions: string[] | undefined = claims.permissions;
  const custom: unknown = claims['https://example.com/roles'];
  const stats: VerifierStats = verifier.stats();
  const fetches: number = stats.jwksFetches;
  // @ts-expect-error verify takes the bare token string
  void verifier.verify(42);
  try {
    await verifier.verify(token);
  } catch (e) {
    if (isAuth0VerifyError(e)) {
      const code: Auth0VerifyErrorCode = e.code;
      const status: 401 | 403 | 500 | 503 = e.status;
      const header: string | null = e.wwwAuthenticate;
      void [code, status, header];
    }
  }
  const providerOptions: MastraAuthAuth0NativeOptions = { verifier, mapUserToResourceId: (user) => user.sub };
  const provider = new MastraAuthAuth0Native(providerOptions);
  const user: JwtClaims | null = await provider.authenticateToken(token);

  const issuer: LocalIssuer = await startLocalIssuer({ audience: 'https://api.example.test' });
  const local = new Auth0Verifier({ ...issuer.verifierOptions(), tokenCacheSize: 0 });
  const minted: string = issuer.mintUser({ scope: ['openid', 'read:x'], permissions: ['admin'] });
  // @ts-expect-error permissions is a string[]
  issuer.mintUser({ permissions: 'admin' });
  const sub: string = DEFAULT_SUBJECT;
  await local.verify(minted);
  await issuer.close();
  void [wrongAudience, permissions, custom, fetches, user, sub];
  return claims.sub;
}
`);
    writeFileSync(join(app, 'check-types.cts'), `
import { Auth0Verifier } from '@example/auth0-native';
import type { JwtClaims } from '@example/auth0-native';
import { startLocalIssuer } from '@example/auth0-native/testing';

export async function checkCjs(): Promise<JwtClaims> {
  const issuer = await startLocalIssuer();
  const verifier = new Auth0Verifier(issuer.verifierOptions());
  const issuerUrl: string = verifier.issuer;
  const audiences: string[] = verifier.audiences;
  void [issuerUrl, audiences];
  return verifier.verify(issuer.mintM2M());
}
`);
    sh(process.execPath, [tsc, '--noEmit', '-p', join(app, 'tsconfig.json')], app);
  });

  test('TypeScript: every subpath resolves under node10 resolution too (CommonJS projects\' default)', () => {
    // node10 ignores "exports": the subpaths' declarations are found through "typesVersions".
    writeFileSync(join(app, 'tsconfig.node10.json'), JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', moduleResolution: 'node10', strict: true, noEmit: true, types: [], skipLibCheck: true },
      files: ['check-node10.ts'],
    }, null, 2));
    writeFileSync(join(app, 'check-node10.ts'), `
import { Auth0Verifier } from '@example/auth0-native';
import type * as ExpressAdapter from '@example/auth0-native/express';
import type * as HonoAdapter from '@example/auth0-native/hono';
import type * as MastraAdapter from '@example/auth0-native/mastra';
import type * as Testing from '@example/auth0-native/testing';
import type * as NativeBinding from '@example/auth0-native/native';

export type Exists = [
  typeof ExpressAdapter.requiredScopes,
  typeof HonoAdapter.claimCheck,
  typeof MastraAdapter.MastraAuthAuth0Native,
  typeof Testing.startLocalIssuer,
  typeof NativeBinding.Auth0Verifier,
];
export const issuer: string = new Auth0Verifier({ domain: 'tenant.auth0.com', audience: 'a' }).issuer;
`);
    sh(process.execPath, [tsc, '--noEmit', '-p', join(app, 'tsconfig.node10.json')], app);
  });
});
