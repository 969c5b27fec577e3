// One micro-benchmark case in a fresh process: `node bench/micro.mjs <case>`, forked by
// run.mjs with the token set in BENCH_TOKENS_FILE. Replies over IPC with the measurement.
//
// Method: `inflight` verifies (64) are kept in flight by async lanes; sync verifiers run
// in a tight loop. ops/s = completions / wall time. Main-thread CPU per verify is the JS
// thread's own on-CPU time from the kernel (/proc/self/task/<pid>/schedstat) over the
// measured window divided by completions: it excludes the tokio pool and libuv's threadpool,
// so it is what a verify costs the event loop. Whole-process CPU (process.cpuUsage) and
// event-loop-busy time (performance.eventLoopUtilization) are reported next to it.
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { driveAsync, driveSync, envNumber, require, reply, startMeter } from './lib/common.mjs';

const SECONDS = envNumber('BENCH_MICRO_SECONDS', 2);
const WARMUP = envNumber('BENCH_MICRO_WARMUP', 0.3);
const INFLIGHT = envNumber('BENCH_INFLIGHT', 64);
const set = JSON.parse(readFileSync(process.env.BENCH_TOKENS_FILE, 'utf8'));
const { issuer, audience, jwksUri } = set;

async function pemOfIssuerKey() {
  const jwks = await (await fetch(jwksUri)).json();
  const kid = JSON.parse(Buffer.from(set.repeated.split('.')[0], 'base64url').toString()).kid;
  const jwk = jwks.keys.find((k) => k.kid === kid);
  return createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}

function ours(options) {
  const { Auth0Verifier } = require('./index.js');
  const verifier = new Auth0Verifier({ issuer, jwksUri, audience, ...options });
  return { verify: (t) => verifier.verify(t), verifier };
}

/** verifyCached() as the adapters use it: a synchronous answer for a token already verified. */
async function oursCachedSync() {
  const { verify, verifier } = ours({});
  await verify(set.repeated);
  return {
    verifier,
    verify: (t) => {
      const claims = verifier.verifyCached(t);
      if (claims === null) throw new Error('not a cached valid token');
      return claims;
    },
  };
}

/** Each case: how to build a verify function (fresh state), its tokens, and how to drive it. */
const CASES = {
  // Machine speed check against REFERENCE section 5 (47,300/s there): raw signature only.
  calibration: { tokens: 'distinct', sync: true, setup: rawSignature },
  // The floor: what the async lanes themselves cost per operation.
  harness: { tokens: 'distinct', setup: async () => { const c = { sub: 'x' }; return { verify: () => Promise.resolve(c) }; } },
  // Defaults (cache on); the token list is longer than the cache, so every verify misses and
  // every insert evicts: a long-running server meeting only new tokens (checked below).
  'ours-distinct': { tokens: 'distinct', allMisses: 10_000 /* the default tokenCacheSize */, setup: async () => ours({}) },
  'ours-distinct-nocache': { tokens: 'distinct', setup: async () => ours({ tokenCacheSize: 0 }) },
  'ours-repeated': { tokens: 'repeated', setup: async () => ours({}) },
  'ours-repeated-sync': { tokens: 'repeated', sync: true, setup: oursCachedSync },
  'jose-distinct': { tokens: 'distinct', setup: jose },
  'jose-repeated': { tokens: 'repeated', setup: jose },
  'fastjwt-distinct': { tokens: 'distinct', sync: true, setup: () => fastJwt(false) },
  'fastjwt-distinct-cache': { tokens: 'distinct', sync: true, setup: () => fastJwt(true) },
  'fastjwt-repeated-cache': { tokens: 'repeated', sync: true, setup: () => fastJwt(true) },
  'noders-distinct': { tokens: 'distinct', setup: nodeRs },
  'noders-repeated': { tokens: 'repeated', setup: nodeRs },
};

async function rawSignature() {
  const key = createPublicKey(await pemOfIssuerKey());
  return {
    verify: (t) => {
      const dot = t.lastIndexOf('.');
      if (!cryptoVerify('sha256', Buffer.from(t.slice(0, dot)), key, Buffer.from(t.slice(dot + 1), 'base64url'))) throw new Error('bad signature');
    },
  };
}

async function jose() {
  const { createRemoteJWKSet, jwtVerify } = await import('jose');
  const jwks = createRemoteJWKSet(new URL(jwksUri)); // fetched once, then cached by jose
  const options = { issuer, audience, algorithms: ['RS256'] };
  return { verify: async (t) => (await jwtVerify(t, jwks, options)).payload };
}

