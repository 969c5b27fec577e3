// Where does a verify's main-thread time go? `node bench/profile.mjs [case ...]`
// (cases from micro.mjs; default ours-distinct-nocache and ours-repeated).
//
// 1. Always: runs the case under `node --cpu-prof` and prints self time by function
//    (V8's view: our addon's native work shows up as the `verify` API callback and as
//    `(program)`; JSON.parse of the claims inside settle appears under `(program)`).
// 2. With BENCH_PERF=1 and `perf` installed: `perf record --call-graph dwarf` and buckets the
//    MAIN thread's samples by the first recognisable frame (leaf to root): JSON.parse of the
//    claims, token copy, cache lookup, tokio spawn, promise create/resolve, napi-rs glue...
//    Rust symbols need an unstripped build of the addon; build one outside the tree with
//      CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
//        npx napi build --platform --release --target-dir /tmp/prof-target --output-dir /tmp/prof-node --no-js
//    and run with NAPI_RS_NATIVE_LIBRARY_PATH=/tmp/prof-node/auth0-native.linux-x64-gnu.node.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envNumber, require, ROOT } from './lib/common.mjs';
import { mintTokenSet } from './lib/tokens.mjs';

const cases = process.argv.slice(2).length ? process.argv.slice(2) : ['ours-distinct-nocache', 'ours-repeated'];
const seconds = envNumber('BENCH_MICRO_SECONDS', 3);
const { startLocalIssuer } = require('./dist/testing/index.js');
const issuer = await startLocalIssuer();
const work = mkdtempSync(join(tmpdir(), 'auth0-native-profile-'));
const tokensFile = join(work, 'tokens.json');
writeFileSync(tokensFile, JSON.stringify(mintTokenSet(issuer, envNumber('BENCH_TOKENS', 12000))));
const env = { ...process.env, BENCH_TOKENS_FILE: tokensFile, BENCH_MICRO_SECONDS: String(seconds) };

// The children talk to the issuer in THIS process, so they must run asynchronously.
function run(cmd, args) {
  return new Promise((resolve, reject) => {
    // cwd: the temp dir, so V8's isolate-*.log files (--perf-basic-prof) do not land in the repo.
    const child = spawn(cmd, args, { cwd: work, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}`))));
  });
}

function printCpuProfile(profile) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const key = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/(node_modules\/)?/, '')}:${lineNumber + 1}` : ''}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  const busy = total - (self.get('(idle)') ?? 0);
  console.log(`--cpu-prof self time (share of non-idle main-thread time):`);
  for (const [k, v] of [...self].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, 12)) {
    console.log(`  ${((100 * v) / busy).toFixed(1).padStart(5)}%  ${k}`);
  }
}

const RULES = [
  [/JsonParser|Builtin_JsonParse/, 'settle: JSON.parse of the claims JSON'],
  [/napi_create_string_(utf8|latin1)/, 'settle: claims JSON copied into a V8 string'],
  [/napi_resolve_deferred|napi_reject_deferred/, 'settle: resolve/reject the promise'],
  [/napi_get_value_string_utf8|read_token|from_utf8/, 'verify(): token copied out of V8 (+ UTF-8 check)'],
  [/napi_create_promise/, 'verify(): napi_create_promise'],
  [/verify_cached|TokenCache|token_cache|SHA256|sha256/i, 'verify(): token-cache lookup (SHA-256 + map)'],
  [/tokio::|Auth0Verifier::spawn|posix_memalign|_mid_memalign/, 'verify(): tokio spawn (task alloc, queue, wake a worker)'],
  [/begin_job|napi_ref_threadsafe|napi_unref_threadsafe/, 'TSFN ref/unref'],
  [/Shared::settle|verify_error/, 'settle: other (handle scope, refs)'],
  [/completion::call_js/, 'TSFN batch callback: other'],
  [/ThreadSafeFunction::AsyncCb|uv__async_io|CallbackScope/, 'TSFN wake-up dispatch (uv async, callback scope)'],
  [/native_borrow|class_identity|napi_unwrap|GetPrivate/, 'verify(): napi-rs `&self` borrow tracking + unwrap'],
  [/verify_c_callback|Auth0Verifier::verify|FunctionCallbackWrapper/, 'verify(): other napi glue'],
  [/Scavenge|Heap::|MarkCompact|GCTracer|Sweeper/, 'GC'],
  [/JS:|RunMicrotasks|PromiseFulfill|AsyncFunction|Builtins_/, 'JS: bench lanes, awaits, microtasks'],
  [/epoll_pwait|uv__io_poll/, 'event loop: epoll (kernel)'],
];

async function perfBuckets(name) {
  const data = join(work, `${name}.perf`);
  await run('perf', ['record', '-q', '-F', '1999', '--call-graph', 'dwarf,16384', '-o', data, process.execPath, '--perf-basic-prof', join(ROOT, 'bench', 'micro.mjs'), name]);
  const script = execFileSync('perf', ['script', '-i', data, '-F', 'pid,tid,ip,sym'], { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
  const counts = new Map();
  let total = 0;
  for (const block of script.split('\n\n')) {
    const lines = block.split('\n').filter(Boolean);
    if (!lines.length) continue;
    const [pid, tid] = lines[0].trim().split(/\s+/)[0].split('/');
    if (pid !== tid) continue; // main thread only
    const frames = lines.slice(1).map((l) => l.trim().split(/\s+/).slice(1).join(' '));
    total++;
    const hit = frames.map((f) => RULES.find(([re]) => re.test(f))).find(Boolean);
    const key = hit ? hit[1] : `other: ${frames[0]?.slice(0, 60)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  console.log(`perf, main thread (${total} samples), by first recognised frame:`);
  for (const [k, v] of [...counts].sort((a, b) => b[1] - a[1]).slice(0, 16)) console.log(`  ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
}

for (const name of cases) {
  console.log(`\n=== ${name} ===`);
  const dir = join(work, name);
  const out = JSON.parse(await run(process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, join(ROOT, 'bench', 'micro.mjs'), name]));
  console.log(`${Math.round(out.opsPerSec).toLocaleString('en-US')} ops/s, main thread ${out.mainUsPerOp.toFixed(2)} us/op, process ${out.processUsPerOp.toFixed(2)} us/op`);
  const profile = JSON.parse(readFileSync(join(dir, readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))), 'utf8'));
  printCpuProfile(profile);
  if (process.env.BENCH_PERF === '1') await perfBuckets(name);
}
await issuer.close();
rmSync(work, { recursive: true, force: true });
