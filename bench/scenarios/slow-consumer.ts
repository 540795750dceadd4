/**
 * Scenario `slow-consumer`: 1M events through the platform's best-effort path to a subscriber
 * 100x slower than they arrive. Memory must stay flat (the subscriber's BoundedQueue drops the
 * oldest and counts); every event must be either handled or counted as dropped.
 */
import * as path from 'node:path';
import { sizes, SMOKE } from '../lib/config';
import { createDatabase } from '../lib/db';
import { Worker } from '../lib/ipc';
import type { Check, ScenarioResult } from '../lib/scenario';
import { fmt, fmtInt, median } from '../lib/stats';

type RunResult = {
  events: number;
  arrivalRate: number;
  serviceMs: number;
  produceRate: number;
  seconds: number;
  relayed: number;
  handled: number;
  handledRate: number;
  dropped: number;
  droppedAtStop: number;
  rssBaselineMB: number;
  rssPeakMB: number;
  rssEndMB: number;
  heapPeakMB: number;
  rssPeakFirstHalfMB: number;
  rssPeakSecondHalfMB: number;
  heapFloorSecondHalfMB: number;
  samples: unknown[];
};

export async function run(): Promise<ScenarioResult> {
  const { events, slowdown, runs, cappedOldSpaceMB } = sizes.slowConsumer;
  const warmup = SMOKE ? 1000 : 50_000;
  // The default V8 flags, then (unless 0) the same run with the old space capped: the difference is
  // garbage V8 lets pile up between major collections, not memory the pipeline holds.
  const variants = [
    { label: 'Node defaults', flags: [] as string[], runs },
    ...(cappedOldSpaceMB > 0 ? [{ label: `--max-old-space-size=${cappedOldSpaceMB}`, flags: [`--max-old-space-size=${cappedOldSpaceMB}`], runs: 1 }] : []),
  ];
  const extra = (process.env['BENCH_SLOW_NODE_FLAGS'] ?? '').split(' ').filter(Boolean);
  const database = await createDatabase('slow');
  const results: { label: string; runs: RunResult[] }[] = [];
  const checks: Check[] = [];
  try {
    for (const variant of variants) {
      const entry = { label: variant.label, runs: [] as RunResult[] };
      results.push(entry);
      for (let i = 0; i < variant.runs; i += 1) {
        // A fresh process per run, so each starts from the same memory.
        const name = `${variant.label}, run ${i + 1}/${variant.runs}`;
        const worker = Worker.start(`slow-consumer-${i + 1}`, path.join(__dirname, 'slow-consumer', 'host.ts'), [], {}, ['--expose-gc', ...extra, ...variant.flags]);
        try {
          const result = await worker.call<RunResult>('run', { databaseUrl: database.url, events, slowdown, warmup, label: name });
          entry.runs.push(result);
          checks.push({
            name: `${name}: every event handled or counted as dropped`,
            ok: result.relayed === events && result.handled + result.dropped === events,
            detail: `relayed ${result.relayed}, handled ${result.handled} + dropped ${result.dropped} = ${result.handled + result.dropped} of ${events}`,
          });
          checks.push({ name: `${name}: the subscriber fell behind and dropped`, ok: result.dropped > 0, detail: `${result.dropped} dropped` });
        } finally {
          await worker.stop();
        }
      }
    }
  } finally {
    await database.drop();
  }
  const row = ({ label, runs: done }: { label: string; runs: RunResult[] }): string[] => {
    const m = (pick: (r: RunResult) => number): number => median(done.map(pick));
    return [
      label,
      fmtInt(events),
      fmtInt(m((r) => r.relayed / r.seconds)),
      fmt(m((r) => r.handledRate)),
      `${fmt(m((r) => r.relayed / r.seconds / r.handledRate))}x`,
      fmtInt(m((r) => r.handled)),
      `${fmtInt(m((r) => r.dropped))} (${fmtInt(m((r) => r.droppedAtStop))})`,
      fmt(m((r) => r.rssBaselineMB)),
      fmt(m((r) => r.rssPeakMB)),
      fmt(m((r) => r.rssPeakMB - r.rssBaselineMB)),
      `${fmt(m((r) => r.rssPeakFirstHalfMB))} / ${fmt(m((r) => r.rssPeakSecondHalfMB))}`,
      `${fmt(m((r) => r.heapFloorSecondHalfMB))} / ${fmt(m((r) => r.heapPeakMB))}`,
      fmt(m((r) => r.seconds)),
    ];
  };
  return {
    name: 'slow-consumer',
    title: `Slow consumer: ${fmtInt(events)} events to a best-effort subscriber ${slowdown}x slower than they arrive`,
    tables: [
      {
        caption: `Median of the runs (Node defaults: ${runs}), each in a fresh process after a warm-up of ${fmtInt(warmup)} events; memory sampled every 100 ms`,
        header: ['V8 flags', 'events', 'arrival/s', 'handler/s', 'slower by', 'handled', 'dropped (at stop)', 'RSS after warm-up MB', 'RSS peak MB', 'growth MB', 'RSS peak 1st / 2nd half MB', 'heap floor / peak MB', 'seconds'],
        rows: results.filter((entry) => entry.runs.length > 0).map(row),
      },
    ],
    checks,
    notes: [
      'Path: Outbox.append (5,000 events per transaction) -> relay (2 claim loops, 500 per claim) -> in-process transport -> BestEffortSubscriber (BoundedQueue, capacity BEST_EFFORT_QUEUE_CAPACITY = 10,000, drop-oldest) -> handler with a fixed service time of slowdown / arrival rate (arrival rate measured in the second half of the warm-up; "slower by" is what the run achieved).',
      'Growth is the peak resident memory of the whole process (producer, relay, queue) minus the sample taken after the warm-up and a forced GC; the 1st/2nd-half peaks show whether it keeps rising; the heap floor (lowest heap sample of the 2nd half) is what survives collections.',
    ],
    data: { sizes: sizes.slowConsumer, warmup, variants: results },
  };
}
