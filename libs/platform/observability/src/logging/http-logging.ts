import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { Logger } from 'pino';

// Probes, scrapes, the console's polling and static assets: logged at debug, not info.
const QUIET_PATHS = /^\/(health|ready|metrics|ops\/state|console\.(js|css)|docs\/.+)(\?|$)/;

/**
 * nestjs-pino settings for a logger made by `createRootLogger`: one line per request with
 * method, URL, status, duration and (through the mixin) the correlation id; `requestId` tells
 * apart the requests of one correlation. Bodies and headers are never logged; `scrub` masks
 * secrets in the URL.
 */
export function httpLoggingParams(logger: Logger, scrub: (text: string) => string = (text) => text): Params {
  return {
    pinoHttp: {
      logger,
      quietReqLogger: true,
      customAttributeKeys: { reqId: 'requestId', responseTime: 'durationMs' },
      serializers: {
        // A client may put a secret in the URL; the request line goes through pino-http's own
        // bindings, not the root logger's formatters, so the URL is scrubbed here.
        req: (request: { method?: string; url?: string }) => ({ method: request.method, url: request.url === undefined ? undefined : scrub(request.url) }),
        res: (response: { statusCode?: number }) => ({ statusCode: response.statusCode }),
      },
      customLogLevel: (request: IncomingMessage, response: ServerResponse, error?: Error) => {
        // 503 is what a client is told to retry on (shutting down, database away): worth a warning.
        if (response.statusCode === 503 && !error) return 'warn';
        if (error || response.statusCode >= 500) return 'error';
        return QUIET_PATHS.test(request.url ?? '') ? 'debug' : 'info';
      },
      // pino-http makes up an Error for every 5xx; only a real one (whose cause the error
      // filter already logged) is worth its stack on the request line.
      customErrorObject: (_request: IncomingMessage, response: ServerResponse & { err?: Error }, _error: Error, fields: Record<string, unknown>) =>
        response.err ? fields : { ...fields, err: undefined },
      customErrorMessage: () => 'request failed',
    },
    // Fields assigned during the request (the module that served it) reach the completion line too.
    assignResponse: true,
  };
}
