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
