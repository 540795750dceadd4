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
import { CAPACITY_SHARE, runPipeline, type ContenderOutcome, type LargeRuns } from './pipeline/run-pipeline';

/** The Modulith variants, the ceiling and the peers, by id (`BENCH_PIPELINE_ONLY` takes these). */
const MODULITH = ['modulith', 'modulith_fx', 'modulith_keyed'];
const CEILING = 'bare';
/** What the issue's shape (no transaction across delivery) allows in bare SQL (see pipeline/bare-split.ts). */
const BOUNDS = ['bare_split', 'bare_split_keyed', 'bare_split_reference'];
const PEERS = ['pgboss', 'graphile', 'bullmq'];

/** Contenders that run only when `BENCH_PIPELINE_ONLY` names them. */
const OPT_IN = ['modulith_fx_unvalidated'];

export function pipelineContenders(): Contender[] {
  const all: Contender[] = [
    new AppContender('modulith', 'Modulith (reference app)', 'reference'),
    new AppContender('modulith_fx', 'Modulith (same effect as peers)', 'same-effect'),
    new AppContender('modulith_fx_unvalidated', 'Modulith (same effect, event schemas off)', 'same-effect', { BENCH_EVENT_SCHEMAS: 'off' }),
    new AppContender('modulith_keyed', 'Modulith (same effect, keyed)', 'same-effect-keyed'),
    new PeerContender('bare', 'bare SQL (ceiling)', 'bare-sql', true),
    new PeerContender('bare_split', 'bare SQL, no transaction across delivery (bound)', 'bare-sql-split', true),
    new PeerContender('bare_split_keyed', 'bare SQL, no transaction across delivery, keyed (bound)', 'bare-sql-split-keyed', true),
    new PeerContender('bare_split_reference', "bare SQL, no transaction across delivery, the reference app's work (bound)", 'bare-sql-split-reference', true),
    new PeerContender('pgboss', 'pg-boss 10.4', 'pg-boss'),
    new PeerContender('graphile', 'graphile-worker 0.17', 'graphile-worker'),
    new PeerContender('bullmq', 'BullMQ 6.7', 'bullmq'),
  ];
  const only = sizes.pipeline.only;
  // A fifth app process with its pools beside the peers passes PostgreSQL's default
  // max_connections (100): the schemas-off contender runs only when named (see bench/README.md).
  return only ? all.filter((c) => only.includes(c.id)) : all.filter((c) => !OPT_IN.includes(c.id));
}

/** The peer with the highest median throughput at the normal size, if any ran. */
function bestPeer(outcomes: readonly ContenderOutcome[]): ContenderOutcome | undefined {
  return outcomes
    .filter((o) => PEERS.includes(o.id) && o.rates.length > 0)
    .sort((a, b) => median(b.rates) - median(a.rates))[0];
}

/** The larger throughput runs: the ceiling, its bounds, the Modulith variants and the best peer (the others take minutes per run). */
function largeRuns(contenders: readonly Contender[]): LargeRuns {
  const ids = contenders.map((c) => c.id);
  return {
    transfers: sizes.pipeline.largeTransfers,
    runs: sizes.pipeline.largeRuns,
    count: ids.filter((id) => id === CEILING || MODULITH.includes(id) || BOUNDS.includes(id)).length + (ids.some((id) => PEERS.includes(id)) ? 1 : 0),
    pick: (outcomes) => [...ids.filter((id) => id === CEILING || MODULITH.includes(id) || BOUNDS.includes(id)), ...(bestPeer(outcomes) ? [bestPeer(outcomes)!.id] : [])],
  };
}

