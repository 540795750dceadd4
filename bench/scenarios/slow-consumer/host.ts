/**
 * One slow-consumer run in a fresh process: the platform's real best-effort path (outbox ->
 * relay -> transport -> BestEffortSubscriber's BoundedQueue -> handler) with a handler whose
 * service time is `slowdown` times the producer's inter-arrival time, measured in a warm-up.
 * Resident memory is sampled every 100 ms through the measured run.
 */
import { Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { Database, DatabaseModule, defineModule } from '@modulith/database';
import { IntegrationEvent, MessagingMetrics, MessagingModule, OnIntegrationEvent, Outbox } from '@modulith/messaging';
import { nowMs, progress, serve } from '../../lib/ipc';

interface TickPayload {
  seq: number;
  account: string;
  balance: string;
}

class BenchBalanceTick extends IntegrationEvent<TickPayload> {
  static readonly type = 'bench.balance-tick';
  static readonly version = 1;
}

const SUBSCRIBER = 'bench_consumer.slow-fan-out';

@Injectable()
class SlowFanOut {
  /** Service time per event, ms; 0 while warming up. */
  serviceMs = 0;
  private busyUntil = 0;

  @OnIntegrationEvent(BenchBalanceTick, { delivery: 'best-effort', name: SUBSCRIBER })
  async push(event: BenchBalanceTick): Promise<void> {
    if (this.serviceMs === 0) return;
    // A fixed service time per event on an absolute schedule: a timer that fires late (the relay
    // shares the event loop) is made up by the next events, so the average rate is exactly 1/serviceMs.
    this.busyUntil = this.busyUntil === 0 ? performance.now() + this.serviceMs : this.busyUntil + this.serviceMs;
    const wait = this.busyUntil - performance.now();
    if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    void event;
  }
}

@Injectable()
class TickProducer {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
  ) {}

  /** `count` events from `from`, 5,000 per transaction, 500 per statement. */
  async produce(from: number, count: number, onBatch: (done: number) => void): Promise<void> {
    for (let start = 0; start < count; start += 5000) {
      const size = Math.min(5000, count - start);
      await this.database.transaction(async (tx) => {
        for (let offset = 0; offset < size; offset += 500) {
          const events = Array.from({ length: Math.min(500, size - offset) }, (_, i) => {
            const seq = from + start + offset + i;
            return new BenchBalanceTick({ seq, account: `acc-${seq % 1000}`, balance: String(seq * 7) });
          });
          await this.outbox.append(tx, events);
        }
      });
      onBatch(start + size);
    }
  }
}

@Module({
  imports: [
    MessagingModule.forModule(defineModule({ name: 'bench_producer', schema: 'bench_producer' })),
  ],
  providers: [TickProducer],
})
class ProducerModule {}

@Module({
  imports: [MessagingModule.forModule(defineModule({ name: 'bench_consumer', schema: false }))],
  providers: [SlowFanOut],
})
class ConsumerModule {}

interface Sample {
  t: number;
  rssMB: number;
  heapMB: number;
  relayed: number;
  handled: number;
  dropped: number;
}

