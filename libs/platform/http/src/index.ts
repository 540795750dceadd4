/**
 * @modulith/http — what every HTTP-facing module and app shares: one error format, correlation
 * ids, Fastify set-up (timeouts, rate limits on public writes, security headers, the admin token
 * guard) and small readers for validating request bodies by hand.
 */
export { configureHttpApp, createHttpAdapter } from './configure-http';
export { resolveHttpOptions } from './http-options';
export type { HttpOptions, HttpAdapterOptions } from './http-options';
export { toHttpError } from './http-error';
export type { HttpErrorBody } from './http-error';
export { HttpErrorFilter } from './http-error.filter';
export { CORRELATION_HEADER } from './correlation.hook';
export { ADMIN_PREFIX } from './admin-token.hook';
export { TokenBuckets, isRateLimited, rateLimitHook } from './rate-limit';
export type { RateLimitOptions, RateLimitDecision } from './rate-limit';
export { DEFAULT_CONTENT_SECURITY_POLICY, securityHeaders } from './security-headers';
export type { SecurityHeadersOptions } from './security-headers';
export { readObject, readArray, readString, readIntParam, readBigintCursor, BIGINT_CURSOR_SCHEMA, MAX_BIGINT_CURSOR, fieldPath } from './request-reader';
export { readInstant } from './instant-reader';
export type { InstantOptions } from './instant-reader';
export type { JsonObject } from './request-reader';
