#!/usr/bin/env node
// `npm test`: lint, type-check and build every project and run all three tiers of tests
// (jest.preset.js): `test` (unit), `test-int` (real PostgreSQL/Redis) and `e2e` (the built app),
// then close with one summary line: "N passed, N failed, N skipped". `typecheck` runs tsc on each
// tsconfig.spec.json: Jest's SWC transform strips types without checking them, so a spec's type
// errors show nowhere else. One `nx run-many` schedules them all, so the app is built
// once before its e2e target. Test counts come from tools/scripts/jest-summary-reporter.js
// (tmp/test-results/<project>[.<tier>].json).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = join(root, 'tmp', 'test-results');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

function nx(args, options = {}) {
  const started = Date.now();
  const run = spawnSync('npx', ['nx', ...args], {
    cwd: root,
    env,
    stdio: 'inherit',
    shell: process.platform === 'win32',
    ...options,
  });
  if (run.error) console.error(`could not run nx ${args.join(' ')}: ${run.error.message}`);
  return { ...run, seconds: (Date.now() - started) / 1000 };
}

/** Moves this phase's result files into their own folder and reads them. */
function collect(phase) {
  const phaseDir = join(resultsDir, phase);
  mkdirSync(phaseDir, { recursive: true });
  const files = existsSync(resultsDir) ? readdirSync(resultsDir).filter((f) => f.endsWith('.json')) : [];
  return files.sort().map((file) => {
    renameSync(join(resultsDir, file), join(phaseDir, file));
    const r = JSON.parse(readFileSync(join(phaseDir, file), 'utf8'));
    return {
      project: r.project,
      passed: r.passed ?? 0,
      failed: r.failed ?? 0,
      skipped: r.skipped ?? 0,
      failures: r.failures ?? [],
    };
  });
}

function table(rows) {
  const header = ['project', 'passed', 'failed', 'skipped'];
  const cells = rows.map((r) => [r.project, String(r.passed), String(r.failed), String(r.skipped)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

// The metrics lint test runs promtool on a real scrape. It is not on npm: the script unpacks Debian's
// binary into a cache folder once (a few seconds; then it only checks). When that fails the test
// itself fails saying how to install it, so a failure here is only reported.
const promtool = spawnSync('bash', [join(root, 'tools/scripts/install-promtool.sh')], { cwd: root, env, stdio: 'inherit' });
if (promtool.status !== 0) console.error('could not install promtool: the metrics lint test will say what is missing');

rmSync(resultsDir, { recursive: true, force: true });
const problems = [];
const rows = [];
const timings = [];

const TARGETS = ['lint', 'typecheck', 'test', 'test-int', 'e2e', 'build'];
const main = nx(['run-many', '-t', ...TARGETS, '--skip-nx-cache', '--output-style=static']);
timings.push(`${TARGETS.join('/')} ${main.seconds.toFixed(1)} s`);
if (main.status !== 0) problems.push(`nx run-many -t ${TARGETS.join(' ')} failed (exit ${main.status ?? main.signal})`);
rows.push(...collect('run-many'));

// The platform as npm packages: API reports, a release dry run, and the example app installed
// from the packed tarballs (tools/scripts/package-checks.mjs).
const packages = spawnSync('node', [join(root, 'tools/scripts/package-checks.mjs')], { cwd: root, env, stdio: 'inherit' });
if (packages.status !== 0) problems.push(`package checks failed (exit ${packages.status ?? packages.signal})`);
rows.push(...collect('packages', ' (example)'));

const total = rows.reduce(
  (t, r) => ({ passed: t.passed + r.passed, failed: t.failed + r.failed, skipped: t.skipped + r.skipped }),
  { passed: 0, failed: 0, skipped: 0 },
);
if (total.failed > 0) problems.push(`${total.failed} test(s) failed`);
if (total.passed + total.failed === 0) problems.push('no test ran');

console.log('');
console.log(table(rows));
console.log('');
console.log(`time: ${timings.join(', ')}`);
for (const failure of rows.flatMap((r) => r.failures)) console.log(`FAILED TEST: ${failure}`);
for (const problem of problems) console.log(`FAILED: ${problem}`);
console.log(`${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(problems.length > 0 ? 1 : 0);
