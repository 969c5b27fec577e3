// The benchmark's machine-ceiling row reads `openssl speed` output; both layouts OpenSSL has
// used must parse, and anything else must give no number rather than a wrong one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rsa2048VerifiesPerSecond } from '../bench/lib/openssl.mjs';

test('openssl speed: the 3.0/3.1 layout (sign, verify)', () => {
  const out = [
    'Forked child 0',
    '+F2:2048:0.000438:0.000013',
    '                  sign    verify    sign/s verify/s',
    'rsa 2048 bits 0.000438s 0.000013s   2282.6  76872.0',
  ].join('\n');
  assert.equal(rsa2048VerifiesPerSecond(out), 76872);
});

test('openssl speed: the 3.2+ layout (sign, verify, encrypt, decrypt)', () => {
  const out = [
    'version: 3.2.1',
    '                   sign    verify    encrypt   decrypt   sign/s verify/s  encr./s  decr./s',
    'rsa  2048 bits 0.000905s 0.000027s 0.000028s 0.000898s   1105.0  37037.0  35714.3   1113.6',
  ].join('\n');
  assert.equal(rsa2048VerifiesPerSecond(out), 37037);
});

test('openssl speed: no heading, another key size, or a short row gives no number', () => {
  assert.equal(rsa2048VerifiesPerSecond('rsa 2048 bits 0.000438s 0.000013s 2282.6 76872.0'), undefined);
  assert.equal(rsa2048VerifiesPerSecond('  sign verify sign/s verify/s\nrsa 4096 bits 0.005s 0.00007s 200.0 14000.0'), undefined);
  assert.equal(rsa2048VerifiesPerSecond('  sign verify sign/s verify/s\nrsa 2048 bits 0.000438s 0.000013s 2282.6'), undefined);
  assert.equal(rsa2048VerifiesPerSecond(''), undefined);
});
