// The platform packages: every Nx project with a `package` target (see nx.json, targetDefaults).
import { createProjectGraphAsync } from '@nx/devkit';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const workspaceRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };

/**
 * Builds every platform package into dist/<projectRoot> (`nx run-many -t package`, cached) and
 * returns their project roots, sorted. Throws when a build fails.
 */
export async function buildPlatformPackages() {
  const build = spawnSync('npx', ['nx', 'run-many', '-t', 'package', '--output-style=static'], { cwd: workspaceRoot, env, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`nx run-many -t package failed (exit ${build.status ?? build.signal})`);
  Object.assign(process.env, { NX_DAEMON: 'false', NX_NO_CLOUD: 'true' });
  const graph = await createProjectGraphAsync({ exitOnError: false });
  return Object.values(graph.nodes)
    .filter((node) => node.data.targets?.['package'])
    .map((node) => node.data.root)
    .sort();
}
