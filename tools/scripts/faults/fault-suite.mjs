#!/usr/bin/env node
// The fault suite (issue 12): every fault kind found so far, each injected into real app
// processes (the built bundle) while a load runs through them and re-sends what was not
// acknowledged. After each scenario: the pipeline drains, `main.js verify` passes, every accepted
// transfer is stored once and applied exactly once by the ledger and by analytics, no dead letter,
// and no app process exited on its own. Prints a figures table; exit 0 only when all scenarios pass.
//   npm run test:fault-suite -- [--transfers 20000] [--rounds 6] [--only terminate,lock,...] [--seed N]
// --transfers is the total, split evenly over the scenarios; --rounds the fault rounds of the
// round-based scenarios. Needs the built app (npx nx run api:build), the test PostgreSQL
// (TEST_DATABASE_URL) and redis-server on PATH. Every wait is bounded by FAULT_SUITE_TIMEOUT_MS.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { assertBuilt, parsePositive, ROOT, verify } from './app-process.mjs';
import { AppFleet, countOutcome, WAIT_MS, waitForDrain } from './fault-harness.mjs';
import { SCENARIOS } from './fault-scenarios.mjs';

const { values: args } = parseArgs({
  options: {
    transfers: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '6' },
    only: { type: 'string' },
    seed: { type: 'string', default: String(Date.now() % 1_000_000) },
  },
});
const { transfers, rounds } = parsePositive(args, ['transfers', 'rounds']);
const seed = Number(args.seed);
const chosen = args.only ? args.only.split(',').map((name) => name.trim()) : SCENARIOS.map((scenario) => scenario.name);
const unknown = chosen.filter((name) => !SCENARIOS.some((scenario) => scenario.name === name));
if (unknown.length > 0) {
  console.error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.map((scenario) => scenario.name).join(', ')}`);
  process.exit(2);
}
assertBuilt();
// Every scenario names its database; an inherited DATABASE_URL would stop the embedded one starting.
delete process.env.DATABASE_URL;

const scenarios = SCENARIOS.filter((scenario) => chosen.includes(scenario.name));
const perScenario = Math.max(200, Math.floor(transfers / scenarios.length));
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logFile = resolve(ROOT, 'tmp/faults', `fault-suite-${stamp}.log`);
const started = Date.now();
console.log(`fault suite: ${scenarios.length} scenarios × ${perScenario} transfers, ${rounds} rounds, seed ${seed}; app log ${logFile}`);

const figures = [];
for (const [index, scenario] of scenarios.entries()) {
  const log = (line) => console.log(`  [${scenario.name}] ${line}`);
  console.log(`\n${index + 1}/${scenarios.length} ${scenario.name}: ${scenario.title}`);
  const fleet = new AppFleet(logFile);
  const h = { fleet, run: { prefix: `fs-${scenario.name}-${seed}`, accounts: 200, seed: seed + index }, transfers: perScenario, rounds, log, cleanup: [] };
  const row = { scenario: scenario.name, accepted: 0, faults: '-', lost: '-', doubled: '-', deadLetters: '-', drainMs: '-', unexpectedExits: 0, problems: [] };
  const scenarioStart = Date.now();
  try {
    const outcome = await scenario.run(h);
    row.faults = outcome.faults;
    row.faultLabel = outcome.faultLabel;
    row.accepted = outcome.load.accepted + outcome.load.replayed;
    row.problems.push(...outcome.problems);
    const drainStart = Date.now();
    const backlog = await waitForDrain(outcome.relay, outcome.diagnose);
    row.drainMs = Date.now() - drainStart;
    log(`drained in ${row.drainMs} ms; running main.js verify`);
    const check = verify({ DATABASE_URL: outcome.url, EVENT_TRANSPORT: 'inprocess', DB_POOL_SIZE: '4' }, WAIT_MS);
    if (!check.ok) row.problems.push(`main.js verify failed:\n${check.output.slice(-3000)}`);
    const counted = await countOutcome(outcome.url, h.run, perScenario);
    Object.assign(row, { lost: counted.lost, doubled: counted.doubled, deadLetters: Math.max(counted.deadLetters, backlog.deadLetters ?? 0) });
    if (row.accepted !== perScenario) row.problems.push(`the client saw ${row.accepted} accepted + replayed, expected ${perScenario}`);
    if (counted.lost > 0) row.problems.push(`${counted.lost} lost`);
    if (counted.doubled > 0) row.problems.push(`${counted.doubled} doubled`);
    if (counted.differing > 0) row.problems.push(`${counted.differing} stored with other content`);
    if (row.deadLetters > 0) row.problems.push(`${row.deadLetters} unexpected dead letters`);
    log(`accepted ${row.accepted}, lost ${counted.lost}, doubled ${counted.doubled}, dead letters ${row.deadLetters}, retried requests ${outcome.load.retried}`);
  } catch (error) {
    row.problems.push(error.stack ?? String(error));
  } finally {
    const exitsBeforeStop = fleet.unexpectedExits.length;
    await fleet.stopAll();
    for (const cleanup of h.cleanup.reverse()) await cleanup().catch((error) => row.problems.push(`cleanup: ${error.message}`));
    row.unexpectedExits = exitsBeforeStop;
    row.problems.push(...fleet.unexpectedExits);
    row.seconds = ((Date.now() - scenarioStart) / 1000).toFixed(1);
  }
  row.ok = row.problems.length === 0;
  console.log(`  [${scenario.name}] ${row.ok ? 'PASSED' : `FAILED:\n    ${row.problems.join('\n    ')}`}`);
  figures.push(row);
}

const columns = [
  ['scenario', (row) => row.scenario],
  ['accepted', (row) => row.accepted],
  ['faults', (row) => row.faults],
  ['lost', (row) => row.lost],
  ['doubled', (row) => row.doubled],
  ['dead letters', (row) => row.deadLetters],
  ['drain ms', (row) => row.drainMs],
  ['unexpected exits', (row) => row.unexpectedExits],
  ['s', (row) => row.seconds],
  ['verdict', (row) => (row.ok ? 'PASSED' : 'FAILED')],
];
console.log(`\nfault suite figures (seed ${seed}, ${((Date.now() - started) / 1000).toFixed(1)} s in all)`);
console.log(`| ${columns.map(([title]) => title).join(' | ')} |`);
console.log(`|${columns.map(() => ' --- ').join('|')}|`);
for (const row of figures) console.log(`| ${columns.map(([, value]) => value(row)).join(' | ')} |`);
console.log('');
for (const row of figures) if (row.faultLabel) console.log(`  ${row.scenario}: ${row.faultLabel}`);
const failed = figures.filter((row) => !row.ok);
console.log(failed.length === 0 ? `\nPASSED: ${figures.length} scenarios, lost = 0, doubled = 0, no dead letter, no unexpected exit` : `\nFAILED: ${failed.map((row) => row.scenario).join(', ')}`);
process.exitCode = failed.length === 0 ? 0 : 1;
