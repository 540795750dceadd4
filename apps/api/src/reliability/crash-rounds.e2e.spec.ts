import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { assertBundle, REPO_ROOT } from '../testing/app-processes';

const SCRIPT = path.join(REPO_ROOT, 'tools/scripts/faults/crash-rounds.mjs');

/**
 * The short version of `npm run test:faults`: the built app killed with SIGKILL at random
 * moments while a client ingests (and re-sends what was not acknowledged), then the invariant
 * check and an exact count by id. The script does the work; this runs it and reads its verdict.
 */
describe('crash rounds (short): SIGKILL mid-ingestion, restart, retry', () => {
  beforeAll(() => assertBundle());

  it('loses nothing and applies nothing twice over 5 kills of the app', async () => {
    const args = [SCRIPT, '--transfers', '4000', '--rounds', '5', '--batch', '100', '--concurrency', '4', '--seed', String(Date.now() % 100_000)];
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) console.log(output);
    expect(output).toMatch(/rounds: +5 SIGKILLs/);
    expect(output).toMatch(/lost: +0\n/);
    expect(output).toMatch(/duplicated: +0\n/);
    expect(output).toContain('all invariants hold');
    expect(output).toContain('PASSED');
    expect(code).toBe(0);
  }, 300_000);
});
