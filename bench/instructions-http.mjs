// `npm run bench:instructions:http`: user-space instructions per HTTP request of each server,
// counted by callgrind, for the HTTP share targets (ours as a share of the no-auth ceiling).
//
// Why: over the network on this 2-core VM, one run's share is good to about ±15 % (the A/A
// control of `npm run bench`: an identical second no-auth server measures 94-118 % of the
// first), because the same work costs twice as much CPU in some seconds as in others.
// Instruction counts do not depend on what else the machine is doing; they still move with
// when garbage collections fall (see below), so they narrow the question, not close it.
//
// How: each server (bench/server.mjs) runs under `valgrind --tool=callgrind` with V8
// --single-threaded (no concurrent compiler or GC threads: their work lands on the counted
// thread). A client in this process keeps BENCH_CONNECTIONS (50) keep-alive requests in
// flight. Under callgrind the server is far slower than the client, so every wake-up finds
// many requests waiting: a saturated server, as in `npm run bench`. After a warm-up
// (instruction counts per request fall for the first few thousand requests, as V8 tiers up
// and sizes its heap), callgrind's counters are zeroed, then dumped after each of a few
// equal windows. Reported: all windows' instructions over all their requests, since garbage
// collection is part of what a request costs but lands in one window or another (on Express,
// a 1,000-request window with a full mark-compact counted up to 20 % more); the windows'
// range beside it.
//
// What it does not count: the kernel, whose TCP work per request is about the same for every
// server (so counting it would pull every share towards 100 %). Nor time: instructions differ
// in cost (cache misses, syscalls), and valgrind emulates a CPU without some instruction-set
// extensions. A share here is a share of user-space instructions, not of throughput.
//
// Window sizes: a Hono request costs an eighth of an Express one, so a 1,000-request Hono
// window holds few garbage collections and its count moved by up to ±7 % between windows
// and runs; Hono windows are 5,000 requests (within about ±5 %), Express ones 1,000.
//
// Environment: BENCH_INSTR_HTTP_WARMUP (5000 requests), BENCH_INSTR_HTTP_WINDOW (requests per
// window for every case; unset or 0: the per-framework sizes above), BENCH_INSTR_HTTP_WINDOWS (4),
// BENCH_INSTR_HTTP_CASES (comma list of kinds),
// BENCH_INSTR_HTTP_KEEP=1 keeps the callgrind files (one per window and thread) for
// `callgrind_annotate`. Results: stdout, and bench/results/instructions-http.md for a full run.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { callgrindArgs, requireValgrind, threadTotals } from './lib/callgrind.mjs';
import { ask, stopChild } from './lib/children.mjs';
import { casesFromEnv, envNumber, machine, require, ROOT } from './lib/common.mjs';
import { HTTP_SHARE_TARGETS } from './lib/targets.mjs';
import { mintTokenSet } from './lib/tokens.mjs';

const WARMUP = envNumber('BENCH_INSTR_HTTP_WARMUP', 5000);
const WINDOW_OVERRIDE = envNumber('BENCH_INSTR_HTTP_WINDOW', 0);
/** Requests per window for a server kind (see "Window sizes" above). */
const windowOf = (kind) => Math.max(1, WINDOW_OVERRIDE || (kind.startsWith('hono') ? 5000 : 1000));
const WINDOWS = Math.max(1, envNumber('BENCH_INSTR_HTTP_WINDOWS', 4));
const IN_FLIGHT = Math.max(1, envNumber('BENCH_CONNECTIONS', 50));
/** Start-up under callgrind takes about 25 s (Hono) to a minute; nothing may hang forever. */
const START_MS = 300_000;
const REQUEST_MS = 60_000;
const CASES = [
  // [kind (bench/server.mjs), label, verifies tokens?]
  ['hono-none', 'Hono, no auth (ceiling)', false],
  ['hono-floor', 'Hono + `(c, next) => next()` (control)', false],
  ['hono-ours', 'Hono + auth0-native auth(), repeated token', true],
  ['express-none', 'Express 5, no auth (ceiling)', false],
  ['express-floor', 'Express 5 + `(req, res, next) => next()` (control)', false],
  ['express-ours', 'Express 5 + auth0-native auth(), repeated token', true],
];

