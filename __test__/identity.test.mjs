// The identity the adapters expose: splitScopes must agree with `scope.split(' ').filter(Boolean)`
// (the definition it replaces for speed) on every input, including odd whitespace.
import test from 'node:test';
import assert from 'node:assert/strict';
import { splitScopes, toIdentity } from '../dist/http/identity.js';

const reference = (scope) => scope.split(' ').filter(Boolean);

test('splitScopes equals split(" ").filter(Boolean): fixed cases', () => {
  for (const scope of ['', ' ', '   ', 'a', ' a', 'a ', ' a ', 'a b', 'a  b', '  a   b  c ', 'a\tb c', 'read:a\nwrite:b', '\u00a0a b', 'a'.repeat(1000)]) {
    assert.deepEqual(splitScopes(scope), reference(scope), JSON.stringify(scope));
  }
});

test('splitScopes equals split(" ").filter(Boolean): 20,000 random strings over a small alphabet', () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const alphabet = [' ', ' ', 'a', 'b', ':', '\t'];
  for (let i = 0; i < 20_000; i++) {
    const scope = Array.from({ length: Math.floor(random() * 12) }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    assert.deepEqual(splitScopes(scope), reference(scope), JSON.stringify(scope));
  }
});

test('toIdentity: scopes only from a string scope, permissions only strings', () => {
  assert.deepEqual(toIdentity({ sub: 's', scope: ' x  y ', permissions: ['p', 1, null, 'q'] }).scopes, ['x', 'y']);
  assert.deepEqual(toIdentity({ sub: 's', scope: ['x'], permissions: 'p' }), { sub: 's', claims: { sub: 's', scope: ['x'], permissions: 'p' }, scopes: [], permissions: [] });
});
