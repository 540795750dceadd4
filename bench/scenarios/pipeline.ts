/**
 * Scenario `pipeline`: N transfers through the HTTP batch endpoint -> outbox -> ledger and
 * analytics, to full drain, beside the bare-SQL ceiling and pg-boss, graphile-worker and BullMQ
 * doing the same work on the same PostgreSQL; then commit-to-handled latency at fixed rates.
 */
import { sizes } from '../lib/config';
import { probeServer } from '../lib/server-probe';
import type { ScenarioResult, Table } from '../lib/scenario';

type ServerProbe = Awaited<ReturnType<typeof probeServer>>;
import { fmt, fmtInt, median, medianSummary, ratio, type LatencySummary } from '../lib/stats';
import { AppContender, PeerContender, type Contender, type LatencyRun } from './pipeline/contenders';
import { CAPACITY_SHARE, runPipeline, type ContenderOutcome } from './pipeline/run-pipeline';

export function pipelineContenders(): Contender[] {
  const all: Contender[] = [
    new AppContender('modulith', 'Modulith (reference app)', 'reference'),
    new AppContender('modulith_fx', 'Modulith (same effect as peers)', 'same-effect'),
    new PeerContender('bare', 'bare SQL (ceiling)', 'bare-sql'),
    new PeerContender('pgboss', 'pg-boss 10.4', 'pg-boss'),
    new PeerContender('graphile', 'graphile-worker 0.17', 'graphile-worker'),
    new PeerContender('bullmq', 'BullMQ 6.7', 'bullmq'),
  ];
  const only = sizes.pipeline.only;
  return only ? all.filter((c) => only.includes(c.id)) : all;
}

/** Throughput and latency tables; ratios against `baseline` (by id) when it ran. */
export function pipelineTables(outcomes: ContenderOutcome[], baselines: { id: string; label: string }[]): Table[] {
  const rate = (o: ContenderOutcome): number => median(o.rates);
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const n = sizes.pipeline.transfers;
  const throughput: Table = {
    caption: `Throughput: ${fmtInt(n)} transfers to full drain, each applied by 2 subscribers (median of ${sizes.runs}; events/s = transfers/s)`,
    header: ['contender', 'events/s', 'runs (min-max)', ...baselines.map((b) => `vs ${b.label}`)],
    rows: outcomes.map((o) => [
      o.label,
      o.error && o.rates.length === 0 ? `failed: ${o.error}` : fmtInt(rate(o)),
      o.rates.length ? `${fmtInt(Math.min(...o.rates))}-${fmtInt(Math.max(...o.rates))}` : 'n/a',
      ...baselines.map((b) => (byId.get(b.id)?.rates.length ? ratio(rate(o) / rate(byId.get(b.id)!)) : 'n/a')),
    ]),
  };
  const latency: Table = {
    caption: `Commit-to-handled latency at fixed offered rates, ms (HdrHistogram; median of ${sizes.runs} runs of ${sizes.pipeline.latencySeconds} s)`,
    header: ['contender', 'offered/s', 'achieved/s', 'p50', 'p99', 'p999', 'max', 'commit to delivery p50 / p99', 'in handlers p50 / p99'],
    rows: outcomes.flatMap((o) =>
      sizes.pipeline.rates.map((offered) => {
        const entry = o.latency[offered];
        if (entry?.aboveCapacity !== undefined) {
          return [o.label, fmtInt(offered), `not run: above ${CAPACITY_SHARE * 100}% of its ${fmtInt(entry.aboveCapacity)}/s`, '', '', '', '', '', ''];
        }
        if (!entry?.summary || entry.runs.length === 0) return [o.label, fmtInt(offered), 'failed', '', '', '', '', '', ''];
        const s = entry.summary;
        const splits = entry.runs.map((run) => run.summary.split).filter((split) => split !== undefined);
        const part = (pick: (split: NonNullable<LatencyRun['summary']['split']>) => LatencySummary): string => {
          if (splits.length === 0) return 'n/a';
          const summary = medianSummary(splits.map(pick));
          return `${fmt(summary.p50)} / ${fmt(summary.p99)}`;
        };
        return [o.label, fmtInt(offered), fmtInt(entry.achievedRate ?? 0), fmt(s.p50), fmt(s.p99), fmt(s.p999), fmt(s.max), part((x) => x.toDelivery), part((x) => x.inHandlers)];
      }),
    ),
  };
  return [throughput, latency];
}

/** The server's round trip and commit latency before and after, as a table. */
export function serverTable(before: ServerProbe, after: ServerProbe): Table {
  const row = (label: string, s: LatencySummary): string[] => [label, fmt(s.p50), fmt(s.p99), fmt(s.max)];
  return {
    caption: 'PostgreSQL as one client saw it before and after the runs, ms (the floor under every latency above)',
    header: ['probe', 'p50', 'p99', 'max'],
    rows: [
      row('SELECT 1 round trip, before', before.roundTrip),
      row('single-row INSERT commit, before', before.commit),
      row('SELECT 1 round trip, after', after.roundTrip),
      row('single-row INSERT commit, after', after.commit),
    ],
  };
}

/** BENCH_WAITS=1: where each Modulith variant's database sessions spent the last throughput run. */
export function waitTables(outcomes: ContenderOutcome[]): Table[] {
  return outcomes
    .filter((o) => o.waits)
    .map((o) => {
      const waits = o.waits as { samples: number; rows: { wait: string; statement: string; sessions: number }[] };
      return {
        caption: `${o.label}: pg_stat_activity every 20 ms during the last throughput run (${waits.samples} samples); sessions = average number in that state`,
        header: ['wait', 'statement', 'sessions'],
        rows: waits.rows.map((row) => [row.wait, `\`${row.statement.replace(/\|/g, '\\|')}\``, fmt(row.sessions)]),
      };
    });
}

export async function run(): Promise<ScenarioResult> {
  const before = await probeServer();
  const outcomes = await runPipeline('pipeline', pipelineContenders());
  const after = await probeServer();
  return {
    name: 'pipeline',
    title: 'Pipeline: HTTP batch -> outbox -> ledger + analytics, beside the bare-SQL ceiling and peers',
    tables: [
      ...pipelineTables(outcomes, [
        { id: 'bare', label: 'bare SQL' },
        { id: 'modulith', label: 'Modulith' },
      ]),
      serverTable(before, after),
      ...waitTables(outcomes),
    ],
    checks: outcomes.flatMap((o) => o.checks),
    notes: [
      'Modulith is fed over HTTP (POST /transfers/batch, 500 per request, 2 in flight) and relays with RELAY_CONCURRENCY=2, DB_POOL_SIZE=10; the bare-SQL ceiling and the peers write the same transfer rows straight to PostgreSQL with the same batches.',
      'The reference app does more per event than the others: the ledger writes two entries and a balance per posting and publishes two BalanceChanged events per transfer through the outbox; "same effect" runs the platform with the peers\' effect (inbox + one row upsert per subscriber per event).',
    ],
    data: { sizes: sizes.pipeline, runs: sizes.runs, server: { before, after }, outcomes },
  };
}
