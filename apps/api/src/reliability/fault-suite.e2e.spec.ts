import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { assertBundle, REPO_ROOT } from '../testing/app-processes';

const SCRIPT = path.join(REPO_ROOT, 'tools/scripts/faults/fault-suite.mjs');
const SCENARIOS = ['terminate', 'lock', 'hung-handler', 'redis', 'stream-cap', 'redrive'];

/**
 * The short version of `npm run test:fault-suite` (issue 12): every fault kind found so far,
 * injected into the built app under load. The script does the work (one runner for both sizes);
 * this runs it once and reads each scenario's row of its figures table, so a failing scenario is
 * named by its own test.
 */
describe('fault suite (short): no event lost, none applied twice, no permanent stall, no crash', () => {
  let output = '';
  let code: number | null = null;

  beforeAll(async () => {
    assertBundle();
    const args = [SCRIPT, '--transfers', '1800', '--rounds', '2', '--seed', String(Date.now() % 100_000)];
    // A stalled scenario fails after FAULT_SUITE_TIMEOUT_MS, so the whole file stays bounded.
    const env = { ...process.env, FAULT_SUITE_TIMEOUT_MS: process.env['FAULT_SUITE_TIMEOUT_MS'] ?? '45000' };
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) console.log(output);
  }, 600_000);

  it.each(SCENARIOS)('%s: lost 0, doubled 0, no dead letter, no unexpected exit, invariants hold', (scenario) => {
    const row = output.split('\n').find((line) => line.startsWith(`| ${scenario} |`));
    expect(row).toBeDefined();
    const [, accepted, faults, lost, doubled, dead, , exits, , verdict] = (row as string).split('|').slice(1, -1).map((cell) => cell.trim());
    expect(Number(faults)).toBeGreaterThan(0);
    expect(Number(accepted)).toBe(300);
    expect({ lost, doubled, dead, exits, verdict }).toEqual({ lost: '0', doubled: '0', dead: '0', exits: '0', verdict: 'PASSED' });
  });

  it('the suite exits 0', () => {
    expect(code).toBe(0);
  });
});
