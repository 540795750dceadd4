import nx from '@nx/eslint-plugin';

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

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  ...nx.configs['flat/javascript'],
  { ignores: ['**/dist', '**/node_modules', '**/tmp', '**/.nx', '**/.data', '**/coverage'] },
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
            { group: ['@modulith/testing', '@modulith/testing/*'], message: 'The test kit in production code: only tests, their fixtures, tools and benchmarks import @modulith/testing.' },
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
];
