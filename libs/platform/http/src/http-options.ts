import { optionError, resolveIntOptions } from '@modulith/core';
import type { RateLimitOptions } from './rate-limit';
import { DEFAULT_CONTENT_SECURITY_POLICY, type SecurityHeadersOptions } from './security-headers';

const OWNER = 'createHttpAdapter';

/** How the HTTP adapter behaves, resolved (every field set; see `HttpAdapterOptions` for what an app gives). */
export interface HttpOptions {
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Longest a request may take to arrive, headers and body, in ms; slower ones get 408. 0: no limit. */
  requestTimeoutMs: number;
  /** Longest the request headers may take to arrive, in ms (at most `requestTimeoutMs`). */
  headersTimeoutMs: number;
  /** Fastify's `trustProxy`: whose `x-forwarded-for` names the client (rate limits key on it). */
  trustProxy: boolean | number | string;
  /** Limits on public write endpoints (`POST /transfers...`) per client address. */
  rateLimit: RateLimitOptions;
  securityHeaders: SecurityHeadersOptions;
}

/**
 * What an app passes to `createHttpAdapter`: any field of `HttpOptions`, each defaulted here when
 * absent (16 MiB bodies, 60 s to arrive, 10 s for headers, no proxy trusted, no rate limit, no
 * HSTS, the same-origin content security policy).
 */
export interface HttpAdapterOptions {
  bodyLimitBytes?: number;
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** `true`, `false`, a hop count, or a comma-separated list of proxy addresses/CIDRs. */
  trustProxy?: boolean | number | string;
  /** `burst` defaults to a minute's worth (`perMinute`, at least 1). */
  rateLimit?: Partial<RateLimitOptions>;
  securityHeaders?: Partial<SecurityHeadersOptions>;
}

const INT_RULES = {
  bodyLimitBytes: { default: 16 * 1024 * 1024, min: 1024, max: Number.MAX_SAFE_INTEGER },
  requestTimeoutMs: { default: 60_000, min: 0, max: 3_600_000 },
  headersTimeoutMs: { default: 10_000, min: 100, max: 3_600_000 },
};

/**
 * The complete HTTP options: defaults for what is absent, each given value checked. Throws
 * `ConfigurationError` naming the option (`context.option`, e.g. `rateLimit.perMinute`).
 */
export function resolveHttpOptions(options: HttpAdapterOptions = {}): HttpOptions {
  const { bodyLimitBytes, requestTimeoutMs, headersTimeoutMs } = resolveIntOptions(OWNER, INT_RULES, options);
  const limits = resolveIntOptions(OWNER, { perMinute: { default: 0, min: 0, max: 100_000_000 }, maxClients: { default: 10_000, min: 1, max: 10_000_000 } }, options.rateLimit ?? {}, 'rateLimit.');
  const { burst } = resolveIntOptions(OWNER, { burst: { default: Math.max(1, limits.perMinute), min: 1, max: 100_000_000 } }, options.rateLimit ?? {}, 'rateLimit.');
  const { hstsMaxAgeSeconds } = resolveIntOptions(OWNER, { hstsMaxAgeSeconds: { default: 0, min: 0, max: 100_000_000 } }, options.securityHeaders ?? {}, 'securityHeaders.');
  return {
    bodyLimitBytes,
    requestTimeoutMs,
    headersTimeoutMs: Math.min(requestTimeoutMs || Infinity, headersTimeoutMs),
    trustProxy: checkTrustProxy(options.trustProxy ?? false),
    rateLimit: { methods: ['POST', 'PUT', 'PATCH', 'DELETE'], pathPrefixes: ['/transfers'], ...options.rateLimit, ...limits, burst },
    securityHeaders: { contentSecurityPolicy: options.securityHeaders?.contentSecurityPolicy ?? DEFAULT_CONTENT_SECURITY_POLICY, hstsMaxAgeSeconds },
  };
}

function checkTrustProxy(value: boolean | number | string): boolean | number | string {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^[0-9a-fA-F.:/,\s]+$/.test(value)) return value;
  throw optionError(OWNER, 'trustProxy', `must be true, false, a hop count or a list of addresses, got "${String(value)}"`);
}