/** Throughput and latency tables; ratios against `baseline` (by id) when it ran. */
export function pipelineTables(outcomes: ContenderOutcome[], baselines: { id: string; label: string }[]): Table[] {
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const throughputTable = (
    n: number,
    runs: number,
    pickRates: (o: ContenderOutcome) => number[],
    pickCpu: (o: ContenderOutcome) => number[],
    shown: ContenderOutcome[],
  ): Table => {
    const rate = (o: ContenderOutcome): number => median(pickRates(o));
    return {
      caption: `Throughput: ${fmtInt(n)} transfers to full drain, each applied by 2 subscribers (median of ${runs}; events/s = transfers/s)`,
      header: ['contender', 'events/s', 'runs (min-max)', ...baselines.map((b) => `vs ${b.label}`), 'own process CPU, µs/event'],
      rows: shown.map((o) => [
        o.label,
        o.error && pickRates(o).length === 0 ? `failed: ${o.error}` : fmtInt(rate(o)),
        pickRates(o).length ? `${fmtInt(Math.min(...pickRates(o)))}-${fmtInt(Math.max(...pickRates(o)))}` : 'n/a',
        ...baselines.map((b) => (byId.get(b.id) && pickRates(byId.get(b.id)!).length ? ratio(rate(o) / rate(byId.get(b.id)!)) : 'n/a')),
        pickCpu(o).length ? median(pickCpu(o)).toFixed(1) : 'n/a',
      ]),
    };
  };
  const throughput = throughputTable(sizes.pipeline.transfers, sizes.runs, (o) => o.rates, (o) => o.cpuPerEvent, outcomes);
  const withLarge = outcomes.filter((o) => o.largeRates.length > 0);
  const large = withLarge.length > 0 ? [throughputTable(sizes.pipeline.largeTransfers, sizes.pipeline.largeRuns, (o) => o.largeRates, (o) => o.largeCpuPerEvent, withLarge)] : [];
  const latency: Table = {
    caption: `Commit-to-handled latency at fixed offered rates, ms (HdrHistogram; median of ${sizes.runs} runs of ${sizes.pipeline.latencySeconds} s)`,
    header: ['contender', 'offered/s', 'achieved/s', 'p50', 'p99', 'p999', 'max', 'commit to relayed p50 / p99', 'commit to delivery p50 / p99', 'in handlers p50 / p99', 'app event-loop delay p99 / max'],
    rows: outcomes.flatMap((o) =>
      sizes.pipeline.rates.map((offered) => {
        const entry = o.latency[offered];
        if (entry?.aboveCapacity !== undefined) {
          return [o.label, fmtInt(offered), `not run: above ${CAPACITY_SHARE * 100}% of its ${fmtInt(entry.aboveCapacity)}/s`, '', '', '', '', '', '', '', ''];
        }
        if (!entry?.summary || entry.runs.length === 0) return [o.label, fmtInt(offered), 'failed', '', '', '', '', '', '', '', ''];
        const s = entry.summary;
        const splits = entry.runs.map((run) => run.summary.split).filter((split) => split !== undefined);
        const part = (pick: (split: NonNullable<LatencyRun['summary']['split']>) => LatencySummary | undefined): string => {
          const picked = splits.map(pick).filter((summary) => summary !== undefined);
          if (picked.length === 0) return 'n/a';
          const summary = medianSummary(picked);
          return `${fmt(summary.p50)} / ${fmt(summary.p99)}`;
        };
        return [
          o.label,
          fmtInt(offered),
          entry.overloaded !== undefined
            ? `${fmtInt(entry.achievedRate ?? 0)} (overloaded: above ${CAPACITY_SHARE * 100}% of its ${fmtInt(entry.overloaded)}/s)`
            : fmtInt(entry.achievedRate ?? 0),
          fmt(s.p50),
          fmt(s.p99),
          fmt(s.p999),
          fmt(s.max),
          part((x) => x.toRelay),
          part((x) => x.toDelivery),
          part((x) => x.inHandlers),
          loopDelay(entry.runs),
        ];
      }),
    ),
  };
  return [throughput, ...large, latency];
}

/**
 * Modulith's own view of each latency run (the run with the median p99): relay claims (whole
 * claim transaction), deliveries to the two watched subscribers (key plan, inbox, handler, key
 * progress, commit) and the handler calls inside them. Where the commit-to-handled time goes.
 */
