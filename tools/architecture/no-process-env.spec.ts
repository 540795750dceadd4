import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Proves the rule in eslint.config.mjs that keeps libraries from reading the environment can
 * fail: planted snippets, linted with the workspace's real configuration at the paths they would
 * have, are refused in a library and allowed in the app, tools and test files.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');
const RULES = ['no-restricted-properties', 'no-restricted-syntax'];
const LINT_TIMEOUT_MS = Number(process.env['ARCHITECTURE_LINT_TIMEOUT_MS'] ?? 60_000);
const READ_NO_ENV = 'A library reads no environment variable: take an option (forRoot) and let the app map the variable to it.';
const NO_ENV_READERS = 'The environment readers are for apps and tools: a library takes options (forRoot) instead.';

interface Finding {
  line: number;
  ruleId: string | null;
  message: string;
}

interface Snippet {
  filePath: string;
  code: string;
}

/** ESLint's findings (of the rules under test) for each snippet at its path, with the real config, in one ESLint run. */
function lint(snippets: Snippet[]): Finding[][] {
  const input = JSON.stringify({ rules: RULES, snippets: snippets.map(({ filePath, code }) => ({ filePath: join(WORKSPACE_ROOT, filePath), code })) });
  // A child process: Jest's VM cannot import the ESM config.
  const run = spawnSync(process.execPath, [join(__dirname, 'lint-snippets.mjs')], { cwd: WORKSPACE_ROOT, input, encoding: 'utf8', timeout: LINT_TIMEOUT_MS });
  if (run.status !== 0) throw new Error(`lint-snippets failed (${run.status ?? run.signal}): ${run.stderr}`);
  return JSON.parse(run.stdout) as Finding[][];
}

const IN_LIBRARY = 'libs/platform/messaging/src/planted.ts';
const READERS: [string, string, string][] = [
  ['process.env.NAME', `export const size = process.env.RELAY_BATCH_SIZE;\n`, 'no-restricted-properties'],
  ["process.env['NAME']", `export const size = process.env['RELAY_BATCH_SIZE'];\n`, 'no-restricted-properties'],
  ['env destructured from process', `const { env } = process;\nexport const size = env['X'];\n`, 'no-restricted-properties'],
  ['globalThis.process.env', `export const size = globalThis.process.env['X'];\n`, 'no-restricted-syntax'],
  ["env imported from 'node:process'", `import { env } from 'node:process';\nexport const size = env['X'];\n`, 'no-restricted-syntax'],
];
const CORE_READER = `import { envInt } from '@modulith/core';\nexport const size = (env: Record<string, string>) => envInt(env, 'X', 1);\n`;
const CORE_READER_IN = ['libs/platform/http/src/planted.ts', 'libs/notifications/module/src/planted.ts'];
const BOTH = `import { envInt } from '@modulith/core';\nexport const size = envInt(process.env, 'X', 1);\n`;
const ALLOWED_IN = [
  'apps/api/src/planted.ts',
  'tools/scripts/planted.ts',
  'libs/platform/messaging/src/planted.spec.ts',
  'libs/platform/messaging/src/planted.fixture.ts',
  'libs/platform/messaging/src/test-support/planted.ts',
  'libs/platform/database/src/testing.ts',
];
const OTHER_PROPERTIES = `export const id = process.pid + process.argv.length;\n`;

describe('no library reads the environment (eslint.config.mjs)', () => {
  let readers: Finding[][];
  let coreReaders: Finding[][];
  let allowed: Finding[][];
  let others: Finding[];

  beforeAll(() => {
    const results = lint([
      ...READERS.map(([, code]) => ({ filePath: IN_LIBRARY, code })),
      ...CORE_READER_IN.map((filePath) => ({ filePath, code: CORE_READER })),
      ...ALLOWED_IN.map((filePath) => ({ filePath, code: BOTH })),
      { filePath: 'libs/platform/core/src/planted.ts', code: OTHER_PROPERTIES },
    ]);
    readers = results.splice(0, READERS.length);
    coreReaders = results.splice(0, CORE_READER_IN.length);
    allowed = results.splice(0, ALLOWED_IN.length);
    others = results[0] ?? [];
  });

  it.each(READERS.map(([name, , ruleId], index) => [name, ruleId, index] as const))('refuses %s in a library (%s)', (_name, ruleId, index) => {
    expect(readers[index]).toEqual([{ line: 1, ruleId, message: expect.stringContaining(READ_NO_ENV) }]);
  });

  it("refuses @modulith/core's environment readers in a platform library and in a business module", () => {
    expect(coreReaders).toEqual(CORE_READER_IN.map(() => [{ line: 1, ruleId: 'no-restricted-syntax', message: NO_ENV_READERS }]));
  });

  it.each(ALLOWED_IN.map((file, index) => [file, index] as const))('allows both in %s (the app, tools, tests and test tooling)', (_file, index) => {
    expect(allowed[index]).toEqual([]);
  });

  it('leaves other properties of process alone', () => {
    expect(others).toEqual([]);
  });
});
