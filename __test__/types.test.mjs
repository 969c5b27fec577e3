// The declarations as a strict TypeScript user meets them: __test__/types/*.ts import the
// package by its own name (node16 self-reference through "exports") and must compile, with
// every `@ts-expect-error` still an error. The installed-tarball checks (node16 and node10
// resolution) are in package.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

test('typed usage compiles: Hono envs follow `optional`, the README Express example is valid TypeScript', () => {
  const files = readdirSync(new URL('./types/', import.meta.url)).filter((f) => f.endsWith('.ts'));
  assert.deepEqual(files.sort(), ['hono-env.ts', 'readme-express.ts']);
  const result = spawnSync(process.execPath, [tsc, '-p', '__test__/types/tsconfig.json'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
});

test("the README Express example also compiles against Express 4's types (@types/express 4)", () => {
  // tsconfig.express4.json maps 'express' to @types/express-v4 for every file, our own
  // dist/express.d.ts included, so the middleware's types meet Express 4's Request and Response.
  const result = spawnSync(process.execPath, [tsc, '-p', '__test__/types/tsconfig.express4.json', '--traceResolution'], { cwd: root, encoding: 'utf8', timeout: 120_000, maxBuffer: 256 << 20 });
  const errors = result.stdout.split('\n').filter((line) => line.includes('error TS'));
  assert.equal(result.status, 0, errors.join('\n') || result.stderr);
  const resolved = new Set(result.stdout.match(/Module name 'express' was successfully resolved to '[^']+'/g));
  assert.deepEqual([...resolved].map((line) => line.includes('/@types/express-v4/')), [true], 'every import of express resolves to the v4 types');
});
