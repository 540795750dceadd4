#!/usr/bin/env node
// The platform as npm packages, checked by `npm test` after the other phases:
//   1. API reports are current (tools/scripts/api-report.mjs; `npm run api:update` fixes);
//   2. `nx release patch --dry-run` versions the fixed group and previews each CHANGELOG.md with
//      npm offline, no publish and no git push, and changes no file (git status is compared);
//   3. examples/existing-nest-app installs the packed tarballs and passes its e2e suite
//      (tools/scripts/example-e2e.mjs).
// Prints one line per check; exits 1 when any fails.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiReports } from './api-report.mjs';
import { exampleE2e } from './example-e2e.mjs';
import { buildPlatformPackages, workspaceRoot } from './platform-projects.mjs';

const gitStatus = () => spawnSync('git', ['status', '--porcelain'], { cwd: workspaceRoot, encoding: 'utf8' }).stdout;

/** Returns a problem, or undefined when the dry run passed and left the tree as it was. */
function releaseDryRun() {
  const before = gitStatus();
  const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', npm_config_offline: 'true' };
  const run = spawnSync('npx', ['nx', 'release', 'patch', '--dry-run', '--first-release', '--skip-publish'], {
    cwd: workspaceRoot,
    env,
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (run.status !== 0) return `nx release --dry-run failed (exit ${run.status ?? run.signal}):\n${run.stdout}\n${run.stderr}`;
  if (!/New version \S+ written to manifest/.test(run.stdout)) return `nx release --dry-run versioned nothing:\n${run.stdout}`;
  if (gitStatus() !== before) return 'nx release --dry-run changed the working tree';
  return undefined;
}

async function main() {
  const problems = [];
  const timed = async (name, check) => {
    const started = Date.now();
    const problem = await check();
    console.log(`packages: ${name} ${problem ? 'FAILED' : 'ok'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (problem) problems.push(`${name}: ${problem}`);
  };
  await timed('API reports', async () => {
    const failures = apiReports({ root: workspaceRoot, projectRoots: await buildPlatformPackages(), update: false });
    return failures.length > 0 ? failures.join('\n') : undefined;
  });
  await timed('release dry run', releaseDryRun);
  await timed('example app from the tarballs', async () => ((await exampleE2e()) ? undefined : 'see the output above'));
  for (const problem of problems) console.error(`packages: ${problem}`);
  return problems.length === 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (ok) => process.exit(ok ? 0 : 1),
    (error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
