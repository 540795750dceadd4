// Imports nothing that loads pg, ioredis or http: it is loaded (through ./tracing) before them,
// and the instrumentations patch those as they are required. The SDK itself is required only
// when tracing is wanted, so an app with tracing off loads none of it (type imports are erased).
import { ConfigurationError } from '@modulith/core';
import type { NodeSDK } from '@opentelemetry/sdk-node';

/**
 * Paths polled by probes, scrapers and the console page (`/`, `/ops/state`, `/docs*`): a trace
 * per poll (k8s asks `/ready` every few seconds per pod) would drown the requests that matter.
 */
const UNTRACED_PATHS = ['/', '/health', '/ready', '/metrics', '/ops/state'];
const UNTRACED_PREFIXES = ['/docs'];

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'];

/** Whether an incoming request to `url` (path plus optional query) is left untraced. */
export function isUntracedPath(url: string | undefined): boolean {
  if (url === undefined) return false;
  const path = url.split('?', 1)[0] ?? url;
  return UNTRACED_PATHS.includes(path) || UNTRACED_PREFIXES.some((prefix) => path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}-`));
}

/**
 * Whether the environment asks for traces: an OTLP endpoint (`OTEL_EXPORTER_OTLP_ENDPOINT` or
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or a trace exporter (`OTEL_TRACES_EXPORTER`, not `none`),
 * and not `OTEL_SDK_DISABLED=true`. Off by default: no SDK is loaded and nothing is patched.
 */
export function tracingWanted(env: NodeJS.ProcessEnv): boolean {
  if (env['OTEL_SDK_DISABLED']?.trim().toLowerCase() === 'true') return false;
  const exporter = env['OTEL_TRACES_EXPORTER']?.trim().toLowerCase();
  if (exporter === 'none') return false;
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'] || exporter);
}

/**
 * Checks the OTLP variables the SDK would otherwise silently fall back on (an unknown protocol
 * becomes `http/protobuf`; a malformed endpoint drops every span).
 * Throws ConfigurationError naming the variable.
 */
export function checkTracingEnv(env: NodeJS.ProcessEnv): void {
  for (const name of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL']) {
    const value = env[name]?.trim();
    if (value && !OTLP_PROTOCOLS.includes(value)) {
      throw new ConfigurationError(`${name} must be one of ${OTLP_PROTOCOLS.join(', ')} (got "${value}")`, { variable: name, value });
    }
  }
  for (const name of ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']) {
    const value = env[name]?.trim();
    if (value && !/^https?:$/.test(parsedProtocol(value) ?? '')) {
      throw new ConfigurationError(`${name} must be an http:// or https:// URL (got "${value}")`, { variable: name, value });
    }
  }
}

function parsedProtocol(url: string): string | undefined {
  try {
    return new URL(url).protocol;
  } catch {
    return undefined;
  }
}

/**
 * Starts the OpenTelemetry SDK when `tracingWanted`: traces of HTTP requests (not the polled
 * paths, see `isUntracedPath`), PostgreSQL queries and Redis commands made inside a trace (never
 * the pollers' own), plus the messaging platform's spans, exported as the standard `OTEL_*`
 * variables say (endpoint, `OTEL_EXPORTER_OTLP_PROTOCOL` `http/protobuf` by default, or
 * `http/json` or `grpc`; `OTEL_SERVICE_NAME`; `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`).
 * Metrics stay on Prometheus (`/metrics`) and logs on standard output unless
 * `OTEL_METRICS_EXPORTER` or `OTEL_LOGS_EXPORTER` asks for more.
 * Returns the SDK, to flush and stop at shutdown, or undefined when tracing is off.
 * Throws ConfigurationError (see `checkTracingEnv`) when tracing is wanted but misconfigured.
 */
export function startTracing(env: NodeJS.ProcessEnv = process.env): NodeSDK | undefined {
  if (!tracingWanted(env)) return undefined;
  checkTracingEnv(env);
  // Required here, not imported: with tracing off none of the SDK (~400 modules) is loaded.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK: Sdk } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as typeof import('@opentelemetry/instrumentation-http');
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as typeof import('@opentelemetry/instrumentation-ioredis');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const named = Boolean(env['OTEL_SERVICE_NAME']) || /(^|,)\s*service\.name\s*=/.test(env['OTEL_RESOURCE_ATTRIBUTES'] ?? '');
  const sdk = new Sdk({
    ...(named ? {} : { serviceName: 'modulith' }),
    ...(env['OTEL_METRICS_EXPORTER'] ? {} : { metricReaders: [] }),
    ...(env['OTEL_LOGS_EXPORTER'] ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (request) => isUntracedPath(request.url) }),
      new PgInstrumentation({ requireParentSpan: true }),
      new IORedisInstrumentation({ requireParentSpan: true }),
    ],
  });
  sdk.start();
  return sdk;
}
