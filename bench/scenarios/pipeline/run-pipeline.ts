/**
 * Runs contenders side by side: a warm-up, then `runs` rounds of the throughput run (each round
 * rotates who goes first), then (when asked) rounds of a larger throughput run for some of them,
 * then `runs` rounds of each fixed-rate latency run. Every run starts from empty tables and is
 * checked for exactly-once afterwards. A contender that fails is reported as failed and the
 * others go on.
 */
import { sizes, SMOKE } from '../../lib/config';
import { note, progress } from '../../lib/ipc';
import type { Check } from '../../lib/scenario';
import { median, medianSummary, type LatencySummary } from '../../lib/stats';
import type { Contender, LatencyRun } from './contenders';

export interface ContenderOutcome {
  id: string;
  label: string;
  /** Transfers/s to full drain, one per measured run. */
  rates: number[];
  /** The same at the larger size (`LargeRuns`), for the contenders picked; empty otherwise. */
  largeRates: number[];
  /** The contender's own process CPU per transfer (µs), one per measured run (see `Contender.lastCpuMicros`). */
  cpuPerEvent: number[];
  /** The same at the larger size. */
  largeCpuPerEvent: number[];
  /** Per offered rate; `aboveCapacity` (the measured throughput) when the rate was not offered. */
  latency: Record<number, { runs: LatencyRun[]; summary?: LatencySummary; achievedRate?: number; aboveCapacity?: number; overloaded?: number }>;
  checks: Check[];
  error?: string;
  /** BENCH_WAITS=1, Modulith only: database wait sampling of the last throughput run. */
  waits?: unknown;
}

/** Latency is measured only at rates up to this share of the contender's measured throughput... */
export const CAPACITY_SHARE = 0.8;
/**
 * ...except for Modulith and the ceiling (what the targets compare), measured above it too when
 * their measured throughput drains the whole offered load within this many seconds; flagged.
 */
export const OVERLOAD_DRAIN_SECONDS = 5;

/** Throughput runs at a larger size, after the normal ones, for the contenders `pick` chooses from their results so far. */
export interface LargeRuns {
  transfers: number;
  runs: number;
  /** Ids to run at this size (at most `count` of them), given the outcomes of the normal size. */
  pick(outcomes: ContenderOutcome[]): string[];
  count: number;
}

