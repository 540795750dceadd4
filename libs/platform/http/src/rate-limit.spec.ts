import { isRateLimited, rateLimitHook, TokenBuckets } from './rate-limit';

describe('TokenBuckets', () => {
  let now = 0;
  const clock = () => now;
  beforeEach(() => (now = 1_000_000));

  it('given a full bucket, when a client spends it, then the next request waits for one token', () => {
    const buckets = new TokenBuckets({ perMinute: 60, burst: 3, maxClients: 10 }, clock);
    expect([1, 2, 3].map(() => buckets.take('a').allowed)).toEqual([true, true, true]);
    expect(buckets.take('a')).toEqual({ allowed: false, remaining: 0, retryAfterSeconds: 1 });
    now += 999;
    expect(buckets.take('a').allowed).toBe(false);
    now += 1;
    expect(buckets.take('a')).toEqual({ allowed: true, remaining: 0, retryAfterSeconds: 0 });
  });

  it('refills at the configured rate up to the burst, never beyond', () => {
    const buckets = new TokenBuckets({ perMinute: 6, burst: 2, maxClients: 10 }, clock);
    buckets.take('a');
    buckets.take('a');
    expect(buckets.take('a').retryAfterSeconds).toBe(10);
    now += 3_600_000;
    expect(buckets.take('a').remaining).toBe(1);
  });

  it('keeps clients apart', () => {
    const buckets = new TokenBuckets({ perMinute: 1, burst: 1, maxClients: 10 }, clock);
    expect(buckets.take('a').allowed).toBe(true);
    expect(buckets.take('a').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true);
  });

  it('is bounded: beyond maxClients the least recently seen client is forgotten', () => {
    const buckets = new TokenBuckets({ perMinute: 1, burst: 1, maxClients: 3 }, clock);
    for (const key of ['a', 'b', 'c']) buckets.take(key);
    buckets.take('a'); // a is now the most recently seen
    buckets.take('d'); // evicts b
    expect(buckets.size).toBe(3);
    expect(buckets.take('a').allowed).toBe(false);
    expect(buckets.take('b').allowed).toBe(true); // forgotten, so a fresh bucket
    for (let i = 0; i < 100_000; i++) buckets.take(`flood-${i}`);
    expect(buckets.size).toBe(3);
  });
});

describe('rateLimitHook', () => {
  const options = { perMinute: 2, burst: 2, maxClients: 100, methods: ['POST'], pathPrefixes: ['/transfers'] };

  it('limits only the configured methods and paths', () => {
    expect(isRateLimited(options, 'POST', '/transfers')).toBe(true);
    expect(isRateLimited(options, 'POST', '/transfers/batch?x=1')).toBe(true);
    expect(isRateLimited(options, 'GET', '/transfers/t-1')).toBe(false);
    expect(isRateLimited(options, 'POST', '/transfersx')).toBe(false);
    expect(isRateLimited(options, 'POST', '/admin/dead-letters/replay')).toBe(false);
  });

  it('answers 429 with retry-after once a client is over its budget, without reading the body', () => {
    const hook = rateLimitHook(options, () => 0);
    const replies: { status?: number; headers: Record<string, string>; body?: unknown; passed: boolean }[] = [];
    for (let i = 0; i < 3; i++) {
      const reply = { status: undefined as number | undefined, headers: {} as Record<string, string>, body: undefined as unknown, passed: false };
      const fake = {
        code: (status: number) => ((reply.status = status), fake),
        header: (name: string, value: string) => ((reply.headers[name] = value), fake),
        send: (body: unknown) => (reply.body = body),
      };
      hook({ method: 'POST', url: '/transfers', ip: '10.0.0.1' }, fake, 'payload', () => (reply.passed = true));
      replies.push(reply);
    }
    expect(replies.map((reply) => reply.passed)).toEqual([true, true, false]);
    expect(replies[2]).toMatchObject({ status: 429, headers: { 'retry-after': '30', 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0' } });
    expect(replies[2].body).toMatchObject({ statusCode: 429, message: expect.stringContaining('rate limit') });
  });
});
