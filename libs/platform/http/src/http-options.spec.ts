import { ConfigurationError } from '@modulith/core';
import { resolveHttpOptions } from './http-options';

describe('resolveHttpOptions', () => {
  it('defaults: 16 MiB bodies, bounded request time, no rate limit, no HSTS, no proxy trusted', () => {
    const options = resolveHttpOptions();
    expect(options).toMatchObject({ bodyLimitBytes: 16 * 1024 * 1024, requestTimeoutMs: 60_000, headersTimeoutMs: 10_000, trustProxy: false });
    expect(options.rateLimit).toMatchObject({ perMinute: 0, burst: 1, maxClients: 10_000, pathPrefixes: ['/transfers'] });
    expect(options.securityHeaders.hstsMaxAgeSeconds).toBe(0);
  });

  it('takes the rate limit, its burst (a minute’s worth by default) and HSTS', () => {
    expect(resolveHttpOptions({ rateLimit: { perMinute: 120 } }).rateLimit).toMatchObject({ perMinute: 120, burst: 120 });
    expect(resolveHttpOptions({ rateLimit: { perMinute: 120, burst: 10 } }).rateLimit.burst).toBe(10);
    expect(resolveHttpOptions({ securityHeaders: { hstsMaxAgeSeconds: 600 } }).securityHeaders.hstsMaxAgeSeconds).toBe(600);
  });

  it('keeps the headers timeout within the request timeout, and is unchanged by resolving twice', () => {
    expect(resolveHttpOptions({ requestTimeoutMs: 2000 }).headersTimeoutMs).toBe(2000);
    const resolved = resolveHttpOptions({ trustProxy: 2, rateLimit: { perMinute: 6 } });
    expect(resolveHttpOptions(resolved)).toEqual(resolved);
  });

  it.each([
    [{ trustProxy: 'everyone' }, 'trustProxy', 'createHttpAdapter option trustProxy must be true, false, a hop count or a list of addresses, got "everyone"'],
    [{ rateLimit: { perMinute: -5 } }, 'rateLimit.perMinute', 'createHttpAdapter option rateLimit.perMinute must be an integer between 0'],
    [{ bodyLimitBytes: 10 }, 'bodyLimitBytes', 'createHttpAdapter option bodyLimitBytes must be an integer between 1024'],
  ])('refuses %p, naming the option', (options, option, message) => {
    expect(() => resolveHttpOptions(options)).toThrow(ConfigurationError);
    expect(() => resolveHttpOptions(options)).toThrow(message);
    expect(() => resolveHttpOptions(options)).toThrow(expect.objectContaining({ context: { owner: 'createHttpAdapter', option } }));
  });
});
