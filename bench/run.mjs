#!/usr/bin/env node
// The benchmark runner: `npm run bench [-- <scenario>...] [--smoke]`. Installs bench/'s own
// dependencies when they are missing, runs each scenario in its own process (TypeScript compiled
// on load by SWC), draws progress, prints the result tables and saves them as Markdown and JSON
// in bench/results/. Exits non-zero when a correctness check fails or a scenario crashes.
import { execFileSync, fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const RESULTS = path.join(BENCH, 'results');
const SCENARIOS = {
  dispatch: 'in-process CommandBus/QueryBus vs the same call over HTTP and from another process over Redis',
  pipeline: 'HTTP batch -> outbox -> ledger + analytics, beside bare SQL, pg-boss, graphile-worker, BullMQ',
  redis: 'the pipeline over the Redis Streams transport',
  'slow-consumer': 'a best-effort subscriber 100x slower than the producer: memory and drops',
  ingest: 'HTTP batch ingest vs raw multi-row INSERT of the same rows',
};

// ------------------------------------------------------------ arguments

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log(`usage: npm run bench [-- [--smoke] [scenario...]]\n\nscenarios (all by default):`);
  for (const [name, what] of Object.entries(SCENARIOS)) console.log(`  ${name.padEnd(14)} ${what}`);
  console.log('\n--smoke (or BENCH_SMOKE=1): tiny sizes, correctness only, for CI. Sizes and servers: bench/README.md.');
  process.exit(0);
}
const smoke = args.includes('--smoke') || process.env.BENCH_SMOKE === '1';
const chosen = args.filter((arg) => !arg.startsWith('--'));
for (const name of chosen) {
  if (!(name in SCENARIOS)) {
    console.error(`unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(', ')}`);
    process.exit(2);
  }
}
const scenarios = chosen.length ? chosen : Object.keys(SCENARIOS);

// ------------------------------------------------------------ dependencies

/** Installs bench/'s dev dependencies unless every one is already there at the pinned version. */
function ensureDependencies() {
  if (!fs.existsSync(path.join(ROOT, 'node_modules', '@swc', 'core'))) {
    console.error('the workspace is not installed: run `npm ci` at the repository root first');
    process.exit(2);
  }
  const wanted = JSON.parse(fs.readFileSync(path.join(BENCH, 'package.json'), 'utf8')).devDependencies;
  const missing = Object.entries(wanted).filter(([name, version]) => {
    try {
      return JSON.parse(fs.readFileSync(path.join(BENCH, 'node_modules', name, 'package.json'), 'utf8')).version !== version;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return;
  console.error(`installing bench dependencies (${missing.map(([name]) => name).join(', ')}) ...`);
  // `ci`: exactly bench/package-lock.json, so a fresh clone's bench install leaves git clean.
  execFileSync('npm', ['ci', '--prefix', BENCH, '--no-audit', '--no-fund', '--loglevel=error'], { stdio: 'inherit' });
}

// ------------------------------------------------------------ the machine

function redisVersion(url) {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect({ host: hostname, port: Number(port || 6379) });
    let data = '';
    const done = (value) => {
      socket.destroy();
      resolve(value);
    };
    socket.setTimeout(2000, () => done('unreachable'));
    socket.on('error', () => done('unreachable'));
    socket.on('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk) => {
      data += chunk;
      const match = /redis_version:([^\r\n]+)/.exec(data);
      if (match) done(match[1]);
    });
  });
}

