/** Request rate limiting per client, in memory, for one process. */
export interface RateLimitOptions {
  /** Requests per minute and client that refill the bucket; 0 turns limiting off. */
  perMinute: number;
  /** Bucket size: how many requests a client may make at once after being idle. */
  burst: number;
  /** Clients tracked at most; beyond it the least recently seen is forgotten. */
  maxClients: number;
  /** Limited requests: these methods on these path prefixes (a prefix matches itself and `prefix/...`). */
  methods: readonly string[];
  pathPrefixes: readonly string[];
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole requests left in the bucket after this one. */
  remaining: number;
  /** Seconds until the next request would be allowed (0 when allowed). */
  retryAfterSeconds: number;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/**
 * Token buckets keyed by client: each holds up to `burst` tokens, refills at `perMinute` per
 * minute, and a request takes one. The map is bounded: it is kept in least-recently-used order
 * (a touched key moves to the end) and the oldest entry goes when it is full. A forgotten client
 * starts again with a full bucket, which is what an idle one would have anyway.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;

  constructor(
    private readonly options: Pick<RateLimitOptions, 'perMinute' | 'burst' | 'maxClients'>,
    private readonly now: () => number = Date.now,
  ) {
    this.perMs = options.perMinute / 60_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  take(key: string): RateLimitDecision {
    const now = this.now();
    const known = this.buckets.get(key);
    const tokens = known ? Math.min(this.options.burst, known.tokens + (now - known.updatedAt) * this.perMs) : this.options.burst;
    if (known) this.buckets.delete(key);
    else if (this.buckets.size >= this.options.maxClients) this.buckets.delete(this.buckets.keys().next().value as string);
    const allowed = tokens >= 1;
    const left = allowed ? tokens - 1 : tokens;
    this.buckets.set(key, { tokens: left, updatedAt: now });
    return {
      allowed,
      remaining: Math.floor(left),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((1 - left) / this.perMs / 1000)),
    };
  }
}

interface RequestLike {
  method: string;
  url: string;
  ip: string;
}
interface ReplyLike {
  code(status: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(payload: unknown): unknown;
}

/** True when `options` limit this request. */
export function isRateLimited(options: Pick<RateLimitOptions, 'methods' | 'pathPrefixes'>, method: string, url: string): boolean {
  if (!options.methods.includes(method)) return false;
  const path = url.split('?')[0];
  return options.pathPrefixes.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}

/**
 * Fastify `preParsing` hook: a limited request over its client's budget gets 429 with
 * `retry-after` before its body is read. Clients are told apart by `request.ip` (the peer
 * address, or the forwarded one when `trustProxy` is set).
 */
export function rateLimitHook(options: RateLimitOptions, now: () => number = Date.now) {
  const buckets = new TokenBuckets(options, now);
  const limit = String(options.burst);
  return <P>(request: RequestLike, reply: ReplyLike, payload: P, done: (error: null, payload: P) => void): void => {
    if (!isRateLimited(options, request.method, request.url)) return done(null, payload);
    const decision = buckets.take(request.ip);
    reply.header('x-ratelimit-limit', limit).header('x-ratelimit-remaining', String(decision.remaining));
    if (decision.allowed) return done(null, payload);
    reply
      .code(429)
      .header('retry-after', String(decision.retryAfterSeconds))
      .send({
        statusCode: 429,
        error: 'Too Many Requests',
        message: `rate limit: at most ${options.perMinute} write requests per minute per client; retry in ${decision.retryAfterSeconds} s`,
      });
  };
}
