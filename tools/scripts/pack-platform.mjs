#!/usr/bin/env node
// `npm run pack:platform`: builds every project with a `package` target (the platform libraries)
// and packs each into tmp/packages/<scope>-<name>.tgz (no version in the name, so that a `file:`
// dependency on it, as in examples/existing-nest-app, survives a release), the tarballs
// `npm install` takes.
// Prints one line per tarball; exits 1 when a build or a pack fails.
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildPlatformPackages, workspaceRoot } from './platform-projects.mjs';

export const PACKAGES_DIR = join(workspaceRoot, 'tmp', 'packages');

/** Builds and packs the platform packages; returns the tarballs' absolute paths. */
export async function packPlatform() {
  const folders = (await buildPlatformPackages()).map((projectRoot) => join(workspaceRoot, 'dist', projectRoot));
  rmSync(PACKAGES_DIR, { recursive: true, force: true });
  mkdirSync(PACKAGES_DIR, { recursive: true });
  const pack = spawnSync('npm', ['pack', ...folders, '--pack-destination', PACKAGES_DIR, '--json', '--silent'], {
    cwd: workspaceRoot,
    encoding: 'utf8',
  });
  if (pack.status !== 0) throw new Error(`npm pack failed (exit ${pack.status ?? pack.signal})\n${pack.stderr}`);
  return JSON.parse(pack.stdout).map(({ filename, version }) => {
    const unversioned = join(PACKAGES_DIR, filename.replace(`-${version}.tgz`, '.tgz'));
    renameSync(join(PACKAGES_DIR, filename), unversioned);
    return unversioned;
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    for (const tarball of await packPlatform()) console.log(tarball);
  } catch (error) {
    console.error(error.message);
    process.exit(1);
  }
}