async function postgresInfo(url) {
  const { Client } = createRequire(path.join(ROOT, 'package.json'))('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const version = (await client.query('SHOW server_version')).rows[0].server_version;
    const settings = (await client.query(`SELECT name, setting FROM pg_settings WHERE name IN ('synchronous_commit', 'fsync', 'shared_buffers', 'max_connections', 'shared_preload_libraries')`)).rows;
    return { version, ...Object.fromEntries(settings.map((row) => [row.name, row.setting])) };
  } catch (error) {
    return { version: `unreachable (${error.message})` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function describeMachine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    postgres: await postgresInfo(process.env.BENCH_PG_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'),
    redis: await redisVersion(process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'),
    loadAverageAtStart: os.loadavg().map((value) => Math.round(value * 100) / 100),
  };
}

// ------------------------------------------------------------ progress

const tty = process.stderr.isTTY;
let barShown = false;
let lastPrinted = '';

function drawBar(label, done, total, started) {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const elapsed = (Date.now() - started) / 1000;
  if (!tty) {
    // CI logs: one line per step, no redraws.
    if (label !== lastPrinted) console.error(`  [${Math.round(fraction * 100).toString().padStart(3)}%] ${label}`);
    lastPrinted = label;
    return;
  }
  const width = 28;
  const filled = Math.round(fraction * width);
  const eta = fraction > 0.02 && fraction < 1 ? ` eta ${Math.round((elapsed / fraction) * (1 - fraction))}s` : '';
  const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}% ${elapsed.toFixed(0)}s${eta} ${label}`;
  process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
  barShown = true;
}

function printAboveBar(line) {
  if (barShown) process.stderr.write('\r\x1b[K');
  barShown = false;
  console.error(line);
}

// ------------------------------------------------------------ scenarios

function runScenario(name, logFile) {
  return new Promise((resolve) => {
    const log = fs.openSync(logFile, 'w');
    const started = Date.now();
    let outcome;
    const child = fork(path.join(BENCH, 'lib', 'scenario-child.ts'), [name], {
      cwd: ROOT,
      execArgv: ['-r', path.join(BENCH, 'lib', 'register.cjs')],
      env: { ...process.env, BENCH_SMOKE: smoke ? '1' : '0' },
      stdio: ['ignore', log, log, 'ipc'],
    });
    child.on('message', (message) => {
      if (message.kind === 'progress') drawBar(message.label, message.done, message.total, started);
      else if (message.kind === 'log') {
        fs.appendFileSync(logFile, `${message.line}\n`);
        if (!smoke || /fail/i.test(message.line)) printAboveBar(`  ${message.line.split('\n')[0]}`);
      } else if (message.kind === 'result') outcome = { result: message.result };
      else if (message.kind === 'error') outcome = { error: message.message };
    });
    child.on('exit', (code, signal) => {
      fs.closeSync(log);
      if (barShown) process.stderr.write('\r\x1b[K');
      barShown = false;
      if (!outcome) outcome = { error: `the scenario process exited (${signal ?? code}) without a result` };
      resolve({ ...outcome, seconds: Math.round((Date.now() - started) / 100) / 10 });
    });
  });
}

// ------------------------------------------------------------ report

function markdownTable({ header, rows }) {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => String(row[i] ?? '').length)));
  const line = (cells) => `| ${cells.map((cell, i) => String(cell ?? '').padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function scenarioMarkdown(name, entry) {
  const lines = [`### ${name}`, ''];
  if (entry.error) return [...lines, `**crashed**: \`${entry.error.split('\n')[0]}\` (log: bench/results/logs/${name}.log)`, ''].join('\n');
  const { result } = entry;
  lines.push(`${result.title} (${entry.seconds} s, ${entry.finishedAt})`, '');
  if (result.skipped) return [...lines, `skipped: ${result.skipped}`, ''].join('\n');
  for (const table of result.tables) {
    if (table.caption) lines.push(`${table.caption}:`, '');
    lines.push(markdownTable(table), '');
  }
  const failed = result.checks.filter((check) => !check.ok);
  lines.push(`Checks: ${result.checks.length - failed.length} of ${result.checks.length} passed.`);
  for (const check of failed) lines.push(`- FAILED ${check.name}: ${check.detail}`);
  lines.push('');
  for (const noteLine of result.notes) lines.push(`- ${noteLine}`);
  if (result.notes.length) lines.push('');
  return lines.join('\n');
}

function machineMarkdown(machine) {
  const pg = machine.postgres;
  return [
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB; ${machine.os}; Node ${machine.node}; ` +
      `PostgreSQL ${pg.version} (synchronous_commit=${pg.synchronous_commit}, fsync=${pg.fsync}, shared_buffers=${pg.shared_buffers}×8kB); Redis ${machine.redis}.`,
    `Load average (1/5/15 min) at start ${machine.loadAverageAtStart.join(' / ')}, at end ${machine.loadAverageAtEnd.join(' / ')}: ` +
      'the machine is shared, so absolute numbers are noisy; compare the ratios, taken in the same run.',
  ].join('\n');
}

function writeReport(report) {
  // BENCH_RESULTS_NAME keeps diagnostic runs (BENCH_WAITS, BENCH_CPU_PROF) out of the latest results.
  const file = process.env.BENCH_RESULTS_NAME ?? (smoke ? 'smoke' : 'latest');
  fs.mkdirSync(RESULTS, { recursive: true });
  // Running some scenarios updates theirs and keeps the others' latest results.
  const jsonPath = path.join(RESULTS, `${file}.json`);
  let saved = { scenarios: {} };
  try {
    saved = JSON.parse(fs.readFileSync(jsonPath, 'utf8'));
  } catch {
    // first run
  }
  const merged = { ...report, scenarios: { ...saved.scenarios, ...report.scenarios } };
  fs.writeFileSync(jsonPath, `${JSON.stringify(merged, null, 2)}\n`);
  const order = Object.keys(SCENARIOS).filter((name) => merged.scenarios[name]);
  const markdown = [
    `# Benchmark results${smoke ? ' (smoke: tiny sizes, correctness only)' : ''}`,
    '',
    `Latest run: \`npm run bench${report.args.length ? ` -- ${report.args.join(' ')}` : ''}\` at ${report.finishedAt} (${report.seconds} s).`,
    '',
    machineMarkdown(report.machine),
    '',
    ...order.map((name) => scenarioMarkdown(name, merged.scenarios[name])),
  ].join('\n');
  fs.writeFileSync(path.join(RESULTS, `${file}.md`), markdown);
  return { markdown: order.filter((name) => report.scenarios[name]).map((name) => scenarioMarkdown(name, merged.scenarios[name])).join('\n'), path: path.join(RESULTS, `${file}.md`) };
}

// ------------------------------------------------------------ main

async function main() {
  ensureDependencies();
  const started = Date.now();
  const machine = await describeMachine();
  console.error(`modulith bench${smoke ? ' (smoke)' : ''}: ${scenarios.join(', ')}`);
  console.error(`${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, PostgreSQL ${machine.postgres.version}, Redis ${machine.redis}`);
  fs.mkdirSync(path.join(RESULTS, 'logs'), { recursive: true });
  const results = {};
  let failures = 0;
  if (smoke) {
    // SWC strips types without checking them: in CI, also type-check the harness against the libs.
    console.error('\ntype-checking bench/ (tsc -p bench/tsconfig.json)');
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(BENCH, 'tsconfig.json')], { stdio: 'inherit' });
    } catch {
      failures += 1;
      console.error('  FAILED: bench/ does not type-check');
    }
  }
  for (const [index, name] of scenarios.entries()) {
    console.error(`\n[${index + 1}/${scenarios.length}] ${name}: ${SCENARIOS[name]}`);
    const entry = await runScenario(name, path.join(RESULTS, 'logs', `${name}.log`));
    entry.finishedAt = new Date().toISOString();
    results[name] = entry;
    if (entry.error) {
      failures += 1;
      console.error(`  CRASHED: ${entry.error.split('\n').slice(0, 6).join('\n  ')}\n  log: ${path.relative(ROOT, path.join(RESULTS, 'logs', `${name}.log`))}`);
      continue;
    }
    const failed = entry.result.checks.filter((check) => !check.ok);
    failures += failed.length;
    const status = entry.result.skipped ? `skipped: ${entry.result.skipped}` : `${entry.result.checks.length - failed.length}/${entry.result.checks.length} checks passed`;
    console.error(`  ${status} (${entry.seconds} s)`);
    for (const check of failed) console.error(`  FAILED ${check.name}: ${check.detail}`);
  }
  machine.loadAverageAtEnd = os.loadavg().map((value) => Math.round(value * 100) / 100);
  const seconds = Math.round((Date.now() - started) / 1000);
  const report = { machine, smoke, args, finishedAt: new Date().toISOString(), seconds, scenarios: results };
  const { markdown, path: written } = writeReport(report);
  console.log(`\n${machineMarkdown(machine)}\n\n${markdown}`);
  console.error(`${failures === 0 ? 'all checks passed' : `${failures} failure(s)`}; ${seconds} s; written to ${path.relative(ROOT, written)} and .json`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
