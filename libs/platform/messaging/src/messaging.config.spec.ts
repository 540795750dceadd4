import { ConfigurationError } from '@modulith/core';
import { messagingConfigFromEnv } from './messaging.config';

describe('messaging configuration', () => {
  it('defaults to the in-process transport and no outbox retention', () => {
    const config = messagingConfigFromEnv({});
    expect(config).toMatchObject({ eventTransport: 'inprocess', redisUrl: undefined, outboxRetentionHours: 0, redisKeyPrefix: 'modulith' });
    expect(messagingConfigFromEnv({ REDIS_URL: 'redis://cache:6379' }).eventTransport).toBe('inprocess');
  });

  it('reads the Redis transport settings', () => {
    const config = messagingConfigFromEnv({
      EVENT_TRANSPORT: 'redis',
      REDIS_URL: 'redis://redis:6379/1',
      REDIS_KEY_PREFIX: 'shop',
      REDIS_STREAM_MAXLEN: '5000',
      REDIS_CLAIM_IDLE_MS: '2000',
      OUTBOX_RETENTION_HOURS: '24',
    });
    expect(config).toMatchObject({
      eventTransport: 'redis',
      redisUrl: 'redis://redis:6379/1',
      redisKeyPrefix: 'shop',
      redisStreamMaxLen: 5000,
      redisClaimIdleMs: 2000,
      outboxRetentionHours: 24,
    });
  });

  it('reads the remote call settings, with defaults', () => {
    expect(messagingConfigFromEnv({})).toMatchObject({
      callTimeoutMs: 10_000,
      callConcurrency: 64,
      callHeartbeatMs: 1000,
      callHostTtlMs: 3000,
      callStreamMaxLen: 100_000,
      callOverrunGraceMs: 5000,
      callReceiptRetentionHours: 24,
    });
    expect(messagingConfigFromEnv({ CALL_TIMEOUT_MS: '2500', CALL_CONCURRENCY: '8', CALL_HEARTBEAT_MS: '200', CALL_HOST_TTL_MS: '600' })).toMatchObject({
      callTimeoutMs: 2500,
      callConcurrency: 8,
      callHeartbeatMs: 200,
      callHostTtlMs: 600,
    });
  });

  it.each([
    [{ CALL_HEARTBEAT_MS: '1000', CALL_HOST_TTL_MS: '1500' }, 'CALL_HOST_TTL_MS (1500) must be at least twice CALL_HEARTBEAT_MS (1000)'],
    [{ CALL_TIMEOUT_MS: 'soon' }, 'CALL_TIMEOUT_MS must be an integer'],
    [{ CALL_CONCURRENCY: '0' }, 'CALL_CONCURRENCY must be between'],
    [{ EVENT_TRANSPORT: 'redis' }, 'EVENT_TRANSPORT=redis needs REDIS_URL'],
    [{ EVENT_TRANSPORT: 'kafka' }, 'EVENT_TRANSPORT must be one of inprocess, redis'],
    [{ EVENT_TRANSPORT: 'redis', REDIS_URL: 'localhost:6379' }, 'REDIS_URL must start with redis://'],
    [{ REDIS_KEY_PREFIX: 'a b' }, 'REDIS_KEY_PREFIX must be'],
    [{ REDIS_STREAM_MAXLEN: '-1' }, 'REDIS_STREAM_MAXLEN must be between'],
    [{ OUTBOX_RETENTION_HOURS: '200', INBOX_RETENTION_HOURS: '168' }, 'INBOX_RETENTION_HOURS (168) must be at least OUTBOX_RETENTION_HOURS (200)'],
  ])('refuses %p, naming the variable', (env, message) => {
    expect(() => messagingConfigFromEnv(env)).toThrow(ConfigurationError);
    expect(() => messagingConfigFromEnv(env)).toThrow(message);
  });
});
