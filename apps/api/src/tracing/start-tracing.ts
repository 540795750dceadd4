// Imports nothing but OpenTelemetry: it is loaded (through ./tracing) before anything requires
// pg, ioredis or http, which the instrumentations patch as they are required.
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { NodeSDK } from '@opentelemetry/sdk-node';

/** Paths polled by probes and scrapers: a trace per poll would drown the requests that matter. */
const UNTRACED_PATHS = ['/health', '/metrics'];

/**
 * Whether the environment asks for traces: an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or a trace exporter (`OTEL_TRACES_EXPORTER`, not `none`),
 * and not `OTEL_SDK_DISABLED=true`. Off by default: no SDK is started and nothing is patched.
 */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || exporter);
}

/**
 * Starts the OpenTelemetry SDK when `tracingWanted`: traces of HTTP requests, PostgreSQL queries
 * and Redis commands made inside a trace (never the pollers' own), plus the messaging platform's
 * spans, exported as the standard `OTEL_*` variables say (endpoint, `OTEL_EXPORTER_OTLP_PROTOCOL`
 * `http/protobuf` by default, or `http/json` or `grpc`; `OTEL_SERVICE_NAME`; `OTEL_TRACES_SAMPLER`
 * and `OTEL_TRACES_SAMPLER_ARG`). Metrics stay on Prometheus (`/metrics`) and logs on standard
 * output unless `OTEL_METRICS_EXPORTER` or `OTEL_LOGS_EXPORTER` asks for more.
 * Returns the SDK, to flush and stop at shutdown, or undefined when tracing is off.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): NodeSDK | undefined {
  if (!tracingWanted(env)) return undefined;
  const named = Boolean(env['OTEL_SERVICE_NAME']) || /(^|,)\s*service\.name\s*=/.test(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '');
  const sdk = new NodeSDK({
    ...(named ? {} : { serviceName: 'modulith' }),
    ...(env['OTEL_METRICS_EXPORTER'] ? {} : { metricReaders: [] }),
    ...(env['OTEL_LOGS_EXPORTER'] ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => UNTRACED_PATHS.some((path) => request.url === path || request.url?.startsWith(`${path}?`)) }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return sdk;
}
