// Shared helpers for the benchmark processes (no dependencies).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const require = createRequire(join(ROOT, 'package.json'));

export function envNumber(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a non-negative number, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * The rows of `cases` (each `[name, ...]`) named in the comma list of env var `name`, or all of
 * them when it is unset. An unknown name throws. `partial`: a list was given (a partial run
 * does not overwrite bench/results).
 */
export function casesFromEnv(name, cases) {
  const only = process.env[name]?.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = only?.filter((c) => !cases.some(([k]) => k === c)) ?? [];
  if (unknown.length) throw new Error(`unknown ${name}: ${unknown.join(', ')}; cases: ${cases.map(([k]) => k).join(', ')}`);
  return { selected: only ? cases.filter(([k]) => only.includes(k)) : cases, partial: only !== undefined };
}

/**
 * CPU time (ns) the calling process's MAIN thread has spent on a CPU, from the kernel's
 * per-thread scheduler accounting (/proc/self/task/<pid>/schedstat, field 1). Unlike
 * process.cpuUsage() it excludes the tokio pool, libuv's threadpool and V8's background
 * (GC/compiler) threads: it is exactly the JS thread's cost. Falls back to null off Linux.
 */
export function mainThreadCpuNs() {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    return null;
  }
}

/** A window of wall time, main-thread CPU, whole-process CPU and event-loop utilization. */
export function startMeter() {
  const t0 = process.hrtime.bigint();
  const main0 = mainThreadCpuNs();
  const cpu0 = process.cpuUsage();
  const elu0 = performance.eventLoopUtilization();
  return {
    stop() {
      const wallNs = Number(process.hrtime.bigint() - t0);
      const main1 = mainThreadCpuNs();
      const cpu = process.cpuUsage(cpu0);
      const elu = performance.eventLoopUtilization(elu0);
      return {
        wallNs,
        mainCpuNs: main0 === null || main1 === null ? null : main1 - main0,
        processCpuNs: (cpu.user + cpu.system) * 1000,
        eluActiveNs: elu.active * 1e6,
        elu: elu.utilization,
      };
    },
  };
}

/**
 * Keeps `inflight` calls of async `fn(token)` running until `seconds` pass or `limit` calls
 * completed. Promises that settle synchronously (cache hits) never yield to the event loop,
 * so the deadline is checked every 256 completions rather than by a timer.
 */
export async function driveAsync(fn, tokens, { inflight = 64, seconds = Infinity, limit = Infinity }) {
  const n = tokens.length;
  const deadline = performance.now() + seconds * 1000;
  let next = 0;
  let done = 0;
  let failed = 0;
  let stop = false;
  let firstError;
  async function lane() {
    while (!stop && next < limit) {
      const token = tokens[next++ % n];
      try {
        await fn(token);
      } catch (e) {
        failed++;
        firstError ??= e;
      }
      done++;
      if ((done & 255) === 0 && performance.now() > deadline) stop = true;
    }
  }
  const lanes = [];
  for (let i = 0; i < inflight; i++) lanes.push(lane());
  await Promise.all(lanes);
  if (failed) throw new Error(`${failed} verifies failed during the run, first: ${firstError?.code ?? ''} ${firstError?.message}`);
  return done;
}

/** Same for a synchronous `fn` (fast-jwt's sync verifier): a tight loop, its best case. */
export function driveSync(fn, tokens, { seconds = Infinity, limit = Infinity }) {
  const n = tokens.length;
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  while (done < limit) {
    fn(tokens[done % n]);
    done++;
    if ((done & 255) === 0 && performance.now() > deadline) break;
  }
  return done;
}

export function machine() {
  let cpu = 'unknown';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    cpu = /^model name\s*:\s*(.+)$/m.exec(info)?.[1]?.trim() ?? cpu;
  } catch {}
  return { nproc: availableParallelism(), cpu, node: process.version, platform: `${process.platform}-${process.arch}` };
}

export function versions(names) {
  const out = {};
  for (const name of names) {
    try {
      out[name] = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version;
    } catch {
      out[name] = '?';
    }
  }
  return out;
}

/** Sends one JSON message to the parent (IPC) and exits once it is flushed; prints it when run by hand. */
export function reply(message) {
  if (process.send) process.send(message, () => process.exit(0));
  else console.log(JSON.stringify(message, null, 2)); // run by hand
}

/** Share of all CPUs busy (not idle/iowait) over `ms`, from /proc/stat; null off Linux. */
export async function machineBusy(ms = 1000) {
  const read = () => {
    try {
      const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      return { idle: f[3] + f[4], total: f.reduce((a, b) => a + b, 0) };
    } catch {
      return null;
    }
  };
  const a = read();
  await new Promise((r) => setTimeout(r, ms));
  const b = read();
  if (!a || !b || b.total === a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}
