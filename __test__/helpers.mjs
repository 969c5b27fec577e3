// Shared setup for the core tests: the native class and the project's own local issuer.
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
export const { Auth0Verifier } = require('../index.js');
export const { startLocalIssuer } = require('../dist/testing/index.js');

/** Asserts that `promise` rejects with an Auth0VerifyError of `code` (and `status`). */
export async function rejectsWith(promise, code, status = 401) {
  await assert.rejects(promise, (error) => {
    assert.equal(error.name, 'Auth0VerifyError', `expected Auth0VerifyError, got ${error}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.status, status);
    return true;
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `fn` with a fresh local issuer, closed afterwards whatever happens. */
export async function withIssuer(fn) {
  const issuer = await startLocalIssuer();
  try {
    await fn(issuer);
  } finally {
    await issuer.close();
  }
}
