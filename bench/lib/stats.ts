/** Medians, latency histograms (HdrHistogram, microseconds) and number formatting. */
import * as hdr from 'hdr-histogram-js';

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

export interface LatencySummary {
  count: number;
  /** Milliseconds. */
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

/** Records latencies in microseconds (1 µs to 1 hour, 3 significant digits); reads them back in ms. */
export class Latencies {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 3_600_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
    useWebAssembly: false,
  });

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ms * 1000)));
  }

  recordNs(ns: number): void {
    this.histogram.recordValue(Math.max(1, Math.round(ns / 1000)));
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  summary(): LatencySummary {
    const at = (percentile: number): number => this.histogram.getValueAtPercentile(percentile) / 1000;
    return { count: this.histogram.totalCount, p50: at(50), p99: at(99), p999: at(99.9), max: this.histogram.maxValue / 1000 };
  }
}

/** A finer histogram for in-process calls: nanoseconds, 10 ns to 10 s. */
export class NanoLatencies {
  private readonly histogram = hdr.build({
    lowestDiscernibleValue: 10,
    highestTrackableValue: 10_000_000_000,
    numberOfSignificantValueDigits: 3,
    bitBucketSize: 64,
    useWebAssembly: false,
  });

  recordNs(ns: number): void {
    this.histogram.recordValue(Math.max(10, ns));
  }

  /** In microseconds. */
  summary(): LatencySummary {
    const at = (percentile: number): number => this.histogram.getValueAtPercentile(percentile) / 1000;
    return { count: this.histogram.totalCount, p50: at(50), p99: at(99), p999: at(99.9), max: this.histogram.maxValue / 1000 };
  }
}

/** Median of each field over several runs' summaries. */
export function medianSummary(runs: readonly LatencySummary[]): LatencySummary {
  return {
    count: median(runs.map((run) => run.count)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    p999: median(runs.map((run) => run.p999)),
    max: median(runs.map((run) => run.max)),
  };
}

export function fmtInt(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a';
}

/** 3 significant digits, e.g. 0.0123, 1.23, 123, 12,300. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (Math.abs(value) >= 1000) return fmtInt(value);
  return Number(value.toPrecision(3)).toString();
}

export function ratio(value: number): string {
  return Number.isFinite(value) ? `${fmt(value)}x` : 'n/a';
}