requireValgrind();
const { selected, partial } = casesFromEnv('BENCH_INSTR_HTTP_CASES', CASES);

const { startLocalIssuer } = require('./dist/testing/index.js');
const issuer = await startLocalIssuer();
const set = mintTokenSet(issuer, 1);
const work = mkdtempSync(join(tmpdir(), 'auth0-native-instr-http-'));

/** Sends `n` GETs with IN_FLIGHT in flight on keep-alive connections; resolves with the statuses seen. */
async function load(target, n, token = set.repeated) {
  const statuses = new Map();
  let started = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: target.port, path: target.path, agent: target.agent, headers: { authorization: `Bearer ${token}` }, timeout: REQUEST_MS }, (res) => {
        res.resume();
        res.on('end', () => {
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          resolve();
        });
        res.on('error', reject); // includes a response aborted mid-body
      });
      req.on('timeout', () => req.destroy(new Error(`no response within ${REQUEST_MS / 1000} s`)));
      req.on('error', reject);
    });
  const lane = async () => {
    while (started < n) {
      started++;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, n) }, lane));
  return statuses;
}

function expectAll(statuses, n, status, what) {
  if (statuses.get(status) !== n) throw new Error(`${what}: expected ${n} x ${status}, got ${JSON.stringify([...statuses])}`);
}

