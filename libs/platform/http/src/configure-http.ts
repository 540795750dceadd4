import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { envInt } from '@modulith/core';
import { adminTokenHook } from './admin-token.hook';
import { correlationHook } from './correlation.hook';
import { HttpErrorFilter } from './http-error.filter';
import { parseJsonBody } from './json-body.parser';

export interface HttpOptions {
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
}

export function httpOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): HttpOptions {
  return { bodyLimitBytes: envInt(env, 'HTTP_BODY_LIMIT_BYTES', 16 * 1024 * 1024, 1024) };
}

/** The Fastify adapter every app and e2e test uses. */
export function createHttpAdapter(options: HttpOptions = httpOptionsFromEnv()): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: options.bodyLimitBytes,
    // JSON with a __proto__ key is refused rather than merged into prototypes.
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    return503OnClosing: true,
    // Let requests in flight finish on shutdown; Node's server.close() still drops idle keep-alive sockets.
    forceCloseConnections: false,
    // Long enough for 128-character ids, so our validation (not a bare 414) answers.
    routerOptions: { maxParamLength: 256 },
  });
}

/**
 * Installs what every HTTP app shares: correlation ids, one error format for errors raised
 * by Nest, by Fastify (oversized bodies) and by body parsing, and basic security headers.
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
  instance.addHook('onSend', (_request, reply, payload, done) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
    done(null, payload);
  });
  app.useGlobalFilters(new HttpErrorFilter());
}
