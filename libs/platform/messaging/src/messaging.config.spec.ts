import { ConfigurationError } from '@modulith/core';
import { resolveMessagingConfig, type MessagingOptions } from './messaging.config';
import { MessagingModule } from './messaging.module';

describe('messaging configuration (options, defaults in the library)', () => {
  it('defaults to the in-process transport and no outbox retention', () => {
    expect(resolveMessagingConfig()).toMatchObject({
      eventTransport: 'inprocess',
      redisUrl: undefined,
      outboxRetentionHours: 0,
      redisKeyPrefix: 'modulith',
      relayEnabled: true,
      relayBatchSize: 500,
      callTimeoutMs: 10_000,
      callConcurrency: 64,
      callHeartbeatMs: 1000,
      callHostTtlMs: 3000,
      callStreamMaxLen: 100_000,
      callOverrunGraceMs: 5000,
      callReceiptRetentionHours: 24,
      redisClaimIdleMs: 60_000,
      redisConsumerHeartbeatMs: 1000,
      redisConsumerTtlMs: 10_000,
      redisConsumerName: undefined,
    });
    expect(resolveMessagingConfig({ redisUrl: 'redis://cache:6379' }).eventTransport).toBe('inprocess');
  });

  it('keeps what is given, including false and 0', () => {
    const options: MessagingOptions = { relayEnabled: false, eventTransport: 'redis', redisUrl: 'redis://redis:6379/1', redisKeyPrefix: 'shop', redisStreamMaxLen: 0, outboxRetentionHours: 24 };
    expect(resolveMessagingConfig(options)).toMatchObject(options);
  });

  it('treats an option given as undefined as absent', () => {
    expect(resolveMessagingConfig({ relayBatchSize: undefined, relayEnabled: undefined })).toMatchObject({ relayBatchSize: 500, relayEnabled: true });
  });

  it.each<[MessagingOptions, string, string]>([
    [{ callHeartbeatMs: 1000, callHostTtlMs: 1500 }, 'callHostTtlMs', 'MessagingModule option callHostTtlMs (1500) must be at least twice callHeartbeatMs (1000)'],
    [{ callTimeoutMs: 2.5 }, 'callTimeoutMs', 'MessagingModule option callTimeoutMs must be an integer between 10 and 3600000, got 2.5'],
    [{ callConcurrency: 0 }, 'callConcurrency', 'MessagingModule option callConcurrency must be an integer between 1 and 10000, got 0'],
    [{ eventTransport: 'redis' }, 'redisUrl', 'MessagingModule option redisUrl is required with eventTransport "redis"'],
    [{ eventTransport: 'kafka' as never }, 'eventTransport', 'MessagingModule option eventTransport must be one of inprocess, redis, got "kafka"'],
    [{ eventTransport: 'redis', redisUrl: 'localhost:6379' }, 'redisUrl', 'MessagingModule option redisUrl must start with redis://'],
    [{ redisKeyPrefix: 'a b' }, 'redisKeyPrefix', 'MessagingModule option redisKeyPrefix must be'],
    [{ redisStreamMaxLen: -1 }, 'redisStreamMaxLen', 'MessagingModule option redisStreamMaxLen must be an integer between 0'],
    [{ outboxRetentionHours: 200, inboxRetentionHours: 168 }, 'inboxRetentionHours', 'MessagingModule option inboxRetentionHours (168) must be at least outboxRetentionHours (200)'],
    [{ redisConsumerHeartbeatMs: 1000, redisConsumerTtlMs: 1500 }, 'redisConsumerTtlMs', 'MessagingModule option redisConsumerTtlMs (1500) must be at least twice redisConsumerHeartbeatMs (1000)'],
    [{ redisConsumerName: 'pod 1' }, 'redisConsumerName', 'MessagingModule option redisConsumerName must be 1-128 letters, digits or _.:@-, got "pod 1"'],
    [{ heartbeatIntervalMs: 5000, instanceExpiryMs: 9000 }, 'instanceExpiryMs', 'MessagingModule option instanceExpiryMs (9000) must be at least twice heartbeatIntervalMs (5000)'],
  ])('refuses %p, naming the option', (options, option, message) => {
    expect(() => resolveMessagingConfig(options)).toThrow(ConfigurationError);
    expect(() => resolveMessagingConfig(options)).toThrow(message);
    expect(() => resolveMessagingConfig(options)).toThrow(expect.objectContaining({ context: { owner: 'MessagingModule', option } }));
  });

  it('forRoot refuses a bad option where the app is composed, before anything starts', () => {
    expect(() => MessagingModule.forRoot({ relayBatchSize: 0 })).toThrow('MessagingModule option relayBatchSize must be an integer between 1 and 10000, got 0');
  });

  describe('reads no environment variable', () => {
    const saved = { ...process.env };
    afterEach(() => {
      process.env = { ...saved };
    });

    it('an option given explicitly wins over a variable holding garbage, and unset options keep the library default', () => {
      Object.assign(process.env, { RELAY_BATCH_SIZE: 'garbage', EVENT_TRANSPORT: 'kafka', HANDLER_TIMEOUT_MS: '-1', RELAY_ENABLED: 'maybe' });
      expect(() => MessagingModule.forRoot({ relayBatchSize: 7 })).not.toThrow();
      expect(resolveMessagingConfig({ relayBatchSize: 7 })).toMatchObject({ relayBatchSize: 7, eventTransport: 'inprocess', handlerTimeoutMs: 30_000, relayEnabled: true });
    });
  });
});
