import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { adminTokenHook } from './admin-token.hook';
import { correlationHook } from './correlation.hook';
import { toHttpError } from './http-error';
import { HttpErrorFilter } from './http-error.filter';
import { parseJsonBody } from './json-body.parser';
import { resolveHttpOptions, type HttpAdapterOptions } from './http-options';
import { rateLimitHook } from './rate-limit';
import { DEFAULT_CONTENT_SECURITY_POLICY, securityHeaders, securityHeadersHook, type SecurityHeadersOptions } from './security-headers';

/** Longest path parameter the router matches; a longer one is a 414 naming `path`. */
export const MAX_PARAM_LENGTH = 256;

/**
 * The Fastify adapter every app and e2e test uses. Besides the body limit it bounds how long a
 * request may take to arrive (slow-loris clients get 408), and installs what depends on these
 * options: rate limits on public writes and the security headers. Every option has a default;
 * a bad one throws `ConfigurationError` naming it. Reads no environment variable.
 */
export function createHttpAdapter(given: HttpAdapterOptions = {}): FastifyAdapter {
  const options = resolveHttpOptions(given);
  const adapter = new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    // Node checks request and header timeouts on this interval (30 s by default).
    http: { headersTimeout: options.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, options.headersTimeoutMs) },
    trustProxy: options.trustProxy,
    // JSON with a __proto__ key is refused rather than merged into prototypes.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Let requests in flight finish on shutdown; Node's server.close() still drops idle keep-alive sockets.
    forceCloseConnections: false,
    // Long enough for 128-character ids, so our validation (not a bare 414) answers.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Typed structurally: Fastify's generic reply type does not unify with a plain handler.
    frameworkErrors: frameworkErrorHandler(options.securityHeaders) as never,
  });
  const instance = adapter.getInstance();
  if (options.rateLimit.perMinute > 0) instance.addHook('preParsing', rateLimitHook(options.rateLimit));
  instance.addHook('onSend', securityHeadersHook(options.securityHeaders));
  protectedInstances.add(instance);
  return adapter;
}

const protectedInstances = new WeakSet<object>();

interface BareReply {
  headers(values: Record<string, string>): BareReply;
  code(status: number): BareReply;
  send(payload: unknown): unknown;
}

/**
 * What the router's own errors say instead of Fastify's wording, which echoes the whole path (a
 * path parameter over `maxParamLength` could be kilobytes).
 */
const ROUTER_MESSAGES: Record<string, string> = {
  FST_ERR_BAD_URL: 'path: malformed percent-encoding',
  FST_ERR_MAX_PARAM_LENGTH: `path: a path parameter is longer than ${MAX_PARAM_LENGTH} characters`,
};

/** Our error format for errors the router raises before any route or hook runs (a malformed or overlong path). */
function frameworkErrorHandler(headers: SecurityHeadersOptions) {
  return (error: { code?: string; statusCode?: number }, _request: unknown, reply: BareReply): void => {
    const message = error.code ? ROUTER_MESSAGES[error.code] : undefined;
    const response = message ? { ...toHttpError(error), message, field: 'path' } : toHttpError(error);
    // No hook runs for these, so the security headers are set here.
    reply.headers(securityHeaders(headers)).code(response.statusCode).send(response);
  };
}

/**
 * Installs what every HTTP app shares: correlation ids, the admin token guard, one error format
 * for errors raised by Nest, by Fastify (oversized bodies) and by body parsing, and (when the
 * adapter did not come from `createHttpAdapter`) the default security headers.
 */
export function configureHttpApp(app: INestApplication, options: { adminToken?: string } = {}): void {
  const fastifyApp = app as NestFastifyApplication;
  const instance = fastifyApp.getHttpAdapter().getInstance();
  instance.addHook('onRequest', correlationHook);
  instance.addHook('onRequest', adminTokenHook(options.adminToken));
  // Our own JSON parser, so a malformed body fails as a ValidationError naming the body
  // rather than as Fastify's generic error.
  instance.removeContentTypeParser(['application/json', 'text/plain']);
  instance.addContentTypeParser('application/json', { parseAs: 'string' }, parseJsonBody);
  if (!protectedInstances.has(instance)) {
    instance.addHook('onSend', securityHeadersHook({ hstsMaxAgeSeconds: 0, contentSecurityPolicy: DEFAULT_CONTENT_SECURITY_POLICY }));
  }
  app.useGlobalFilters(new HttpErrorFilter());
}