async function fastJwt(cache) {
  const { createVerifier } = require('fast-jwt');
  const key = await pemOfIssuerKey(); // key fetched once
  const verify = createVerifier({ key, algorithms: ['RS256'], allowedIss: issuer, allowedAud: audience, cache });
  return { verify };
}

async function nodeRs() {
  const { verify } = require('@node-rs/jsonwebtoken');
  const pem = await pemOfIssuerKey();
  const validation = { iss: [issuer], aud: [audience], algorithms: ['RS256'] };
  return { verify: (t) => verify(t, pem, validation) };
}

/** A verifier that accepts anything would win every race: check it validates iss/aud/signature/exp. */
async function sanity(verify) {
  if (name === 'harness' || name === 'calibration') return 'n/a';
  const ok = await verify(set.repeated);
  if (ok?.sub !== set.repeatedSub) throw new Error(`${name}: a valid token did not verify to its sub`);
  const accepted = [];
  for (const [what, token] of Object.entries(set.bad)) {
    let passed = true;
    try {
      await verify(token);
    } catch {
      passed = false;
    }
    if (passed) accepted.push(what);
  }
  if (accepted.length) throw new Error(`${name} accepted bad tokens: ${accepted.join(', ')}`);
  return 'rejects wrong iss/aud, foreign sig, expired';
}

const name = process.argv[2];
const spec = CASES[name];
if (!spec) throw new Error(`unknown case ${name}; cases: ${Object.keys(CASES).join(', ')}`);
const tokens = spec.tokens === 'repeated' ? [set.repeated] : set.distinct;

function drive(verify, opts, list = tokens) {
  return spec.sync ? Promise.resolve(driveSync(verify, list, opts)) : driveAsync(verify, list, { inflight: INFLIGHT, ...opts });
}

// Count mode (bench/instructions.mjs runs this under callgrind): exactly BENCH_COUNT verifies,
// nothing timed.
// BENCH_COUNT_WARMUP verifies first run on the verifier that is then counted, so V8's
// one-off work (optimizing compiles, literal boilerplates) happens in both counted runs
// alike instead of in one of them. With distinct tokens the warm-up takes them from the end
// of the list and the count from the start, so counted verifies stay misses.
const COUNT = envNumber('BENCH_COUNT', 0);
if (COUNT) {
  const { verify } = await spec.setup();
  await sanity(verify);
  const warm = envNumber('BENCH_COUNT_WARMUP', 0);
  const distinct = spec.tokens === 'distinct';
  if (distinct && tokens.length < COUNT + warm) throw new Error(`count mode needs ${COUNT + warm} distinct tokens, got ${tokens.length}`);
  await drive(verify, { limit: warm }, distinct ? tokens.slice(tokens.length - warm) : tokens);
  const ops = await drive(verify, { limit: COUNT }, distinct ? tokens.slice(0, COUNT) : tokens);
  console.log(JSON.stringify({ case: name, ops }));
  process.exit(0);
}

let result;
{
  const first = await spec.setup();
  const checked = await sanity(first.verify);
  // A token comes round again after tokens.length verifies; by then at least that many minus
  // the verifies in flight were inserted after it, so past the cache size it was evicted.
  if (spec.allMisses && tokens.length <= spec.allMisses + 2 * INFLIGHT) {
    throw new Error(`${name} needs more than ${spec.allMisses + 2 * INFLIGHT} distinct tokens (BENCH_TOKENS), got ${tokens.length}`);
  }
  const warmed = await drive(first.verify, { seconds: WARMUP });
  // Carry on where the warm-up stopped, so no token comes round early.
  const at = warmed % tokens.length;
  const rest = tokens.slice(at).concat(tokens.slice(0, at));
  const before = first.verifier?.stats();
  const meter = startMeter();
  const ops = await drive(first.verify, { seconds: SECONDS }, rest);
  result = { ops, ...meter.stop(), stats: first.verifier?.stats(), sanity: checked };
  if (spec.allMisses && result.stats.cacheHits !== before.cacheHits) {
    throw new Error(`${name} must miss the cache on every verify, but ${result.stats.cacheHits - before.cacheHits} of ${ops} hit`);
  }
}

const per = (ns) => (ns === null ? null : ns / result.ops / 1000);
reply({
  case: name,
  ops: result.ops,
  opsPerSec: result.ops / (result.wallNs / 1e9),
  mainUsPerOp: per(result.mainCpuNs),
  processUsPerOp: per(result.processCpuNs),
  eluUsPerOp: per(result.eluActiveNs),
  elu: result.elu,
  sanity: result.sanity,
  stats: result.stats,
});
