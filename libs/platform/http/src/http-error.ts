import { HttpException } from '@nestjs/common';
import { ModulithError, ValidationError } from '@modulith/core';

/** The JSON body of every error response: a status, a short name, a message naming the field. */
export interface HttpErrorBody {
  statusCode: number;
  error: string;
  message: string;
  code?: string;
  field?: string;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
};

/** Fastify's own request errors, reworded so that they name what was wrong. */
const FASTIFY_MESSAGES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'body: malformed JSON',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'body: must not be empty',
  FST_ERR_CTP_BODY_TOO_LARGE: 'body: larger than the allowed size',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'content-type: unsupported media type, send application/json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'content-length: does not match the body',
};

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EAI_AGAIN']);
const CONNECTION_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|Connection ended|terminating connection|Client was closed|timeout exceeded when trying to connect|Query runner already released|Database connection provided by a query runner was already released|the database system is)/i;

/**
 * True when the database could not be reached or dropped the connection (server down or
 * restarting, connection terminated, out of connections): the request may succeed if retried.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const candidate = error as { code?: unknown; driverError?: { code?: unknown }; message?: unknown; errors?: unknown[]; cause?: unknown; name?: unknown } | undefined;
  if (Array.isArray(candidate?.errors) && candidate.errors.length > 0 && candidate.errors.every(isDatabaseUnavailable)) return true;
  // TypeORM refuses further queries on a runner whose connection the outage already took away.
  if (candidate?.name === 'QueryRunnerAlreadyReleasedError' || candidate?.name === 'QueryRunnerProviderAlreadyReleasedError') return true;
  if (candidate?.cause !== undefined && candidate.cause !== error && isDatabaseUnavailable(candidate.cause)) return true;
  const code = String(candidate?.code ?? candidate?.driverError?.code ?? '');
  // SQLSTATE 08 connection exception, 53300 too many connections, 57P01-03 shutdown/crash/starting.
  if (CONNECTION_CODES.has(code) || /^(08...|53300|57P0[123])$/.test(code)) return true;
  return typeof candidate?.message === 'string' && CONNECTION_MESSAGES.test(candidate.message);
}

function body(statusCode: number, message: string, extra: Partial<HttpErrorBody> = {}): HttpErrorBody {
  return { statusCode, error: STATUS_NAMES[statusCode] ?? 'Error', message, ...extra };
}

/**
 * Maps any thrown value to a status and a safe body. Client errors keep their message; a lost
 * database is a 503 (retry); anything else unexpected becomes a 500 whose body says nothing
 * about internals (the caller logs the cause).
 */
export function toHttpError(error: unknown): HttpErrorBody {
  if (error instanceof ModulithError && STATUS_BY_CODE[error.code]) {
    const field = error instanceof ValidationError ? error.field : undefined;
    return body(STATUS_BY_CODE[error.code], error.message, { code: error.code, ...(field ? { field } : {}) });
  }
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const response = error.getResponse();
    const message =
      typeof response === 'string'
        ? response
        : Array.isArray((response as { message?: unknown }).message)
          ? ((response as { message: string[] }).message).join('; ')
          : String((response as { message?: unknown }).message ?? error.message);
    if (status >= 500) return body(500, 'Internal server error');
    if (status === 413) return body(413, 'body: larger than the allowed size');
    if (status === 415) return body(415, 'content-type: must be application/json');
    return body(status, message);
  }
  const fastifyError = error as { code?: string; statusCode?: number; message?: string } | undefined;
  if (fastifyError?.code && FASTIFY_MESSAGES[fastifyError.code]) {
    return body(fastifyError.statusCode ?? 400, FASTIFY_MESSAGES[fastifyError.code]);
  }
  if (error instanceof SyntaxError || fastifyError?.code?.startsWith('FST_ERR_CTP_')) {
    return body(fastifyError?.statusCode && fastifyError.statusCode < 500 ? fastifyError.statusCode : 400, 'body: malformed JSON');
  }
  if (fastifyError?.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return body(fastifyError.statusCode, fastifyError.message ?? STATUS_NAMES[fastifyError.statusCode] ?? 'Bad request');
  }
  if (isDatabaseUnavailable(error)) return body(503, 'database: temporarily unavailable, retry shortly');
  return body(500, 'Internal server error');
}
