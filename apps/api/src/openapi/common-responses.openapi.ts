import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Responses = Operation['responses'];

/** Which operations the write rate limit covers (see `RateLimitOptions` of @modulith/http). */
export type RateLimitedOperation = (method: string, path: string) => boolean;

const ERROR = { 'application/json': { schema: { $ref: '#/components/schemas/HttpError' } } };
const integer = (description: string) => ({ description, schema: { type: 'integer' as const, minimum: 0 } });
const RETRY_AFTER = { 'retry-after': integer('Seconds to wait before trying again') };
const RATE_LIMIT = {
  'x-ratelimit-limit': integer("The client's bucket size (RATE_LIMIT_WRITES_BURST); sent when RATE_LIMIT_WRITES_PER_MINUTE is set"),
  'x-ratelimit-remaining': integer('Requests left in the bucket after this one'),
};

const ANY_OPERATION: Responses = {
  '408': { description: 'The request did not arrive within HTTP_HEADERS_TIMEOUT_MS (headers) or HTTP_REQUEST_TIMEOUT_MS (whole request); the connection is closed', content: ERROR },
  '500': { description: 'Unexpected failure; the body names no internals (the log has the cause, under the correlation id)', content: ERROR },
  '503': {
    description: 'The database is unreachable, busy or locked (with `retry-after`), or this process is shutting down: retry, here or elsewhere',
    headers: RETRY_AFTER,
    content: ERROR,
  },
};
const WITH_BODY: Responses = {
  '413': { description: 'Body larger than HTTP_BODY_LIMIT_BYTES', content: ERROR },
  '415': { description: 'A body that is not `application/json`', content: ERROR },
};
const WITH_PATH_PARAMETER: Responses = {
  '414': { description: 'A path parameter longer than 256 characters (the router\'s maxParamLength); the body names `path`, not the value', content: ERROR },
};
const RATE_LIMITED: Responses = {
  '429': {
    description: 'Over the write rate limit (RATE_LIMIT_WRITES_PER_MINUTE per client address); nothing was read or stored',
    headers: { ...RETRY_AFTER, ...RATE_LIMIT },
    content: ERROR,
  },
};

/**
 * Documents the answers every operation can give whatever its controller says: the request
 * timeouts, unexpected failures, an unavailable database or a closing server; for operations
 * that take a body, its size and media type; for those with a path parameter, 414 for one past
 * the router's length limit; for rate-limited ones, 429 with `retry-after` and
 * the limit headers on every answer. What an operation already documents is kept.
 */
export function documentCommonResponses(document: OpenAPIObject, rateLimited: RateLimitedOperation): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of ['get', 'post', 'put', 'patch', 'delete'] as const) {
      const operation = item[method];
      if (!operation) continue;
      const fastifyPath = path.replace(/\{(\w+)\}/g, ':$1');
      const limited = rateLimited(method.toUpperCase(), fastifyPath);
      const responses = {
        ...ANY_OPERATION,
        ...(method === 'get' || method === 'delete' ? {} : WITH_BODY),
        ...(fastifyPath.includes(':') ? WITH_PATH_PARAMETER : {}),
        ...(limited ? RATE_LIMITED : {}),
        ...operation.responses,
      };
      operation.responses = Object.fromEntries(Object.entries(responses).sort(([a], [b]) => a.localeCompare(b)));
      if (!limited) continue;
      for (const [status, response] of Object.entries(operation.responses)) {
        if (/^2/.test(status) && response && 'description' in response) response.headers = { ...RATE_LIMIT, ...response.headers };
      }
    }
  }
}
