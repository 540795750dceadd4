import { ConfigurationError } from '@modulith/core';
import { resolveDatabaseOptions } from '@modulith/database';
import { resolveHttpOptions } from '@modulith/http';
import { MessagingModule, resolveMessagingConfig } from '@modulith/messaging';
import { appConfigFromEnv } from './app.config';
import { namingVariable } from './platform-options';

describe('MODULES', () => {
  it('runs every module when unset, the named ones when set, and none with "none"', () => {
    expect(appConfigFromEnv({}).modules).toBeUndefined();
    expect(appConfigFromEnv({ MODULES: 'ingestion, ledger' }).modules).toEqual(['ingestion', 'ledger']);
    expect(appConfigFromEnv({ MODULES: 'none' }).modules).toEqual([]);
  });

  it('refuses "none" beside module names, naming the variable', () => {
    expect(() => appConfigFromEnv({ MODULES: 'none,ledger' })).toThrow(ConfigurationError);
    expect(() => appConfigFromEnv({ MODULES: 'none,ledger' })).toThrow(/^MODULES=none names no module/);
  });

  it('refuses a list of nothing but commas (a template with its names left empty) instead of hosting no module unasked', () => {
    for (const value of [',', ' , ,']) {
      expect(() => appConfigFromEnv({ MODULES: value })).toThrow(ConfigurationError);
      expect(() => appConfigFromEnv({ MODULES: value })).toThrow(/^MODULES names no module/);
    }
  });
});

describe('environment variables mapped to the libraries’ options', () => {
  it.each(['0', 'no', 'off', 'false', 'FALSE'])('MIGRATE_ON_START=%s means false, like every other boolean', (value) => {
    expect(appConfigFromEnv({ MIGRATE_ON_START: value }).database.migrateOnStart).toBe(false);
    expect(appConfigFromEnv({ RELAY_ENABLED: value }).messaging.relayEnabled).toBe(false);
  });

  it('gives a library only the variables that are set, so its own defaults apply to the rest', () => {
    const { messaging, http, notifications, observability } = appConfigFromEnv({ RELAY_BATCH_SIZE: '7', HTTP_TRUST_PROXY: '2', NOTIFY_QUEUE_SIZE: '5', READY_TIMEOUT_MS: '300' });
    expect(messaging).toMatchObject({ relayBatchSize: 7, relayConcurrency: undefined, eventTransport: undefined });
    expect(resolveMessagingConfig(messaging)).toMatchObject({ relayBatchSize: 7, relayConcurrency: 1, eventTransport: 'inprocess' });
    expect(http.trustProxy).toBe(2);
    expect(notifications).toMatchObject({ queueSize: 5, maxSubscriptions: undefined });
    expect(observability.readiness.timeoutMs).toBe(300);
  });

  it('maps a variable to every messaging option but those the app derives from its code', () => {
    const fromCode = ['declaredDurableModules', 'declaredDurableSubscribers', 'registerInstance', 'consumeEvents'];
    const { messaging } = appConfigFromEnv({});
    expect(Object.keys(messaging).sort()).toEqual(Object.keys(resolveMessagingConfig()).filter((key) => !fromCode.includes(key)).sort());
  });

  it('refuses a malformed variable by its name, before any library sees it', () => {
    expect(() => appConfigFromEnv({ RELAY_BATCH_SIZE: 'garbage' })).toThrow('RELAY_BATCH_SIZE must be an integer, got "garbage"');
    expect(() => appConfigFromEnv({ EVENT_TRANSPORT: 'kafka' })).toThrow('EVENT_TRANSPORT must be one of inprocess, redis, got "kafka"');
  });

  it('names the variable behind an option a library refuses', () => {
    const { messaging } = appConfigFromEnv({ RELAY_BATCH_SIZE: '0' });
    const refusal = catching(() => MessagingModule.forRoot(messaging));
    expect(namingVariable(refusal)).toMatchObject({
      message: 'RELAY_BATCH_SIZE: MessagingModule option relayBatchSize must be an integer between 1 and 10000, got 0',
      context: { variable: 'RELAY_BATCH_SIZE', option: 'relayBatchSize' },
    });
    const http = catching(() => resolveHttpOptions(appConfigFromEnv({ RATE_LIMIT_WRITES_BURST: '0' }).http));
    expect((namingVariable(http) as Error).message).toMatch(/^RATE_LIMIT_WRITES_BURST: createHttpAdapter option rateLimit.burst must be/);
    const database = catching(() => resolveDatabaseOptions(appConfigFromEnv({ DB_POOL_SIZE: '0' }).database));
    expect((namingVariable(database) as Error).message).toBe('DB_POOL_SIZE: DatabaseModule option poolSize must be an integer between 1 and 1000, got 0');
    const other = new Error('not about an option');
    expect(namingVariable(other)).toBe(other);
  });
});

function catching(attempt: () => unknown): unknown {
  try {
    attempt();
  } catch (error) {
    return error;
  }
  throw new Error('expected a refusal');
}
