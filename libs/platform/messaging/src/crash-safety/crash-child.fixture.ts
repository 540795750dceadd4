// The process the crash test kills: relay, retry poller and both subscribers, plus a producer
// of its own, so kills land between a commit and its delivery as well as inside batches.
// Run with: node -r ../test-support/ts-register.cjs crash-child.fixture.ts (env below).
import { createFixtureApp } from '../test-support/fixture-app';
import { FixtureControl, payloads } from '../test-support/fixture-events';
import { OrderedControl } from '../test-support/ordered-events';
import { OrderedProducer, orderedFixtureModules } from '../test-support/ordered-modules';
import { orderingKeys } from '../test-support/ordered-workload';

async function main(): Promise<void> {
  const url = process.env['CRASH_DATABASE_URL'];
  if (!url) throw new Error('CRASH_DATABASE_URL is required');
  const control = new FixtureControl();
  control.betaDelayMs = Number(process.env['CRASH_BETA_DELAY_MS'] ?? 5);
  const { app, producer } = await createFixtureApp({
    database: { url, poolSize: 12, dataDir: '', embeddedPort: 0, migrateOnStart: true },
    messaging: {
      relayBatchSize: Number(process.env['CRASH_RELAY_BATCH'] ?? 100),
      relayConcurrency: 2,
      relayPollIntervalMs: 100,
      relayNotifyDebounceMs: 5,
      retryBaseDelayMs: 20,
      retryMaxDelayMs: 100,
      retryPollIntervalMs: 100,
      // A killed child's log cursors are taken over by the next one after this.
      logLeaseMs: 1500,
    },
    control,
    // Keyed events too: their subscribers must apply each key in order across the kills.
    imports: orderedFixtureModules(new OrderedControl(), ['serial', 'batched']),
    logger: ['error'],
  });
  const ordered = app.get(OrderedProducer, { strict: false });
  const keys = orderingKeys('crash', 20);

  let stopping = false;
  let seq = Number(process.env['CRASH_SEQ_BASE'] ?? 0);
  const producing = (async () => {
    while (!stopping && process.env['CRASH_PRODUCE'] !== 'false') {
      const size = 1 + Math.floor(Math.random() * 20);
      await producer.publish(payloads(seq, size, (n) => `child-${n}`));
      if (seq % 3 === 0) await ordered.publish(Array.from({ length: 1 + (seq % 4) }, (_, index) => ({ key: keys[(seq + index * 7) % keys.length], label: `child-${seq}-${index}` })));
      seq += size;
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
    }
  })();

  process.on('SIGTERM', () => {
    stopping = true;
    void producing
      .then(() => app.close())
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        process.stderr.write(`shutdown failed: ${String(error)}\n`);
        process.exit(1);
      });
  });
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`crash child failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
