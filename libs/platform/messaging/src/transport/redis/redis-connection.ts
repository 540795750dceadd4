import type { Logger } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * `publisher`: fails fast. No offline queue, and commands in flight when the connection drops
 * are rejected at once, so the relay rolls its batch back (the rows stay in the outbox) instead
 * of waiting on a dead server. `consumer`: patient. A blocking read or an ack issued while Redis
 * is away waits for the reconnection and is sent again, so consumer loops simply resume.
 */
export type ConnectionRole = 'publisher' | 'consumer';

const MAX_RECONNECT_DELAY_MS = 2000;

/** Opens one connection that reconnects forever and reports an outage once, and its end once. */
export function openRedis(url: string, role: ConnectionRole, name: string, logger: Logger, commandTimeoutMs: number): Redis {
  const common: RedisOptions = {
    connectionName: name,
    retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
  };
  const options: RedisOptions =
    role === 'publisher'
      ? { ...common, enableOfflineQueue: false, maxRetriesPerRequest: 0, autoResendUnfulfilledCommands: false, commandTimeout: commandTimeoutMs }
      : { ...common, enableOfflineQueue: true, maxRetriesPerRequest: null, autoResendUnfulfilledCommands: true };
  const redis = new Redis(url, options);
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.warn(`Redis connection ${name} lost (${error.message}); reconnecting`);
  });
  redis.on('ready', () => {
    if (!down) return;
    down = false;
    logger.log(`Redis connection ${name} is back`);
  });
  return redis;
}

/** Resolves once the connection is ready, or false after `timeoutMs`. */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), timeoutMs);
    const onReady = (): void => done(true);
    function done(ready: boolean): void {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    }
    redis.on('ready', onReady);
  });
}

/** Closes politely when Redis answers, else drops the connection; never waits long. */
export async function closeRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status === 'end') return;
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  const quit = redis.quit().then(
    () => true,
    () => false,
  );
  const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
  if (!(await Promise.race([quit, timedOut]))) redis.disconnect();
}
