// `npm run bench:instructions`: JS-thread instructions per verify, counted by callgrind.
//
// Why: on a shared 2-core VM, timings of the same build move by 20-50 % between runs, so a
// 10 % change of the event-loop cost cannot be seen in `npm run bench`. Instruction counts
// do not depend on what else the machine is doing. Each case runs `bench/micro.mjs <case>`
// in count mode under `valgrind --tool=callgrind --separate-threads=yes` twice (N1 and N2
// verifies); (count(N2) - count(N1)) / (N2 - N1) cancels start-up, setup and JIT warm-up.
// V8 runs with --single-threaded (no concurrent compiler or GC threads), and async cases keep
// ONE verify in flight, so every completion is its own wake-up: the worst case for us,
// and deterministic (with 64 in flight the batch sizes depend on thread scheduling).
//
// What it does not say: time. Instructions differ in cost (a cache miss, a syscall), and
// valgrind reports a CPU without some instruction-set extensions, so crypto libraries pick
// other code paths there; RSA is counted on the thread that runs it (ours: the tokio pool,
// jose: libuv's pool, fast-jwt: the JS thread).
//
// Environment: BENCH_INSTR_N1 (2000), BENCH_INSTR_N2 (6000) for cache hits; distinct-token cases
// use half of that; BENCH_INSTR_WARMUP (2000) verifies first; BENCH_INSTR_CASES (a comma list
// of case names) counts only those, e.g. to compare two builds of the addon through
// NAPI_RS_NATIVE_LIBRARY_PATH. Results: stdout, and bench/results/instructions.md for a full run.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callgrindArgs, requireValgrind, runToEnd, threadTotals } from './lib/callgrind.mjs';
import { casesFromEnv, envNumber, machine, require, ROOT } from './lib/common.mjs';
import { mintTokenSet } from './lib/tokens.mjs';

const N1 = envNumber('BENCH_INSTR_N1', 2000);
const N2 = envNumber('BENCH_INSTR_N2', 6000);
// Verifies before counting in both runs (see micro.mjs count mode).
const WARMUP = envNumber('BENCH_INSTR_WARMUP', 2000);
// Distinct-token cases count half as many verifies (each one costs an RSA verify).
const DISTINCT_SHARE = 2;
const CASES = [
  // [case, label, distinct?]
  ['ours-repeated-sync', 'auth0-native verifyCached() (sync cache hit)', false],
  ['ours-repeated', 'auth0-native verify() (cache hit, promise)', false],
  ['fastjwt-repeated-cache', 'fast-jwt sync, cache on (hit)', false],
  ['ours-distinct', 'auth0-native verify(), distinct tokens (miss, cache on)', true],
  ['jose-distinct', 'jose jwtVerify + createRemoteJWKSet, distinct tokens', true],
  ['fastjwt-distinct', 'fast-jwt sync, cache off, distinct tokens', true],
];

requireValgrind();

const { startLocalIssuer } = require('./dist/testing/index.js');
const issuer = await startLocalIssuer();
const work = mkdtempSync(join(tmpdir(), 'auth0-native-instr-'));
const tokensFile = join(work, 'tokens.json');
const distinctNeeded = Math.ceil(N2 / DISTINCT_SHARE) + WARMUP;
writeFileSync(tokensFile, JSON.stringify(mintTokenSet(issuer, distinctNeeded)));

/** Instructions on the JS thread (callgrind's thread 1) and on all other threads, for n verifies. */
async function count(name, n) {
  const dir = join(work, `${name}-${n}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const args = [...callgrindArgs(dir), process.execPath, '--single-threaded', join(ROOT, 'bench', 'micro.mjs'), name];
  const env = { ...process.env, BENCH_TOKENS_FILE: tokensFile, BENCH_COUNT: String(n), BENCH_COUNT_WARMUP: String(WARMUP), BENCH_INFLIGHT: '1' };
  const result = await runToEnd('valgrind', args, { cwd: ROOT, env });
  const reported = /"ops":(\d+)/.exec(result.stdout);
  if (result.status !== 0 || !reported || Number(reported[1]) !== n) {
    throw new Error(`${name} x${n} under valgrind failed (exit ${result.status}): ${result.stderr.split('\n').slice(-8).join(' | ')}`);
  }
  return threadTotals(dir);
}

const { selected, partial } = casesFromEnv('BENCH_INSTR_CASES', CASES);

const rows = [];
for (const [name, label, distinct] of selected) {
  const [n1, n2] = distinct ? [N1 / DISTINCT_SHARE, N2 / DISTINCT_SHARE] : [N1, N2];
  console.error(`counting ${name} (${n1} and ${n2} verifies under callgrind)...`);
  const a = await count(name, n1);
  const b = await count(name, n2);
  rows.push({ name, label, js: (b.js - a.js) / (n2 - n1), other: (b.other - a.other) / (n2 - n1) });
}
await issuer.close();
rmSync(work, { recursive: true, force: true });

const byName = Object.fromEntries(rows.map((r) => [r.name, r]));
const ratio = (ours, theirs) => (byName[ours] && byName[theirs] ? `${(byName[theirs].js / byName[ours].js).toFixed(2)}x` : '-');
const vs = {
  'fastjwt-repeated-cache': ratio('ours-repeated-sync', 'fastjwt-repeated-cache'),
  'jose-distinct': ratio('ours-distinct', 'jose-distinct'),
  'fastjwt-distinct': ratio('ours-distinct', 'fastjwt-distinct'),
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const env = machine();
const lines = [
  `## JS-thread instructions per verify (callgrind, ${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${env.nproc} CPUs, ${env.cpu}, Node ${env.node}. ${fmt(N2 - N1)} cache hits / ${fmt((N2 - N1) / DISTINCT_SHARE)} distinct tokens counted per case (difference of two runs), one verify in flight, V8 --single-threaded.`,
  '"ours / this": this row\'s JS-thread instructions divided by ours for the same kind of work (>1: ours costs the event loop less).',
  '',
  '| case | JS-thread instructions / verify | ours / this | other threads / verify |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${fmt(r.js)} | ${vs[r.name] ?? '(ours)'} | ${fmt(r.other)} |`),
  '',
];
const text = lines.join('\n');
console.log(text);
if (!partial) writeFileSync(join(ROOT, 'bench', 'results', 'instructions.md'), text);