export function internalsTable(outcomes: ContenderOutcome[]): Table[] {
  const rows: string[][] = [];
  const cell = (x: { count: number; eventsPerCall: number; p50Ms: number; p99Ms: number } | undefined): string =>
    x && x.count > 0 ? `${fmtInt(x.count)} × ${fmt(x.eventsPerCall)} events, ${fmt(x.p50Ms)} / ${fmt(x.p99Ms)} ms` : 'n/a';
  for (const o of outcomes) {
    for (const [offered, entry] of Object.entries(o.latency)) {
      const runs = entry.runs.filter((run) => run.summary.internals);
      if (runs.length === 0) continue;
      const run = [...runs].sort((a, b) => a.summary.p99 - b.summary.p99)[Math.floor((runs.length - 1) / 2)];
      const seen = run.summary.internals!;
      rows.push([o.label, fmtInt(Number(offered)), cell(seen['relayClaims']), cell(seen['deliveries']), cell(seen['handlerCalls'])]);
    }
  }
  if (rows.length === 0) return [];
  return [
    {
      caption: 'Modulith during the latency runs (the run with the median p99): calls × events per call, p50 / p99 ms of each',
      header: ['contender', 'offered/s', 'relay claims (claim transaction)', 'deliveries (plan, inbox, handler, progress, commit)', 'handler calls (handler alone)'],
      rows,
    },
  ];
}

function loopDelay(runs: readonly LatencyRun[]): string {
  const delays = runs.map((run) => run.summary.eventLoopDelay).filter((delay) => delay !== undefined);
  if (delays.length === 0) return 'n/a';
  return `${fmt(median(delays.map((d) => d.p99)))} / ${fmt(median(delays.map((d) => d.max)))}`;
}

export interface TargetRow {
  target: string;
  /** Measured ratio per size or rate, e.g. { '10,000 transfers': 0.63 }. */
  ratios: Record<string, number>;
  /** What the ratio is compared with, and in which direction. */
  bar: number;
  atLeast: boolean;
  detail: string;
  verdict: string;
}

/**
 * Issue 13's targets, each as ratios of figures from this run (never asserted): throughput of
 * the same-effect variants, unkeyed and keyed, and of the reference app against the bare-SQL
 * ceiling and the best peer, at both sizes; commit-to-handled p99 against the ceiling's at the
 * same offered rate.
 */
