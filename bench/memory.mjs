// Memory under sustained load, in a fresh process (forked with --expose-gc):
// RSS and heapUsed before/after BENCH_MEMORY_VERIFIES verifies (default 1,000,000) through one
// verifier with a small token cache: 90% are hits on a hot set of 100 tokens, 10% cycle
// through 9,900 other distinct tokens (misses, inserts and FIFO evictions). The cache size is
// sampled all along and must never exceed tokenCacheSize.
import { readFileSync } from 'node:fs';
import { envNumber, require, reply } from './lib/common.mjs';

const TOTAL = envNumber('BENCH_MEMORY_VERIFIES', 1_000_000);
const CACHE = envNumber('BENCH_MEMORY_CACHE', 1000);
const INFLIGHT = envNumber('BENCH_INFLIGHT', 64);
const set = JSON.parse(readFileSync(process.env.BENCH_TOKENS_FILE, 'utf8'));
const { Auth0Verifier } = require('./index.js');
const verifier = new Auth0Verifier({ issuer: set.issuer, jwksUri: set.jwksUri, audience: set.audience, tokenCacheSize: CACHE });

const hot = set.distinct.slice(0, 100);
const cold = set.distinct.slice(100, 10_000);
let maxCacheSize = 0;
let sampled = 0;

async function run(count) {
  let next = 0;
  async function lane() {
    while (next < count) {
      const i = next++;
      const token = i % 10 === 9 ? cold[Math.floor(i / 10) % cold.length] : hot[i % hot.length];
      const claims = await verifier.verify(token);
      if (typeof claims.sub !== 'string') throw new Error('bad claims');
      if ((i & 4095) === 0) {
        maxCacheSize = Math.max(maxCacheSize, verifier.stats().cacheSize);
        sampled++;
      }
    }
  }
  await Promise.all(Array.from({ length: INFLIGHT }, lane));
}

function snapshot() {
  global.gc();
  global.gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external };
}

await run(20_000); // JWKS fetch, JIT warm-up, cache filled
const before = snapshot();
const t0 = performance.now();
await run(TOTAL);
const seconds = (performance.now() - t0) / 1000;
const after = snapshot();
const stats = verifier.stats();
maxCacheSize = Math.max(maxCacheSize, stats.cacheSize);
reply({
  verifies: TOTAL,
  seconds,
  before,
  after,
  peakRss: process.resourceUsage().maxRSS * 1024,
  cacheLimit: CACHE,
  maxCacheSize,
  sampled,
  withinBound: maxCacheSize <= CACHE,
  stats,
});
