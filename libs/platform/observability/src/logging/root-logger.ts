import { isSpanContextValid, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { currentCorrelation } from '@modulith/core';
import { REDACTED, secretScrubber } from './secret-scrubber';

export type LogFormat = 'json' | 'pretty';
/** Levels as `LOG_LEVEL` names them (Nest's names), plus `silent`. */
export type LogLevelName = 'error' | 'warn' | 'log' | 'debug' | 'verbose' | 'silent';

export interface RootLoggerOptions {
  level: LogLevelName;
  format: LogFormat;
  /** Where lines go; standard output by default. Tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** Values that must never be printed, such as the admin token. */
  secrets?: readonly (string | undefined)[];
}

const PINO_LEVELS: Record<LogLevelName, Level | 'silent'> = {
  error: 'error',
  warn: 'warn',
  log: 'info',
  debug: 'debug',
  verbose: 'trace',
  silent: 'silent',
};

/** Fields masked wherever they occur in a log line (one level of nesting deep, too). */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'adminToken',
  'databaseUrl',
  'headers.authorization',
  'headers.cookie',
  '*.authorization',
  '*.password',
  '*.adminToken',
  '*.databaseUrl',
  '*.ADMIN_TOKEN',
  '*.DATABASE_URL',
  '*.headers.authorization',
  '*.headers.cookie',
];

/**
 * The correlation of the request or event being handled, read from the async context that the
 * HTTP layer and the messaging platform set. Every line logged inside it carries the id, also
 * those of a plain `new Logger('X').log(...)` deep inside a handler. With tracing on, a line
 * logged inside a span also carries `trace_id` and `span_id` (hex, as trace back ends show them).
 */
export function correlationMixin(): Record<string, string> {
  const context = currentCorrelation();
  const fields: Record<string, string> = context
    ? context.causationId
      ? { correlationId: context.correlationId, causationId: context.causationId }
      : { correlationId: context.correlationId }
    : {};
  // No SDK (tracing off): there is never an active span, and this is one lookup in an empty context.
  const span = trace.getActiveSpan()?.spanContext();
  if (span && isSpanContextValid(span)) {
    fields.trace_id = span.traceId;
    fields.span_id = span.spanId;
  }
  return fields;
}

/**
 * The one pino logger of a process: JSON lines (or pretty ones for people), level names as
 * strings, the correlation id (and trace id, when tracing) on every line logged in a request's or an event's context, and
 * secrets masked: authorization headers and token fields by path, connection-URL passwords and
 * the listed secret values in any message.
 */
export function createRootLogger(options: RootLoggerOptions): Logger {
  const scrub = secretScrubber(options.secrets);
  const destination = options.destination ?? (options.format === 'pretty' ? prettyStream() : pino.destination({ fd: 1, sync: true }));
  return pino(
    {
      level: PINO_LEVELS[options.level],
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: correlationMixin,
      redact: { paths: REDACTED_PATHS, censor: REDACTED },
      formatters: {
        level: (label) => ({ level: label }),
        log: (object) => scrubFields(object, scrub),
      },
      serializers: {
        err: (error: unknown) => scrubFields(pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>, scrub),
      },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => (typeof arg === 'string' ? scrub(arg) : arg)) as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

function scrubFields(object: Record<string, unknown>, scrub: (text: string) => string): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(object)) {
    if (typeof value !== 'string') continue;
    const scrubbed = scrub(value);
    if (scrubbed !== value) (copy ??= { ...object })[key] = scrubbed;
  }
  return copy ?? object;
}

/** pino-pretty in this process (synchronous, so nothing is lost on exit); JSON if it is not installed. */
function prettyStream(): DestinationStream {
  try {
    // A development dependency: production images log JSON and do not ship it.
    const pretty = require('pino-pretty') as (options: object) => DestinationStream;
    return pretty({
      sync: true,
      colorize: Boolean(process.stdout.isTTY),
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname,context',
      messageFormat: '{if context}[{context}] {end}{msg}',
    });
  } catch {
    process.stderr.write('LOG_FORMAT=pretty needs the pino-pretty package (a development dependency): logging JSON instead\n');
    return pino.destination({ fd: 1, sync: true });
  }
}
