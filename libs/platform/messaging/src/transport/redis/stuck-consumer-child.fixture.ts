// The consumer the dead-consumer test kills: it hosts the ordered subscribers on the Redis
// transport, reads its groups' entries and never finishes a delivery (every attempt hangs in its
// transaction), so whatever it read stays pending under its name until it is SIGKILLed.
// Run with: node -r ../../test-support/ts-register.cjs stuck-consumer-child.fixture.ts (env below).
import type { MessagingConfig } from '../../messaging.config';
import { messagingTestConfig } from '../../messaging-test-config';
import { createOrderedApp } from '../../test-support/ordered-app';
import { OrderedControl } from '../../test-support/ordered-events';
import { TRANSPORT } from '../transport';
import type { RedisStreamsTransport } from './redis-streams.transport';

/** Every attempt hangs: deliveries never end, nothing is acknowledged. */
class HangingControl extends OrderedControl {
  override attempt(): 'hang' {
    return 'hang';
  }
}

async function main(): Promise<void> {
  const url = process.env['STUCK_DATABASE_URL'];
  const messaging = JSON.parse(process.env['STUCK_MESSAGING'] ?? '{}') as Partial<MessagingConfig>;
  if (!url) throw new Error('STUCK_DATABASE_URL is required');
  const { app } = await createOrderedApp({
    database: { url, poolSize: 4, dataDir: '', embeddedPort: 0, migrateOnStart: true },
    messaging: messagingTestConfig({ relayEnabled: false, handlerTimeoutMs: 600_000, ...messaging }),
    control: new HangingControl(),
    logger: ['error'],
  });
  process.stdout.write(`ready ${app.get<RedisStreamsTransport>(TRANSPORT, { strict: false }).consumerName}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`stuck consumer failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
