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

module.exports = {
  testEnvironment: 'node',
  testMatch: ['**/?(*.)+(spec).ts'],
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
