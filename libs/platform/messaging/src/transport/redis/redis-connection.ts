import type { Logger } from '@nestjs/common';
import { ModulithError } from '@modulith/core';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * `publisher`: its commands carry ioredis's own `commandTimeout`. `consumer`: a loop's blocking
 * reads block longer than that, so each of its calls is bounded by `bounded` instead. Both fail
 * fast: no offline queue, and commands in flight when the connection drops are rejected at
 * once and never sent again. A command re-sent on a new connection after its caller gave up on
 * it would run unobserved (a read whose entries nobody handles, a blocking read that holds the
 * connection), so callers retry instead: the relay keeps its batch in the outbox, a consumer
 * loop re-reads its own unacknowledged entries before new ones.
 */
export type ConnectionRole = 'publisher' | 'consumer';

const MAX_RECONNECT_DELAY_MS = 2000;
const IOREDIS_TIMEOUT_MESSAGE = 'Command timed out';

/** A Redis call did not settle within its bound; the connection it waited on was reset. */
export class RedisCallTimeoutError extends ModulithError {
  readonly code = 'REDIS_CALL_TIMEOUT';
}

/** Opens one connection that reconnects forever and reports an outage once, and its end once. */
export function openRedis(url: string, role: ConnectionRole, name: string, logger: Logger, commandTimeoutMs: number): Redis {
  const options: RedisOptions = {
    connectionName: name,
    retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
    enableOfflineQueue: false,
    // 0: every command queued on a connection that closes is rejected with the close.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    ...(role === 'publisher' ? { commandTimeout: commandTimeoutMs } : {}),
  };
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

/**
 * Waits for `call`, made on `redis`, at most `boundMs` (a blocking read: its BLOCK time plus the
 * command timeout). Past it, rejects with `RedisCallTimeoutError` and resets the connection: one
 * that stopped answering without closing (a paused server, a connection dropped silently on the
 * way) never recovers by itself, and the reset rejects whatever else was waiting on it.
 */
export function bounded<T>(redis: Redis, call: Promise<T>, boundMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      resetConnection(redis);
      reject(new RedisCallTimeoutError(`Redis did not answer ${what} within ${boundMs} ms; the connection was reset`, { what, boundMs }));
    }, boundMs);
    timer.unref();
  });
  return Promise.race([call, expired]).finally(() => clearTimeout(timer));
}

/** Resets the connection when `call` failed on ioredis's own `commandTimeout` (see `bounded`). */
export async function resetOnTimeout<T>(redis: Redis, call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof Error && error.message === IOREDIS_TIMEOUT_MESSAGE) resetConnection(redis);
    throw error;
  }
}

function resetConnection(redis: Redis): void {
  if (redis.status === 'ready' || redis.status === 'connect') redis.disconnect(true);
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
