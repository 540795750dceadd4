#!/usr/bin/env node
// `npm run example:e2e` (and a step of `npm test`): proves a stranger's NestJS app can adopt the
// platform from its npm packages. Packs the platform packages (tmp/packages), copies
// examples/existing-nest-app to a temporary folder (the repository tree stays clean), points its
// `file:` dependencies at the tarballs, installs it with npm (--prefer-offline: npm's cache, which
// the workspace's own install filled, serves what it has), type-checks it and runs its jest e2e
// suite against real PostgreSQL (TEST_DATABASE_URL). Writes the counts to
// tmp/test-results/example-existing-nest-app.json for npm test's summary and prints how long each
// step took. Exits 1 when a step fails; the temporary copy is then kept and named.
// Bounds: EXAMPLE_INSTALL_TIMEOUT_MS (npm install, default 300000), EXAMPLE_TEST_TIMEOUT_MS (the
// type check and the e2e run, each; default 300000).
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packPlatform } from './pack-platform.mjs';
import { workspaceRoot } from './platform-projects.mjs';

const EXAMPLE = join(workspaceRoot, 'examples', 'existing-nest-app');
const RESULT = join(workspaceRoot, 'tmp', 'test-results', 'example-existing-nest-app.json');
const INSTALL_TIMEOUT_MS = Number(process.env['EXAMPLE_INSTALL_TIMEOUT_MS'] ?? 300_000);
const TEST_TIMEOUT_MS = Number(process.env['EXAMPLE_TEST_TIMEOUT_MS'] ?? 300_000);

/** The example's manifest with each `file:` dependency made absolute (it is read from a copy elsewhere). */
function withAbsoluteFileDependencies(manifest) {
  const absolute = (deps = {}) =>
    Object.fromEntries(
      Object.entries(deps).map(([name, spec]) => [name, spec.startsWith('file:') ? `file:${resolve(EXAMPLE, spec.slice(5))}` : spec]),
    );
  return { ...manifest, dependencies: absolute(manifest.dependencies), devDependencies: absolute(manifest.devDependencies) };
}

function step(name, command, args, options) {
  const started = Date.now();
  const run = spawnSync(command, args, { stdio: 'inherit', ...options });
  const seconds = (Date.now() - started) / 1000;
  console.log(`example: ${name} ${run.status === 0 ? 'ok' : 'FAILED'} in ${seconds.toFixed(1)} s`);
  if (run.error) console.error(`example: ${name}: ${run.error.message}`);
  return { ok: run.status === 0, seconds };
}

/** Turns jest's --json output into npm test's per-project result file. */
function recordResult(jestJson) {
  const report = JSON.parse(readFileSync(jestJson, 'utf8'));
  const failures = report.testResults.flatMap((file) =>
    file.assertionResults.filter((a) => a.status === 'failed').map((a) => `examples/existing-nest-app: ${a.fullName}`),
  );
  if (report.numFailedTestSuites > 0 && failures.length === 0) failures.push('examples/existing-nest-app: a test file failed to run');
  mkdirSync(join(workspaceRoot, 'tmp', 'test-results'), { recursive: true });
  writeFileSync(
    RESULT,
    JSON.stringify({
      project: 'example-existing-nest-app',
      passed: report.numPassedTests,
      failed: report.numFailedTests + (failures.length > report.numFailedTests ? 1 : 0),
      skipped: report.numPendingTests,
      failures,
    }),
  );
}

export async function exampleE2e() {
  const timings = [];
  const started = Date.now();
  await packPlatform();
  timings.push(`pack ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const copy = mkdtempSync(join(tmpdir(), 'modulith-example-'));
  cpSync(EXAMPLE, copy, {
    recursive: true,
    filter: (src) => !relative(EXAMPLE, src).split(sep).some((part) => part === 'node_modules' || part === 'dist'),
  });
  const manifest = JSON.parse(readFileSync(join(EXAMPLE, 'package.json'), 'utf8'));
  writeFileSync(join(copy, 'package.json'), JSON.stringify(withAbsoluteFileDependencies(manifest), null, 2));

  const env = { ...process.env, CI: 'true' };
  for (const key of Object.keys(env)) if (key.startsWith('NX_') || key.startsWith('npm_')) delete env[key];
  const steps = [
    ['install', 'npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'], INSTALL_TIMEOUT_MS],
    ['typecheck', 'npx', ['--no-install', 'tsc', '-p', 'tsconfig.json', '--noEmit'], TEST_TIMEOUT_MS],
    ['e2e', 'npx', ['--no-install', 'jest', '--ci', '--json', '--outputFile', join(copy, 'jest-results.json')], TEST_TIMEOUT_MS],
  ];
  let ok = true;
  for (const [name, command, args, timeout] of steps) {
    const result = step(name, command, args, { cwd: copy, env, timeout });
    timings.push(`${name} ${result.seconds.toFixed(1)} s`);
    if (name === 'e2e') {
      try {
        recordResult(join(copy, 'jest-results.json'));
      } catch (error) {
        console.error(`example: no jest results (${error.message})`);
      }
    }
    if (!result.ok) {
      ok = false;
      break;
    }
  }
  console.log(`example: ${timings.join(', ')}`);
  if (ok) rmSync(copy, { recursive: true, force: true });
  else console.error(`example: failed; the installed copy is kept in ${copy}`);
  return ok;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  exampleE2e().then(
    (ok) => process.exit(ok ? 0 : 1),
    (error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