/** JS-thread and other-thread instructions per request in each window, for one server kind. */
async function count(kind, verifies) {
  const dir = join(work, kind);
  mkdirSync(dir, { recursive: true });
  const env = { ...process.env, BENCH_ISSUER: set.issuer, BENCH_JWKS_URI: set.jwksUri, BENCH_AUDIENCE: set.audience };
  const args = [...callgrindArgs(dir), process.execPath, '--single-threaded', join(ROOT, 'bench', 'server.mjs'), kind];
  const child = spawn('valgrind', args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  try {
    const message = await ask(child, null, `${kind} under valgrind`, START_MS).catch((e) => {
      throw new Error(`${e.message}: ${stderr.split('\n').slice(-6).join(' | ')}`);
    });
    const target = { port: message.port, path: message.path, agent };
    if (verifies) {
      for (const [what, token] of Object.entries(set.bad)) expectAll(await load(target, 1, token), 1, 401, `${kind}, ${what} token`);
    }
    expectAll(await load(target, WARMUP), WARMUP, 200, `${kind} warm-up`);
    callgrindControl('-z', child.pid);
    const windows = [];
    const window = windowOf(kind);
    for (let w = 1; w <= WINDOWS; w++) {
      expectAll(await load(target, window), window, 200, `${kind} window ${w}`);
      callgrindControl('-d', child.pid);
      windows.push(await windowTotals(dir, w, kind));
    }
    return windows;
  } finally {
    agent.destroy();
    // Writing the final dump takes valgrind a few seconds; a server that ignores 'exit' does not get forever.
    await stopChild(child, 60_000);
  }
}

/**
 * callgrind_control exits 0 even when it reached no callgrind run; on success it prints
 * "PID <pid>: <command line>" and "OK." (its progress goes to stderr).
 */
function callgrindControl(command, pid) {
  const output = execFileSync('callgrind_control', [command, String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  if (!output.includes(`PID ${pid}:`) || !/^\s*OK\.\s*$/m.test(output)) {
    throw new Error(`callgrind_control ${command} ${pid} reached no callgrind run: ${output.trim()}`);
  }
}

/**
 * Instructions per request of window `w`: dump w writes out.<pid>.<w>-<thread>, the counts
 * since the previous dump (or the zeroing). Waits for the main thread's file, and refuses a
 * window with no instructions: a lost dump must fail the run, not lower the mean.
 */
async function windowTotals(dir, w, kind) {
  const ofWindow = (file) => new RegExp(`\\.${w}-\\d+$`).test(file);
  for (let waited = 0; !readdirSync(dir).some((f) => ofWindow(f) && f.endsWith('-01')); waited += 100) {
    if (waited > 10_000) throw new Error(`${kind}: callgrind wrote no dump for window ${w}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const totals = threadTotals(dir, ofWindow);
  if (!(totals.js > 0)) throw new Error(`${kind}: window ${w}'s dump holds no instructions`);
  return { js: totals.js / windowOf(kind), other: totals.other / windowOf(kind) };
}

/** Equal windows, so the mean of their per-request figures is the per-request figure of all. */
function mean(values) {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

const rows = [];
try {
  for (const [kind, label, verifies] of selected) {
    console.error(`counting ${kind} (${WARMUP} requests of warm-up, then ${WINDOWS} windows of ${windowOf(kind)}) under callgrind...`);
    const windows = await count(kind, verifies);
    const js = windows.map((w) => w.js);
    rows.push({ kind, label, js: mean(js), min: Math.min(...js), max: Math.max(...js), other: mean(windows.map((w) => w.other)) });
    console.error(`  ${kind}: ${js.map((x) => Math.round(x)).join(', ')} JS-thread instructions per request`);
  }
} finally {
  await issuer.close();
  if (process.env.BENCH_INSTR_HTTP_KEEP === '1' && existsSync(work)) console.error(`callgrind files kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

const byKind = Object.fromEntries(rows.map((r) => [r.kind, r]));
/** The no-auth server's instructions per request over this kind's. */
const shareOfCeiling = (kind) => {
  const ceiling = byKind[`${kind.split('-')[0]}-none`];
  return ceiling && byKind[kind] ? ceiling.js / byKind[kind].js : null;
};
const fmt = (n) => Math.round(n).toLocaleString('en-US');
/** The window sizes of the cases that ran, e.g. "5,000 (Hono) or 1,000 (Express)". */
function windowSizes() {
  const sizes = new Map(rows.map((r) => [windowOf(r.kind), r.kind.startsWith('hono') ? 'Hono' : 'Express']));
  if (sizes.size === 1) return fmt([...sizes.keys()][0]);
  return [...sizes].map(([size, framework]) => `${fmt(size)} (${framework})`).join(' or ');
}
const pct = (x) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);
const env = machine();
const lines = [
  `## User-space instructions per HTTP request (callgrind, ${new Date().toISOString().slice(0, 10)})`,
  '',
  `Machine: ${env.nproc} CPUs, ${env.cpu}, Node ${env.node}. Each server under callgrind, V8 --single-threaded, ${IN_FLIGHT} requests in flight on keep-alive connections; ` +
    `${fmt(WARMUP)} requests of warm-up, then ${WINDOWS} windows of ${windowSizes()} requests: instructions over all of them per request, with the windows' range. The kernel is not counted (see bench/instructions-http.mjs).`,
  '',
  '"share of ceiling" = the no-auth server\'s instructions per request divided by this row\'s: what this server\'s throughput would be, as a share of the ceiling\'s, if instructions were all a request cost.',
  '',
  '| server | JS-thread instructions / request (range) | share of ceiling | other threads / request |',
  '|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.label} | ${fmt(r.js)} (${fmt(r.min)}-${fmt(r.max)}) | ${r.kind.endsWith('-none') ? '(ceiling)' : pct(shareOfCeiling(r.kind))} | ${fmt(r.other)} |`),
  '',
];
for (const [framework, target] of Object.entries(HTTP_SHARE_TARGETS)) {
  const ours = shareOfCeiling(`${framework}-ours`);
  if (ours === null) continue;
  const floor = shareOfCeiling(`${framework}-floor`);
  lines.push(`- ${framework}: ours (repeated token) at ${pct(ours)} of the ceiling's user-space instructions per request (target ${pct(target)} of its throughput: ${ours >= target ? 'above' : 'below'} it)` +
    `${floor === null ? '' : `; \`next()\` alone ${pct(floor)}, so ours is ${pct(ours / floor)} of that floor`}.`);
}
lines.push('');
const text = lines.join('\n');
console.log(text);
if (!partial) {
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'instructions-http.md'), text);
}
