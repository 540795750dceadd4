import { ConfigurationError } from '@modulith/core';
import { verifyPlanFromEnv } from './verify-plan';

describe('verify plan', () => {
  it('by default loads the modules the check reads, on the in-process transport', () => {
    expect(verifyPlanFromEnv({})).toEqual({ queries: 'local', modules: ['ingestion', 'ledger', 'analytics'], eventTransport: 'inprocess', drainTimeoutMs: 120_000 });
  });

  it('with VERIFY_QUERIES=remote hosts no module and queries over Redis', () => {
    expect(verifyPlanFromEnv({ VERIFY_QUERIES: 'remote', EVENT_TRANSPORT: 'redis', VERIFY_TIMEOUT_MS: '5000' })).toEqual({
      queries: 'remote',
      modules: [],
      eventTransport: 'redis',
      drainTimeoutMs: 5000,
    });
  });

  it('refuses VERIFY_QUERIES=remote without EVENT_TRANSPORT=redis, naming the fix', () => {
    expect(() => verifyPlanFromEnv({ VERIFY_QUERIES: 'remote' })).toThrow(ConfigurationError);
    expect(() => verifyPlanFromEnv({ VERIFY_QUERIES: 'remote' })).toThrow(/EVENT_TRANSPORT=redis.*VERIFY_QUERIES=local/);
    expect(() => verifyPlanFromEnv({ VERIFY_QUERIES: 'elsewhere' })).toThrow(/VERIFY_QUERIES must be one of local, remote/);
  });
});
