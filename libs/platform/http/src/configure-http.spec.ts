import { ConfigurationError } from '@modulith/core';
import { httpOptionsFromEnv } from './configure-http';

describe('httpOptionsFromEnv', () => {
  it('defaults: 16 MiB bodies, bounded request time, no rate limit, no HSTS, no proxy trusted', () => {
    const options = httpOptionsFromEnv({});
    expect(options).toMatchObject({ bodyLimitBytes: 16 * 1024 * 1024, requestTimeoutMs: 60_000, headersTimeoutMs: 10_000, trustProxy: false });
    expect(options.rateLimit).toMatchObject({ perMinute: 0, maxClients: 10_000, pathPrefixes: ['/transfers'] });
    expect(options.securityHeaders.hstsMaxAgeSeconds).toBe(0);
  });

  it('reads the rate limit, its burst (a minute’s worth by default) and HSTS', () => {
    expect(httpOptionsFromEnv({ RATE_LIMIT_WRITES_PER_MINUTE: '120' }).rateLimit).toMatchObject({ perMinute: 120, burst: 120 });
    expect(httpOptionsFromEnv({ RATE_LIMIT_WRITES_PER_MINUTE: '120', RATE_LIMIT_WRITES_BURST: '10' }).rateLimit.burst).toBe(10);
    expect(httpOptionsFromEnv({ HTTP_HSTS_MAX_AGE_SECONDS: '600' }).securityHeaders.hstsMaxAgeSeconds).toBe(600);
  });

  it('keeps the headers timeout within the request timeout', () => {
    expect(httpOptionsFromEnv({ HTTP_REQUEST_TIMEOUT_MS: '2000' }).headersTimeoutMs).toBe(2000);
  });

  it('parses HTTP_TRUST_PROXY and refuses nonsense by name', () => {
    expect(httpOptionsFromEnv({ HTTP_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(httpOptionsFromEnv({ HTTP_TRUST_PROXY: '1' }).trustProxy).toBe(1);
    expect(httpOptionsFromEnv({ HTTP_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' }).trustProxy).toBe('10.0.0.0/8, 127.0.0.1');
    expect(() => httpOptionsFromEnv({ HTTP_TRUST_PROXY: 'everyone' })).toThrow(ConfigurationError);
    expect(() => httpOptionsFromEnv({ RATE_LIMIT_WRITES_PER_MINUTE: '-5' })).toThrow(/RATE_LIMIT_WRITES_PER_MINUTE/);
  });
});
