// Shared Jest settings for every project. SWC instead of ts-jest: about 5x faster here,
// and it keeps decorator metadata, which Nest's dependency injection needs.
const path = require('node:path');

const swcOptions = {
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    transform: { legacyDecorator: true, decoratorMetadata: true, useDefineForClassFields: false },
    target: 'es2022',
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};

// Tests are tiered by suffix (STYLE.md): `*.spec.ts` unit (no PostgreSQL, Redis or running app),
// `*.int.spec.ts` against real PostgreSQL/Redis, `*.e2e.spec.ts` against the built app. TEST_TIER
// (unit, the default; int; e2e) picks one tier; the `test`, `test-int` and `e2e` targets set it
// (nx.json), so `nx affected -t test` runs only the fast unit tier.
const TIERS = {
  unit: { testMatch: ['**/?(*.)+(spec).ts'], testPathIgnorePatterns: ['/node_modules/', '\\.int\\.spec\\.ts$', '\\.e2e\\.spec\\.ts$'] },
  int: { testMatch: ['**/*.int.spec.ts'], testPathIgnorePatterns: ['/node_modules/'] },
  e2e: { testMatch: ['**/*.e2e.spec.ts'], testPathIgnorePatterns: ['/node_modules/'] },
};
// Without TEST_TIER, a file of another tier named on the command line (`npx jest -c … x.int.spec.ts`)
// picks its tier: otherwise the run finds no test and passes (passWithNoTests) without running it.
const namedTier = process.argv.slice(2).some((arg) => /\.int\.spec\.ts$/.test(arg))
  ? 'int'
  : process.argv.slice(2).some((arg) => /\.e2e\.spec\.ts$/.test(arg))
    ? 'e2e'
    : undefined;
const tier = process.env['TEST_TIER'] ?? namedTier ?? 'unit';
if (!TIERS[tier]) throw new Error(`TEST_TIER must be one of ${Object.keys(TIERS).join(', ')}, got "${tier}"`);

module.exports = {
  testEnvironment: 'node',
  ...TIERS[tier],
  // A project may have no test of a tier yet (most have no e2e): that is not a failure.
  passWithNoTests: true,
  resolver: '@nx/jest/plugins/resolver',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: { '^.+\\.[tj]s$': ['@swc/jest', swcOptions] },
  modulePathIgnorePatterns: ['<rootDir>/dist/'],
  reporters: ['default', path.join(__dirname, 'tools/scripts/jest-summary-reporter.js')],
  // Bound of each test and hook that names none of its own. Jest's 5 s default is a race with the
  // machine: against real PostgreSQL, Redis and app processes a test that takes 2-3 s alone took
  // over 5 s on a loaded 2-core machine (ingesting 10,000 transfers in one request did).
  testTimeout: Number(process.env['TEST_TIMEOUT_MS'] ?? 60_000),
};
