#!/usr/bin/env node
// The public surface of every platform package, as API Extractor reports it, committed beside the
// library (libs/platform/<lib>/api/<lib>.api.md, one file per entry point: "./testing" →
// <lib>-testing.api.md) so that review shows every change to it.
//   npm run api:check    (in `npm test`) exits 1 naming each entry point whose surface changed
//                        and shows the difference; the reports are left untouched
//   npm run api:update   rewrites the reports from the current code
// Both build the packages first (`nx run-many -t package`); reports are read from dist/.
// `--root DIR --projects libs/a,libs/b` checks already built packages under DIR instead (no Nx):
// tools/architecture/api-report.spec.ts uses it to prove the check fails.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPlatformPackages, workspaceRoot } from './platform-projects.mjs';

/** One entry per export of a built package: its .d.ts and the name of its report. */
function entryPoints(pkg) {
  const manifest = JSON.parse(readFileSync(join(pkg.dist, 'package.json'), 'utf8'));
  const base = pkg.projectRoot.split('/').pop();
  return Object.entries(manifest.exports)
    .filter(([, target]) => typeof target === 'object')
    .map(([entry, target]) => ({
      importPath: entry === '.' ? manifest.name : `${manifest.name}${entry.slice(1)}`,
      typings: join(pkg.dist, target.types),
      report: entry === '.' ? `${base}.api.md` : `${base}-${entry.slice(2).replaceAll('/', '-')}.api.md`,
    }));
}

function extract(root, pkg, entry, paths, localBuild) {
  const reportFolder = join(root, pkg.projectRoot, 'api');
  if (localBuild) mkdirSync(reportFolder, { recursive: true });
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: pkg.dist,
      mainEntryPointFilePath: entry.typings,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'es2022',
            module: 'node16',
            moduleResolution: 'node16',
            lib: ['es2023'],
            types: ['node'],
            typeRoots: [join(workspaceRoot, 'node_modules', '@types')],
            experimentalDecorators: true,
            skipLibCheck: true,
            strict: true,
            paths,
          },
          files: [entry.typings],
        },
      },
      apiReport: {
        enabled: true,
        reportFileName: entry.report,
        reportFolder,
        reportTempFolder: join(root, 'tmp', 'api-report', pkg.projectRoot),
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        compilerMessageReporting: { default: { logLevel: 'error' } },
        // The report keeps what a reviewer should see (a type used but not exported), nothing
        // about release tags (none are used) or doc-comment syntax.
        extractorMessageReporting: {
          default: { logLevel: 'none', addToApiReportFile: true },
          'ae-missing-release-tag': { logLevel: 'none', addToApiReportFile: false },
        },
        tsdocMessageReporting: { default: { logLevel: 'none', addToApiReportFile: false } },
      },
    },
    configObjectFullPath: undefined,
    packageJsonFullPath: join(pkg.dist, 'package.json'),
  });
  const messages = [];
  const result = Extractor.invoke(config, {
    localBuild,
    printApiReportDiff: !localBuild,
    messageCallback: (message) => {
      if (message.logLevel === 'error' || message.logLevel === 'warning') messages.push(message.text);
      else message.handled = true;
    },
  });
  return { result, messages, reportPath: join(reportFolder, entry.report) };
}

/**
 * Checks (or with `update`, rewrites) the reports of the packages built under `root`/dist/<projectRoot>.
 * Returns one line per problem; empty when every report is current.
 */
export function apiReports({ root, projectRoots, update }) {
  const packages = projectRoots.map((projectRoot) => ({ projectRoot, dist: join(root, 'dist', projectRoot) }));
  const all = packages.map((pkg) => ({ pkg, entries: entryPoints(pkg) }));
  // Sibling packages resolve to their built typings, as they would from node_modules.
  const paths = Object.fromEntries(all.flatMap(({ entries }) => entries.map((e) => [e.importPath, [e.typings]])));
  const failures = [];
  const written = new Set();
  for (const { pkg, entries } of all) {
    for (const entry of entries) {
      const { result, reportPath } = extract(root, pkg, entry, paths, update);
      written.add(reportPath);
      const label = `${entry.importPath} (${reportPath.slice(root.length + 1)})`;
      if (!result.succeeded) failures.push(update ? `${label}: API Extractor failed` : `${label}: the public API changed; run npm run api:update and commit the report`);
      else if (update && result.apiReportChanged) console.log(`updated ${label}`);
    }
  }
  // A report whose entry point is gone is stale: the check names it, the update deletes it.
  for (const { pkg } of all) {
    const folder = join(root, pkg.projectRoot, 'api');
    for (const file of existsSync(folder) ? readdirSync(folder).filter((f) => f.endsWith('.api.md')) : []) {
      const path = join(folder, file);
      if (written.has(path)) continue;
      if (update) rmSync(path);
      else failures.push(`${path.slice(root.length + 1)}: no entry point has this report any more; run npm run api:update`);
    }
  }
  return failures;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = process.argv.slice(2);
    const option = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
    const root = option('--root') ? resolve(option('--root')) : workspaceRoot;
    const projectRoots = option('--projects')?.split(',') ?? (await buildPlatformPackages());
    const failures = apiReports({ root, projectRoots, update: args.includes('--update') });
    for (const failure of failures) console.error(`API report: ${failure}`);
    if (failures.length === 0) console.log('API reports are current');
    process.exit(failures.length > 0 ? 1 : 0);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
