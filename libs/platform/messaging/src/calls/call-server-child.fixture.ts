// A replica of the `accounts` module in a process of its own, for the remote-call tests to
// SIGKILL mid-call. Run with: node -r ../test-support/ts-register.cjs call-server-child.fixture.ts
// (CALLS_DATABASE_URL, CALLS_REDIS_URL, CALLS_KEY_PREFIX; CALLS_CLOCK_SKEW_MS sets this process's
// clock that far from the others'). Prints "ready" once it is announced.
import { AccountsModule } from '../test-support/call-fixtures';
import { createFixtureApp } from '../test-support/fixture-app';

const skewMs = Number(process.env['CALLS_CLOCK_SKEW_MS'] ?? 0);
if (skewMs !== 0) {
  const systemNow = Date.now.bind(Date);
  Date.now = () => systemNow() + skewMs;
}

async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const { app } = await createFixtureApp({
    database: { url: env('CALLS_DATABASE_URL'), poolSize: 4, dataDir: '', embeddedPort: 0, migrateOnStart: true },
    messaging: {
      eventTransport: 'redis',
      redisUrl: env('CALLS_REDIS_URL'),
      redisKeyPrefix: env('CALLS_KEY_PREFIX'),
      callHeartbeatMs: 100,
      callHostTtlMs: 400,
    },
    consumers: [],
    imports: [AccountsModule],
    logger: ['error'],
  });
  process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
  process.stdout.write('ready\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`call server child failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