export async function runPipeline(scenario: string, contenders: Contender[], large?: LargeRuns): Promise<ContenderOutcome[]> {
  const { transfers: n, rates, latencySeconds, drainTimeoutMs } = sizes.pipeline;
  const runs = sizes.runs;
  const outcomes = new Map<string, ContenderOutcome>(
    contenders.map((c) => [c.id, { id: c.id, label: c.label, rates: [], largeRates: [], cpuPerEvent: [], largeCpuPerEvent: [], latency: {}, checks: [] }]),
  );
  const live: Contender[] = [];
  const largeSteps = large && large.transfers > 0 ? large.count * large.runs : 0;
  const total = contenders.length * (2 + runs + rates.length * runs) + largeSteps;
  let done = 0;
  const step = (label: string): void => progress(`${scenario}: ${label}`, done, total);
  const fail = (contender: Contender, error: unknown): void => {
    const outcome = outcomes.get(contender.id)!;
    outcome.error ??= (error as Error).message.split('\n')[0];
    outcome.checks.push({ name: `${contender.label}: ran`, ok: false, detail: outcome.error });
    note(`${contender.label} failed: ${(error as Error).stack ?? String(error)}`);
    const index = live.indexOf(contender);
    if (index >= 0) live.splice(index, 1);
  };
  let runNo = 0;
  const measured = async (contender: Contender, n: number, work: (prefix: string) => Promise<void>): Promise<void> => {
    const prefix = `r${++runNo}`;
    await work(prefix);
    const checks = await contender.verify(n);
    const bad = checks.filter((check) => !check.ok);
    outcomes.get(contender.id)!.checks.push({
      name: `${contender.label}: exactly once, run ${prefix} (${n} transfers)`,
      ok: bad.length === 0,
      detail: bad.length === 0 ? `${checks.length} counts as expected` : bad.map((check) => `${check.name}: ${check.detail}`).join('; '),
    });
    await contender.reset();
  };

  try {
    for (const contender of contenders) {
      step(`starting ${contender.label}`);
      try {
        await contender.start();
        live.push(contender);
      } catch (error) {
        fail(contender, error);
      }
      done += 1;
    }
    const warmup = Math.max(50, Math.round(n / 4));
    for (const contender of [...live]) {
      step(`warm-up ${contender.label}`);
      try {
        await measured(contender, warmup, (prefix) => contender.throughput(prefix, warmup, drainTimeoutMs).then(() => undefined));
      } catch (error) {
        fail(contender, error);
      }
      done += 1;
    }
    for (let round = 0; round < runs; round += 1) {
      const order = live.map((_, i) => live[(i + round) % live.length]);
      for (const contender of order) {
        step(`throughput round ${round + 1}/${runs}, ${contender.label}`);
        try {
          await measured(contender, n, async (prefix) => {
            const ms = await contender.throughput(prefix, n, drainTimeoutMs);
            outcomes.get(contender.id)!.rates.push(n / (ms / 1000));
            if (contender.lastCpuMicros !== undefined) outcomes.get(contender.id)!.cpuPerEvent.push(contender.lastCpuMicros / n);
          });
        } catch (error) {
          fail(contender, error);
        }
        done += 1;
      }
    }
    if (largeSteps > 0 && large) {
      // Larger runs: warm-up no longer flatters anyone. The normal rounds served as warm-up.
      const picked = new Set(large.pick([...outcomes.values()]));
      const chosen = live.filter((c) => picked.has(c.id));
      const timeoutMs = Math.max(drainTimeoutMs, Math.ceil(large.transfers / 500) * 1000);
      done += (large.count - chosen.length) * large.runs;
      for (let round = 0; round < large.runs; round += 1) {
        const order = chosen.map((_, i) => chosen[(i + round) % chosen.length]);
        for (const contender of order) {
          step(`${large.transfers.toLocaleString('en-US')} transfers, round ${round + 1}/${large.runs}, ${contender.label}`);
          if (!live.includes(contender)) {
            done += 1;
            continue;
          }
          try {
            await measured(contender, large.transfers, async (prefix) => {
              const ms = await contender.throughput(prefix, large.transfers, timeoutMs);
              outcomes.get(contender.id)!.largeRates.push(large.transfers / (ms / 1000));
              if (contender.lastCpuMicros !== undefined) outcomes.get(contender.id)!.largeCpuPerEvent.push(contender.lastCpuMicros / large.transfers);
            });
          } catch (error) {
            fail(contender, error);
          }
          done += 1;
        }
      }
    }
    for (const rate of rates) {
      const count = Math.round(rate * latencySeconds);
      for (let round = 0; round < runs; round += 1) {
        const order = live.map((_, i) => live[(i + round) % live.length]);
        for (const contender of order) {
          step(`${rate}/s latency round ${round + 1}/${runs}, ${contender.label}`);
          // Above its capacity a pipeline's latency only measures how long the run was (the queue
          // grows without bound), and draining it costs minutes: report the capacity instead.
          const capacity = median(outcomes.get(contender.id)!.rates);
          const overloaded = !SMOKE && rate > CAPACITY_SHARE * capacity;
          if (overloaded && !(contender.subject && count / capacity <= OVERLOAD_DRAIN_SECONDS)) {
            outcomes.get(contender.id)!.latency[rate] ??= { runs: [], aboveCapacity: capacity };
            done += 1;
            continue;
          }
          if (overloaded) (outcomes.get(contender.id)!.latency[rate] ??= { runs: [] }).overloaded = capacity;
          try {
            await measured(contender, count, async (prefix) => {
              const run = await contender.latency(prefix, rate, latencySeconds, drainTimeoutMs);
              const entry = (outcomes.get(contender.id)!.latency[rate] ??= { runs: [] });
              entry.runs.push(run);
            });
          } catch (error) {
            fail(contender, error);
          }
          done += 1;
        }
      }
    }
  } finally {
    for (const contender of contenders) {
      const waits = (contender as { waits?: unknown[] }).waits;
      if (waits?.length) outcomes.get(contender.id)!.waits = waits[waits.length - 1];
    }
    progress(`${scenario}: stopping`, total - 1, total);
    for (const contender of contenders) await contender.stop().catch((error: Error) => note(`${contender.label}: stop failed: ${error.message}`));
    progress(`${scenario}: done`, total, total);
  }
  for (const outcome of outcomes.values()) {
    for (const entry of Object.values(outcome.latency)) {
      if (entry.runs.length === 0) continue;
      entry.summary = medianSummary(entry.runs.map((run) => run.summary));
      entry.achievedRate = median(entry.runs.map((run) => run.achievedRate));
    }
  }
  return [...outcomes.values()];
}
