// Running a process under callgrind and reading its counts: shared by the instruction-count
// benchmarks (bench/instructions.mjs, bench/instructions-http.mjs).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Exits with a clear message where valgrind is missing. */
export function requireValgrind() {
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    console.error('valgrind is not installed (Debian: apt-get install valgrind)');
    process.exit(1);
  }
}

/** Callgrind arguments: per-thread counts, fair scheduling, output files in `dir`. */
export function callgrindArgs(dir) {
  return ['--tool=callgrind', '--separate-threads=yes', '--fair-sched=yes', `--callgrind-out-file=${join(dir, 'out.%p')}`];
}

/** Runs a child to its end without blocking this process (which may serve the child's JWKS). */
export function runToEnd(command, args, options) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Instruction totals of the callgrind output files in `dir` whose names `accept` takes:
 * `js` for the main (JS) thread, callgrind's thread 1 (files ending in -01), `other` for the
 * rest. With --separate-threads=yes every thread has its own file.
 */
export function threadTotals(dir, accept = () => true) {
  let js = 0;
  let other = 0;
  for (const file of readdirSync(dir)) {
    if (!accept(file)) continue;
    const summary = /^summary: (\d+)$/m.exec(readFileSync(join(dir, file), 'utf8'));
    if (!summary) continue;
    const thread = /-(\d+)$/.exec(file);
    if (!thread || thread[1] === '01') js += Number(summary[1]);
    else other += Number(summary[1]);
  }
  return { js, other };
}
