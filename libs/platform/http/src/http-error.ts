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
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
};

/**
 * A remote command or query that could not be answered in time, or by a live replica: the same
 * request may succeed later. The body names the module, never a replica or an internal detail.
 */
const CALL_FAILURES: Record<string, { status: number; message: (module: string) => string }> = {
  MODULE_NOT_HOSTED: { status: 503, message: (module) => `${module}: not running right now, retry later` },
  REPLICA_LOST: { status: 503, message: (module) => `${module}: the instance serving the request stopped; its outcome is unknown, check before retrying` },
  CALL_TRANSPORT_UNAVAILABLE: { status: 503, message: (module) => `${module}: unreachable right now, retry shortly` },
  CALL_DEADLINE_EXCEEDED: { status: 504, message: (module) => `${module}: no answer in time, retry shortly` },
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
  /^(Connection terminated|Client has encountered a connection error|Connection ended|terminating connection|Client was closed|Query runner already released|Database connection provided by a query runner was already released|the database system is)/i;

/**
 * Why the database could not serve a request just now. Each is a 503 with `retry-after`: the
 * same request may succeed once the connection, lock or pool frees up.
 * - `connection-lost`: unreachable, restarting, or the connection was dropped (SQLSTATE 08xxx,
 *   57P01-03, 53300, 25P03 idle-in-transaction timeout, socket errors)
 * - `pool-exhausted`: no pooled connection came free within `DB_POOL_ACQUIRE_TIMEOUT_MS`
 * - `lock-timeout`: another transaction held a lock past `DB_LOCK_TIMEOUT_MS` (55P03)
 * - `statement-timeout`: a statement ran past `DB_STATEMENT_TIMEOUT_MS`, or was cancelled (57014)
 * - `query-timeout`: the server sent no answer within `DB_QUERY_TIMEOUT_MS`
 */
export type DatabaseUnavailableReason = 'connection-lost' | 'pool-exhausted' | 'lock-timeout' | 'statement-timeout' | 'query-timeout';

const UNAVAILABLE_MESSAGES: Record<DatabaseUnavailableReason, string> = {
  'connection-lost': 'database: temporarily unavailable, retry shortly',
  'pool-exhausted': 'database: every connection is busy, retry shortly',
  'lock-timeout': 'database: the data is locked by another transaction, retry shortly',
  'statement-timeout': 'database: the query took too long, retry shortly',
  'query-timeout': 'database: no answer in time, retry shortly',
};

type ErrorLike = { code?: unknown; driverError?: { code?: unknown }; message?: unknown; errors?: unknown[]; cause?: unknown; name?: unknown } | undefined;

/** The reason `error` is a passing database condition worth retrying, or undefined when it is not one. */
export function databaseUnavailableReason(error: unknown): DatabaseUnavailableReason | undefined {
  const candidate = error as ErrorLike;
  if (Array.isArray(candidate?.errors) && candidate.errors.length > 0) {
    const reasons = candidate.errors.map(databaseUnavailableReason);
    if (reasons.every((reason) => reason !== undefined)) return reasons[0];
  }
  // TypeORM refuses further queries on a runner whose connection the outage already took away.
  if (candidate?.name === 'QueryRunnerAlreadyReleasedError' || candidate?.name === 'QueryRunnerProviderAlreadyReleasedError') return 'connection-lost';
  if (candidate?.cause !== undefined && candidate.cause !== error) {
    const cause = databaseUnavailableReason(candidate.cause);
    if (cause) return cause;
  }
  const code = String(candidate?.code ?? candidate?.driverError?.code ?? '');
  if (code === '55P03') return 'lock-timeout';
  if (code === '57014') return 'statement-timeout';
  // SQLSTATE 08 connection exception, 53300 too many connections, 57P01-03 shutdown/crash/starting,
  // 25P03 the server ended a session idle in a transaction.
  if (CONNECTION_CODES.has(code) || /^(08...|53300|57P0[123]|25P03)$/.test(code)) return 'connection-lost';
  const message = typeof candidate?.message === 'string' ? candidate.message : '';
  // pg-pool's words when no connection came free within connectionTimeoutMillis.
  if (/^timeout exceeded when trying to connect/i.test(message)) return 'pool-exhausted';
  if (message === 'Query read timeout') return 'query-timeout';
  return CONNECTION_MESSAGES.test(message) ? 'connection-lost' : undefined;
}

/**
 * True when the database could not be reached, dropped the connection, or could not serve the
 * request in time (see `DatabaseUnavailableReason`): the request may succeed if retried.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return databaseUnavailableReason(error) !== undefined;
}

function body(statusCode: number, message: string, extra: Partial<HttpErrorBody> = {}): HttpErrorBody {
  return { statusCode, error: STATUS_NAMES[statusCode] ?? 'Error', message, ...extra };
}

/**
 * Maps any thrown value to a status and a safe body. Client errors keep their message; a lost,
 * busy or locked database is a 503 (retry); anything else unexpected becomes a 500 whose body says nothing
 * about internals (the caller logs the cause).
 */
export function toHttpError(error: unknown): HttpErrorBody {
  if (error instanceof ModulithError && STATUS_BY_CODE[error.code]) {
    const field = error instanceof ValidationError ? error.field : undefined;
    return body(STATUS_BY_CODE[error.code], error.message, { code: error.code, ...(field ? { field } : {}) });
  }
  const callFailure = error instanceof ModulithError ? CALL_FAILURES[error.code] : undefined;
  if (callFailure) {
    const module = String((error as ModulithError).context['module'] ?? 'module');
    return body(callFailure.status, callFailure.message(module), { code: (error as ModulithError).code });
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
  const unavailable = databaseUnavailableReason(error);
  if (unavailable) return body(503, UNAVAILABLE_MESSAGES[unavailable]);
  return body(500, 'Internal server error');
}
