import { Inject, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { Client } from 'pg';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { ObserveIntegrationEvent } from './observe-integration-event.decorator';
import { createFixtureApp } from '../test-support/fixture-app';
import { payloads, ThingHappened } from '../test-support/fixture-events';
import { messagingTestConfig, waitForIdle } from '../testing';

const EVENTS = Number(process.env['OBSERVER_TEST_EVENTS'] ?? 20_000);
const CONCURRENCY = 4;
const CAPACITY = 1000;
const GATE = Symbol('GATE');

/** Counts its calls in flight; every call waits until the test opens the gate. */
@Injectable()
class Gate {
  inFlight = 0;
  mostInFlight = 0;
  calls = 0;
  private open!: () => void;
  readonly opened = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.open();
  }
}

@Injectable()
class SlowObserver {
  constructor(@Inject(GATE) private readonly gate: Gate) {}

  @ObserveIntegrationEvent(ThingHappened)
  async handle(): Promise<void> {
    this.gate.calls += 1;
    this.gate.inFlight += 1;
    this.gate.mostInFlight = Math.max(this.gate.mostInFlight, this.gate.inFlight);
    await this.gate.opened;
    this.gate.inFlight -= 1;
  }
}

@Module({ providers: [{ provide: GATE, useValue: new Gate() }, SlowObserver], exports: [GATE] })
class SlowObserverModule {}

describe(`@ObserveIntegrationEvent observers of relayed events are called through a bounded queue (${EVENTS} events, real PostgreSQL)`, () => {
  let db: TestDatabase;
  let app: INestApplicationContext | undefined;

  beforeAll(async () => {
    db = await createTestDatabase('observers');
  });

  afterAll(async () => {
    app?.get<Gate>(GATE, { strict: false }).release();
    await app?.close();
    await db?.drop();
  });

  it('keeps a slow observer to OBSERVER_CONCURRENCY calls and OBSERVER_QUEUE_CAPACITY waiting, counts the drops, and leaves durable subscribers alone', async () => {
    const started = await createFixtureApp({
      database: databaseTestConfig(db.url),
      consumers: ['beta'],
      imports: [SlowObserverModule],
      messaging: messagingTestConfig({ observerConcurrency: CONCURRENCY, observerQueueCapacity: CAPACITY }),
    });
    app = started.app;
    const gate = app.get<Gate>(GATE, { strict: false });
    for (let seq = 0; seq < EVENTS; seq += 1000) await started.producer.publish(payloads(seq, Math.min(1000, EVENTS - seq)));

    // Every durable delivery completes while the observer is stuck.
    await waitForIdle(app, { timeoutMs: 120_000 });
    const client = new Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ n: string }>('SELECT count(*) AS n FROM beta.effects');
    await client.end();
    expect(Number(rows[0].n)).toBe(EVENTS);

    expect(gate.mostInFlight).toBe(CONCURRENCY);
    const counters = () => app?.get(MessagingMetrics).counters().subscribers.find((entry) => entry.subscriber === 'observer:SlowObserver');
    expect(counters()?.dropped).toBe(EVENTS - CAPACITY - CONCURRENCY);

    // Once it speeds up, each event still queued is observed once.
    gate.release();
    await eventually(() => counters()?.handled === CAPACITY + CONCURRENCY, { message: 'the queued events to be observed' });
    expect(gate.calls).toBe(CAPACITY + CONCURRENCY);
    expect(gate.mostInFlight).toBe(CONCURRENCY);
  }, 180_000);
});
