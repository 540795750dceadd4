/**
 * @modulith/observability — what operators need from every process: Prometheus metrics (HTTP,
 * messaging, process), readiness checks for terminus, and structured pino logs that carry the
 * correlation id of the request or event being handled. See README.md.
 */
export { ObservabilityModule } from './observability.module';
export type { ObservabilityOptions } from './observability.options';

export { createRootLogger, correlationMixin, REDACTED_PATHS } from './logging/root-logger';
export type { RootLoggerOptions, LogFormat, LogLevelName } from './logging/root-logger';
export { secretScrubber } from './logging/secret-scrubber';
export { httpLoggingParams } from './logging/http-logging';

export { MetricsRegistry, METRIC_PREFIX } from './metrics/metrics-registry';
export { instrumentHttp } from './metrics/http-metrics';
export { BacklogSampler, DEFAULT_BACKLOG_READ_TIMEOUT_MS } from './metrics/backlog-sampler';
export type { BacklogSample, BacklogSamplerOptions } from './metrics/backlog-sampler';

export { ReadinessIndicators } from './health/readiness-indicators';
export type { ReadinessOptions } from './health/readiness-indicators';
export type { TransportProbe } from './health/transport-probe';

export { SubscriberCatalog } from './subscribers/subscriber-catalog';
export type { SubscriberInfo } from './subscribers/subscriber-catalog';