async function runOnce({ databaseUrl, events, slowdown, warmup, label }: { databaseUrl: string; events: number; slowdown: number; warmup: number; label: string }) {
  @Module({
    imports: [
      CqrsModule.forRoot(),
      DatabaseModule.forRoot({ url: databaseUrl, poolSize: 8, dataDir: '', embeddedPort: 0, migrateOnStart: true }),
      MessagingModule.forRoot({ relayConcurrency: 2, relayBatchSize: 500 }),
      ProducerModule,
      ConsumerModule,
    ],
  })
  class SlowRoot {}
  const app: INestApplicationContext = await NestFactory.createApplicationContext(SlowRoot, { logger: ['error', 'warn'] });
  const metrics = app.get(MessagingMetrics);
  const producer = app.get(TickProducer, { strict: false });
  const subscriber = app.get(SlowFanOut, { strict: false });
  let relayed = 0;
  let relayStart = 0;
  let relayEnd = 0;
  metrics.onSample((sample) => {
    if (sample.kind !== 'relay-batch') return;
    if (relayed === 0) relayStart = nowMs() - sample.durationMs;
    relayed += sample.events;
    relayEnd = nowMs();
  });
  const counters = (): { handled: number; dropped: number } => {
    const entry = metrics.counters().subscribers.find((s) => s.subscriber === SUBSCRIBER);
    return { handled: entry?.handled ?? 0, dropped: entry?.dropped ?? 0 };
  };
  const untilRelayed = async (target: number, timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (relayed < target) {
      if (Date.now() > deadline) throw new Error(`only ${relayed} of ${target} events relayed after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  // Warm-up with a fast subscriber: measures how fast events arrive at the subscriber.
  progress(`slow-consumer ${label}: warm-up`, 0, events);
  const half = Math.floor(warmup / 2);
  await producer.produce(0, half, () => undefined);
  await untilRelayed(half, 120_000);
  // The arrival rate of the second half, once the code is warm.
  relayed = 0;
  await producer.produce(half, warmup - half, () => undefined);
  await untilRelayed(warmup - half, 120_000);
  const arrivalRate = (warmup - half) / ((relayEnd - relayStart) / 1000);
  subscriber.serviceMs = (slowdown * 1000) / arrivalRate;
  await new Promise((resolve) => setTimeout(resolve, 300));
  (globalThis as { gc?: () => void }).gc?.();
  await new Promise((resolve) => setTimeout(resolve, 200));

  const before = counters();
  const base = relayed;
  const samples: Sample[] = [];
  const t0 = nowMs();
  const sample = (): void => {
    const memory = process.memoryUsage();
    const now = counters();
    samples.push({
      t: Math.round(nowMs() - t0),
      rssMB: memory.rss / 2 ** 20,
      heapMB: memory.heapUsed / 2 ** 20,
      relayed: relayed - base,
      handled: now.handled - before.handled,
      dropped: now.dropped - before.dropped,
    });
  };
  sample();
  const timer = setInterval(sample, 100);
  let producedAt = 0;
  await producer.produce(warmup, events, (done) => {
    if (done % 50_000 === 0 || done === events) progress(`slow-consumer ${label}: ${done.toLocaleString('en-US')} events produced`, done, events);
  });
  producedAt = nowMs();
  await untilRelayed(base + events, 600_000);
  const relayedAt = nowMs();
  sample();
  clearInterval(timer);
  const atStop = counters();
  // Closing stops the subscriber: what is still queued is dropped, and counted.
  await app.close();
  const after = counters();
  const rss = samples.map((s) => s.rssMB);
  const baseline = rss[0];
  const middle = Math.floor(samples.length / 2);
  return {
    events,
    arrivalRate,
    serviceMs: subscriber.serviceMs,
    produceRate: events / ((producedAt - t0) / 1000),
    seconds: (relayedAt - t0) / 1000,
    relayed: relayed - base,
    handled: after.handled - before.handled,
    handledRate: (atStop.handled - before.handled) / ((relayedAt - t0) / 1000),
    dropped: after.dropped - before.dropped,
    droppedAtStop: after.dropped - atStop.dropped,
    rssBaselineMB: baseline,
    rssPeakMB: Math.max(...rss),
    rssEndMB: rss[rss.length - 1],
    heapPeakMB: Math.max(...samples.map((s) => s.heapMB)),
    rssPeakFirstHalfMB: Math.max(...rss.slice(0, middle)),
    rssPeakSecondHalfMB: Math.max(...rss.slice(middle)),
    /** Heap left after collections: the lowest sample of the second half. */
    heapFloorSecondHalfMB: Math.min(...samples.slice(middle).map((s) => s.heapMB)),
    samples: samples.filter((_, i) => i % Math.max(1, Math.floor(samples.length / 60)) === 0 || i === samples.length - 1),
  };
}

serve({ run: runOnce } as never);
