/**
 * Sizes of every scenario, full and smoke. `BENCH_SMOKE=1` (or `npm run bench -- --smoke`)
 * picks the tiny set that CI runs: seconds, correctness only. Any size can be overridden by
 * its environment variable (see bench/README.md).
 */
export const SMOKE = process.env['BENCH_SMOKE'] === '1';

function size(name: string, full: number, smoke: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return SMOKE ? smoke : full;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

export const sizes = {
  /** Measured runs per figure (the median is reported); one warm-up run comes first. */
  runs: size('BENCH_RUNS', 3, 1),
  dispatch: {
    /** In-process calls per run. */
    calls: size('BENCH_DISPATCH_CALLS', 100_000, 500),
    /** HTTP requests per run (sequential, one keep-alive connection). */
    requests: size('BENCH_DISPATCH_REQUESTS', 4_000, 100),
  },
  pipeline: {
    /** Transfers per throughput run. */
    transfers: size('BENCH_PIPELINE_TRANSFERS', 10_000, 300),
    /**
     * Transfers per larger throughput run (0: none), for the ceiling, the Modulith variants and
     * the best peer at the normal size (the slower peers would take minutes per run).
     */
    largeTransfers: size('BENCH_PIPELINE_LARGE_TRANSFERS', 100_000, 0),
    /** Measured runs at the larger size (one: a run is 10x as long as a normal one; more give their median). */
    largeRuns: size('BENCH_PIPELINE_LARGE_RUNS', 1, 1),
    /** Offered rates for the latency runs, transfers/s. */
    rates: (process.env['BENCH_PIPELINE_RATES'] ?? (SMOKE ? '200' : '1000,10000')).split(',').map(Number),
    /** Seconds each latency run offers load. */
    latencySeconds: size('BENCH_PIPELINE_LATENCY_SECONDS', 2, 0.5),
    /** Longest wait for a drain before a run counts as failed. */
    drainTimeoutMs: size('BENCH_DRAIN_TIMEOUT_MS', 90_000, 60_000),
    /** Contenders, comma-separated (default: all). */
    only: process.env['BENCH_PIPELINE_ONLY']?.split(',').filter(Boolean),
  },
  slowConsumer: {
    events: size('BENCH_SLOW_EVENTS', 1_000_000, 5_000),
    /** The subscriber handles events this many times slower than the producer makes them. */
    slowdown: size('BENCH_SLOW_FACTOR', 100, 100),
    runs: size('BENCH_SLOW_RUNS', 1, 1),
    /** A second run with V8's old space capped at this many MB (0: none). */
    cappedOldSpaceMB: size('BENCH_SLOW_CAPPED_OLD_SPACE', 96, 96),
  },
  ingest: {
    transfers: size('BENCH_INGEST_TRANSFERS', 50_000, 2_000),
    batch: size('BENCH_INGEST_BATCH', 1_000, 500),
    concurrency: size('BENCH_INGEST_CONCURRENCY', 4, 2),
  },
};

/** Rows per producer statement / HTTP request and claim batch, everywhere in the pipeline. */
export const BATCH = 500;
