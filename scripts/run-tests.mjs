// Runs every test: the Rust core (`cargo test`) and the Node suites in __test__/.
// Fails when anything fails AND when no test ran at all: Node 20's runner exits 0 after
// finding zero files, which would otherwise pass silently.
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function run(command, args, { parse }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    });
    child.on('close', (code) => resolve({ code, ...parse(output) }));
  });
}

function parseCargo(output) {
  let passed = 0;
  let failed = 0;
  for (const m of output.matchAll(/test result: \w+\. (\d+) passed; (\d+) failed/g)) {
    passed += Number(m[1]);
    failed += Number(m[2]);
  }
  return { passed, failed };
}

function parseNode(output) {
  const count = (name) => Number(output.match(new RegExp(`^# ${name} (\\d+)`, 'm'))?.[1] ?? 0);
  // Names of failed tests at any depth (TAP `not ok N - name`), repeated in the summary so a
  // rare failure can be identified from the last lines of a CI log.
  const failures = [...output.matchAll(/^\s*not ok \d+ - (.*)$/gm)].map((m) => m[1]);
  return { passed: count('pass'), failed: count('fail') + count('cancelled'), total: count('tests'), failures };
}

const files = readdirSync(new URL('../__test__/', import.meta.url)).filter((f) => /\.test\.m?js$/.test(f));
if (files.length === 0) {
  console.error('no test files (*.test.mjs) found in __test__/');
  process.exit(1);
}

const cargo = await run('cargo', ['test', '--lib', '--quiet'], { parse: parseCargo });
// A test that hangs (a promise never settled) fails after two minutes with its name,
// instead of holding CI until its job limit.
const node = await run(process.execPath, ['--test', '--test-timeout=120000', '--test-reporter=tap', ...files.map((f) => `__test__/${f}`)], {
  parse: parseNode,
});

const passed = cargo.passed + node.passed;
const failed = cargo.failed + node.failed;
console.log(`\nrust core: ${cargo.passed} passed, ${cargo.failed} failed; node: ${node.passed} passed, ${node.failed} failed (${files.length} files)`);
const problems = [];
if (cargo.code !== 0) problems.push(`cargo test exited ${cargo.code}`);
if (node.code !== 0) problems.push(`node --test exited ${node.code}`);
if (cargo.passed === 0) problems.push('cargo ran no tests');
if (node.total === 0 || node.passed === 0) problems.push('node ran no tests');
for (const name of node.failures) console.error(`not ok: ${name}`);
if (problems.length) console.error(`FAILED: ${problems.join('; ')}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(problems.length || failed ? 1 : 0);