export function targetRows(outcomes: ContenderOutcome[]): TargetRow[] {
  const byId = new Map(outcomes.map((o) => [o.id, o]));
  const peer = bestPeer(outcomes);
  const sizesOf = [
    { label: `${fmtInt(sizes.pipeline.transfers)} transfers`, rates: (o: ContenderOutcome) => o.rates },
    ...(sizes.pipeline.largeTransfers > 0 ? [{ label: `${fmtInt(sizes.pipeline.largeTransfers)} transfers`, rates: (o: ContenderOutcome) => o.largeRates }] : []),
  ];
  const verdictOf = (ratios: Record<string, number>, bar: number, atLeast: boolean): string => {
    const entries = Object.entries(ratios).filter(([, value]) => Number.isFinite(value));
    if (entries.length === 0) return 'not measured';
    const met = entries.filter(([, value]) => (atLeast ? value >= bar : value <= bar));
    if (met.length === entries.length) return '**met**';
    if (met.length === 0) return '**not met**';
    return `met at ${met.map(([label]) => label).join(', ')} only`;
  };
  const rows: TargetRow[] = [];
  const throughputRow = (id: string, against: ContenderOutcome | undefined, bar: number, target: string): void => {
    const o = byId.get(id);
    if (!o || !against) return;
    const ratios: Record<string, number> = {};
    const details: string[] = [];
    for (const size of sizesOf) {
      const mine = size.rates(o);
      const theirs = size.rates(against);
      if (mine.length === 0 || theirs.length === 0) continue;
      ratios[size.label] = median(mine) / median(theirs);
      details.push(`${ratio(ratios[size.label])} at ${size.label} (${fmtInt(median(mine))} vs ${fmtInt(median(theirs))}/s)`);
    }
    // A bar of 0: a figure reported beside the targets, not one.
    rows.push({ target, ratios, bar, atLeast: true, detail: details.join('; ') || 'n/a', verdict: bar === 0 ? 'reported' : verdictOf(ratios, bar, true) });
  };
  const ceiling = byId.get(CEILING);
  throughputRow('modulith_fx', ceiling, 0.8, 'same effect as peers, unkeyed >= 0.8x the bare-SQL ceiling');
  throughputRow('modulith_keyed', ceiling, 0.6, 'same effect, every event keyed (1,000 keys) >= 0.6x the ceiling');
  throughputRow('modulith_fx', peer, 2, `same effect, unkeyed >= 2x the best peer${peer ? ` (${peer.label})` : ''}`);
  throughputRow('modulith_keyed', peer, 2, `same effect, keyed >= 2x the best peer${peer ? ` (${peer.label})` : ''}`);
  throughputRow('modulith', ceiling, 0.45, 'reference app >= 0.45x the ceiling');
  // Not targets: how close each variant comes to what its shape allows, and what the shape costs (see bare-split.ts).
  throughputRow('bare_split', ceiling, 0, 'bound (bare SQL, no transaction across delivery) vs the ceiling (reported, no target)');
  throughputRow('modulith_fx', byId.get('bare_split'), 0, 'same effect, unkeyed vs the bound (reported, no target)');
  throughputRow('bare_split_keyed', ceiling, 0, 'keyed bound vs the ceiling (reported, no target)');
  throughputRow('modulith_keyed', byId.get('bare_split_keyed'), 0, 'same effect, keyed vs the keyed bound (reported, no target)');
  throughputRow('bare_split_reference', ceiling, 0, "the reference app's bound vs the ceiling (reported, no target)");
  throughputRow('modulith', byId.get('bare_split_reference'), 0, "reference app vs its bound (reported, no target)");
  // Not a target: what keying every event costs the same pipeline.
  throughputRow('modulith_keyed', byId.get('modulith_fx'), 0, 'keyed vs unkeyed same effect (the cost of ordering; reported, no target)');
  // Issue 17: validating TransferIngested at append and at delivery costs at most 5% of the pipeline.
  throughputRow('modulith_fx', byId.get('modulith_fx_unvalidated'), 0.95, 'same effect with event schemas validated >= 0.95x without (the cost of validation)');
  for (const offered of sizes.pipeline.rates) {
    const bare = ceiling?.latency[offered]?.summary;
    for (const id of [...MODULITH, ...BOUNDS]) {
      const o = byId.get(id);
      if (!o || !ceiling) continue;
      const entry = o.latency[offered];
      const label = `${fmtInt(offered)}/s`;
      const targeted = offered === 1000 && MODULITH.includes(id);
      const target = targeted ? `${o.label}: commit-to-handled p99 at 1,000/s <= 1.5x the ceiling's` : `${o.label}: p99 at ${label} vs the ceiling's (reported, no target)`;
      let detail: string;
      const ratios: Record<string, number> = {};
      if (entry?.aboveCapacity !== undefined) detail = `not run: ${label} is above ${CAPACITY_SHARE * 100}% of its ${fmtInt(entry.aboveCapacity)}/s`;
      else if (!entry?.summary || !bare) detail = 'n/a (a run failed)';
      else {
        ratios[label] = entry.summary.p99 / bare.p99;
        detail = `${ratio(ratios[label])} (p99 ${fmt(entry.summary.p99)} vs ${fmt(bare.p99)} ms; p50 ${fmt(entry.summary.p50)} vs ${fmt(bare.p50)} ms)`;
        if (entry.overloaded !== undefined) detail += `; offered above ${CAPACITY_SHARE * 100}% of its ${fmtInt(entry.overloaded)}/s, so queueing`;
        const ceilingOver = ceiling.latency[offered]?.overloaded ?? ceiling.latency[offered]?.aboveCapacity;
        if (ceilingOver !== undefined) detail += `; the ceiling was above ${CAPACITY_SHARE * 100}% of its ${fmtInt(ceilingOver)}/s`;
      }
      const verdict = targeted ? verdictOf(ratios, 1.5, false) : 'reported';
      rows.push({ target, ratios, bar: 1.5, atLeast: false, detail, verdict });
    }
  }
  return rows;
}

