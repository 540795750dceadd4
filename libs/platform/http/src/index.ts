/**
 * @modulith/http — what every HTTP-facing module and app shares: one error format, correlation
 * ids, Fastify set-up and small readers for validating request bodies by hand.
 */
export { configureHttpApp, createHttpAdapter, httpOptionsFromEnv } from './configure-http';
export type { HttpOptions } from './configure-http';
export { toHttpError } from './http-error';
export type { HttpErrorBody } from './http-error';
export { HttpErrorFilter } from './http-error.filter';
export { CORRELATION_HEADER } from './correlation.hook';
export { readObject, readArray, readString, readIntParam, fieldPath } from './request-reader';
export type { JsonObject } from './request-reader';
