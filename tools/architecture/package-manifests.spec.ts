import { join } from 'node:path';
import { TempWorkspace } from './temp-workspace';

/**
 * The platform packages' manifests: `@nx/dependency-checks` (eslint.config.mjs) refuses a
 * package.json that misses an npm package the library imports or lists one it does not, and the
 * `package` target (tools/scripts/platform-package.mjs) gives every tsconfig.base.json path of a
 * package an entry in its exports map. Each is shown failing or mapping in a temporary copy.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');
const CORE = 'libs/platform/core';
const MANIFEST = `${CORE}/package.json`;

describe('platform package manifests', () => {
  let workspace: TempWorkspace;

  beforeAll(() => {
    workspace = TempWorkspace.copyOf(WORKSPACE_ROOT, 'modulith-manifests-');
  });

  afterAll(() => workspace?.dispose());

  function dependencyFindings(): string[] {
    workspace.computeProjectGraph();
    const run = workspace.lint([MANIFEST]);
    return run.results.flatMap((r) =>
      r.messages.filter((m) => m.ruleId === '@nx/dependency-checks').map((m) => m.message.replace(/\s+/g, ' ').trim()),
    );
  }

  it('passes the real manifest', () => {
    expect(dependencyFindings()).toEqual([]);
  });

  it('refuses an npm package the library imports but its package.json does not declare', () => {
    workspace.write(`${CORE}/src/planted.ts`, `import { Registry } from 'prom-client';\nexport const planted = new Registry();\n`);
    try {
      expect(dependencyFindings()).toEqual([
        expect.stringMatching(/uses the following packages, but they are missing from "dependencies": - prom-client$/),
      ]);
    } finally {
      workspace.remove(`${CORE}/src/planted.ts`);
    }
  });

  it('refuses a declared dependency the library never imports', () => {
    const original = workspace.read(MANIFEST);
    const manifest = JSON.parse(original);
    manifest.dependencies = { ...manifest.dependencies, 'prom-client': '^15.1.3' };
    workspace.write(MANIFEST, JSON.stringify(manifest, null, 2));
    try {
      expect(dependencyFindings()).toEqual(['The "prom-client" package is not used by "platform-core" project.']);
    } finally {
      workspace.write(MANIFEST, original);
    }
  });

  it('exports every tsconfig path of the package, pointing at the compiled files', () => {
    workspace.addPathAlias('@modulith/core/extra/sub', `${CORE}/src/extra/sub/index.ts`);
    for (const file of ['index.js', 'index.d.ts', 'extra/sub/index.js', 'extra/sub/index.d.ts']) {
      workspace.write(`dist/${CORE}/${file}`, '');
    }
    const run = workspace.runScript('tools/scripts/platform-package.mjs', [CORE, `dist/${CORE}`]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const built = JSON.parse(workspace.read(`dist/${CORE}/package.json`));
    expect(built).toMatchObject({ name: '@modulith/core', main: './index.js', types: './index.d.ts' });
    expect(built.private).toBeUndefined();
    expect(built.exports).toEqual({
      '.': { types: './index.d.ts', default: './index.js' },
      './extra/sub': { types: './extra/sub/index.d.ts', default: './extra/sub/index.js' },
      './package.json': './package.json',
    });
    expect(workspace.exists(`dist/${CORE}/CHANGELOG.md`)).toBe(true);
  });

  it('refuses to write a manifest whose export has no compiled file', () => {
    workspace.addPathAlias('@modulith/core/missing', `${CORE}/src/missing.ts`);
    const run = workspace.runScript('tools/scripts/platform-package.mjs', [CORE, `dist/${CORE}`]);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('@modulith/core: export "./missing" needs ./missing.d.ts, ./missing.js');
  });
});
