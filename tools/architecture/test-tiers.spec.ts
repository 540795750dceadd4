import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * jest.preset.js picks one tier of test files. A file of another tier named on the command line
 * runs in its own tier: before, `npx jest -c … x.int.spec.ts` found no test and passed
 * (passWithNoTests) without running the file.
 */

const WORKSPACE_ROOT = join(__dirname, '..', '..');
const CONFIG = 'libs/platform/testing/jest.config.js';

function listed(args: string[], env: Record<string, string> = {}): string[] {
  const base = Object.fromEntries(Object.entries(process.env).filter(([key]) => key !== 'TEST_TIER'));
  const run = spawnSync('npx', ['--no-install', 'jest', '-c', CONFIG, '--listTests', ...args], {
    cwd: WORKSPACE_ROOT,
    env: { ...base, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(run.status).toBe(0);
  return run.stdout
    .split('\n')
    .filter((line) => line.endsWith('.ts'))
    .map((line) => line.slice(line.indexOf('libs/')));
}

describe('test tiers (jest.preset.js)', () => {
  it('runs the unit tier by default', () => {
    const files = listed([]);
    expect(files).toContain('libs/platform/testing/src/free-port.spec.ts');
    expect(files.filter((file) => file.endsWith('.int.spec.ts'))).toEqual([]);
  });

  it('runs an integration file named on the command line without TEST_TIER', () => {
    expect(listed(['libs/platform/testing/src/test-database.int.spec.ts'])).toEqual(['libs/platform/testing/src/test-database.int.spec.ts']);
  });

  it('keeps an explicit TEST_TIER', () => {
    expect(listed(['test-database'], { TEST_TIER: 'unit' })).toEqual(['libs/platform/testing/src/test-database.spec.ts']);
  });
});
