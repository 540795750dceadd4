import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createProjectGraphAsync, type ProjectGraph } from '@nx/devkit';

/**
 * Jest compiles specs with SWC, which strips types without checking them: a spec's type errors
 * surface only in the `typecheck` target (nx.json's targetDefaults: tsc on the project's
 * tsconfig.spec.json), which `npm test` runs. A project that does not declare the target is
 * silently left out, so every project with a tsconfig.spec.json must have it.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');

/** Projects with a tsconfig.spec.json whose `typecheck` target does not run tsc on it. */
function withoutTypecheck(graph: ProjectGraph, hasSpecConfig: (root: string) => boolean): string[] {
  return Object.values(graph.nodes)
    .filter((node) => hasSpecConfig(node.data.root))
    .filter((node) => node.data.targets?.['typecheck']?.options?.command !== `tsc -p ${node.data.root}/tsconfig.spec.json --noEmit`)
    .map((node) => node.name)
    .sort();
}

describe('typecheck targets', () => {
  const hasSpecConfig = (root: string) => existsSync(join(WORKSPACE_ROOT, root, 'tsconfig.spec.json'));
  let graph: ProjectGraph;

  beforeAll(async () => {
    process.env['NX_DAEMON'] = 'false';
    graph = await createProjectGraphAsync({ exitOnError: false });
  }, 120_000);

  it('type-checks the specs of every project that has them', () => {
    expect(Object.keys(graph.nodes).length).toBeGreaterThan(10);
    expect(withoutTypecheck(graph, hasSpecConfig)).toEqual([]);
  });

  it('names a project with a tsconfig.spec.json and no typecheck target', () => {
    const core = graph.nodes['platform-core'];
    const { typecheck: _dropped, ...targets } = core.data.targets ?? {};
    const planted: ProjectGraph = { ...graph, nodes: { ...graph.nodes, 'platform-core': { ...core, data: { ...core.data, targets } } } };
    expect(withoutTypecheck(planted, hasSpecConfig)).toEqual(['platform-core']);
  });
});