export function targetTable(rows: TargetRow[]): Table {
  return {
    caption: "Issue 13's targets, as ratios of figures taken in this run (reported, not asserted)",
    header: ['target', 'measured', 'verdict'],
    rows: rows.map((row) => [row.target, row.detail, row.verdict]),
  };
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
  const contenders = pipelineContenders();
  const outcomes = await runPipeline('pipeline', contenders, largeRuns(contenders));
  const after = await probeServer();
  const targets = targetRows(outcomes);
  return {
    name: 'pipeline',
    title: 'Pipeline: HTTP batch -> outbox -> ledger + analytics, beside the bare-SQL ceiling and peers',
    tables: [
      targetTable(targets),
      ...pipelineTables(outcomes, [
        { id: 'bare', label: 'bare SQL' },
        { id: 'bare_split', label: 'bound' },
        { id: 'modulith', label: 'Modulith' },
      ]),
      ...internalsTable(outcomes),
      serverTable(before, after),
      ...waitTables(outcomes),
    ],
    checks: outcomes.flatMap((o) => o.checks),
    notes: [
      'Modulith is fed over HTTP (POST /transfers/batch, 500 per request, 2 in flight) and relays with RELAY_CONCURRENCY=2, DB_POOL_SIZE=10; the bare-SQL ceiling and the peers write the same transfer rows straight to PostgreSQL with the same batches.',
      'The reference app does more per event than the others: the ledger writes two entries and a balance per posting and publishes two BalanceChanged events per transfer through the outbox (keyed by account and currency), and its ledger.statement subscriber records one statement line per BalanceChanged; "same effect" runs the platform with the peers\' effect (inbox + one row upsert per subscriber per event).',
      '"same effect, event schemas off": the same as "same effect" with TransferIngested\'s schema removed in that process (BENCH_EVENT_SCHEMAS=off), so neither append nor delivery validates it; "same effect" validates every event twice (TypeBox compiled check at append, upcast-and-check at delivery, per subscriber).',
      'The bounds ("bare SQL, no transaction across delivery", unkeyed and keyed) do the ceiling\'s work in the shape issue 13 requires: the claim (outbox delete + append to a log row) in a transaction of its own, each subscriber\'s inbox + effect + cursor (keyed: + per-key progress by compare-and-set) in another; generous to that shape (one statement per subscriber batch, no retries, no pruning), they say what the shape itself costs.',
      'The reference app\'s bound does the reference app\'s work (ledger balances, entries and keyed BalanceChanged events through the outbox; analytics buckets; the ledger\'s statement lines from BalanceChanged, gated by key progress) in the same shape, with the app\'s tables, statements and concurrency (one ledger and one analytics applier, two for the statement), one statement per batch.',
      '"same effect, keyed": the same, with TransferIngested keyed by its `to` account (1,000 keys), so every event is numbered per key at append and gated per subscriber by its key progress; each effect row records its key and keySeq, and the check verifies each key\'s events were applied in keySeq order, none skipped.',
      ...(sizes.pipeline.largeTransfers > 0
        ? [
            `The ${fmtInt(sizes.pipeline.largeTransfers)}-transfer runs are for the ceiling, its bounds, the Modulith variants and the best peer at ${fmtInt(sizes.pipeline.transfers)} (graphile-worker and BullMQ would take minutes per run); they follow the ${fmtInt(sizes.pipeline.transfers)}-transfer rounds, which serve as their warm-up.`,
          ]
        : []),
      'Latency split (Modulith): "relayed" is when the relay handed the batch to the transport (Redis: inside its claim; in-process it is n/a: the claim returns only the rows of types the process hands on itself, and no one here takes TransferIngested but the log readers), "delivery" when the subscriber\'s log reader handed it to the subscriber; for the others the split is at the moment a consumer took the event, and "relayed" is n/a.',
    ],
    data: { sizes: sizes.pipeline, runs: sizes.runs, server: { before, after }, targets, outcomes },
  };
}
