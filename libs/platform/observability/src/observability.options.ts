import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import type { Params } from 'nestjs-pino';
import { resolveIntOptions } from '@modulith/core';
import type { ReadinessOptions } from './health/readiness-indicators';
import { DEFAULT_BACKLOG_READ_TIMEOUT_MS, type BacklogSamplerOptions } from './metrics/backlog-sampler';

/** What a host app gives `ObservabilityModule.forRoot` (or returns from `forRootAsync`'s factory). */
export interface ObservabilityOptions {
  /** The business modules loaded here, by the name logs and metrics are labelled with; default none (labelled by class name). */
  moduleNames?: ReadonlyMap<Type, string>;
  /** `/ready`: `relayEnabled` (default true) says the relay must run here; `timeoutMs` (default 2000, 100-60000) bounds each check. */
  readiness?: Partial<ReadinessOptions>;
  /** The backlog gauges are read in the background: `refreshMs` apart (default 10000, 50-3600000), each read bounded by `readTimeoutMs` (default 5000, 50-600000). */
  backlog?: Partial<BacklogSamplerOptions>;
}

/** Options as the module uses them, every default applied. */
export interface ResolvedObservabilityOptions {
  moduleNames: ReadonlyMap<Type, string>;
  readiness: ReadinessOptions;
  backlog: Required<BacklogSamplerOptions>;
}

const OWNER = 'ObservabilityModule';

/** Every default applied, each given value checked; throws `ConfigurationError` naming a bad option (`readiness.timeoutMs`). */
export function resolveObservabilityOptions(options: ObservabilityOptions = {}): ResolvedObservabilityOptions {
  const readiness = resolveIntOptions(OWNER, { timeoutMs: { default: 2000, min: 100, max: 60_000 } }, options.readiness ?? {}, 'readiness.');
  const backlog = resolveIntOptions(
    OWNER,
    { refreshMs: { default: 10_000, min: 50, max: 3_600_000 }, readTimeoutMs: { default: DEFAULT_BACKLOG_READ_TIMEOUT_MS, min: 50, max: 600_000 } },
    options.backlog ?? {},
    'backlog.',
  );
  return {
    moduleNames: options.moduleNames ?? new Map(),
    readiness: { relayEnabled: options.readiness?.relayEnabled ?? true, ...readiness },
    backlog,
  };
}

/**
 * `forRoot(options)` / `forRootAsync({ imports, useFactory, inject })` from Nest's own builder.
 * `httpLogging` (nestjs-pino parameters, `httpLoggingParams`) is an extra given beside the
 * options, also to `forRootAsync`: it decides which modules are imported, so it cannot wait for
 * a factory. Omit it where nothing is served over HTTP.
 */
export const {
  ConfigurableModuleClass: ConfigurableObservabilityModule,
  MODULE_OPTIONS_TOKEN: OBSERVABILITY_OPTIONS,
  ASYNC_OPTIONS_TYPE: OBSERVABILITY_ASYNC_OPTIONS,
  OPTIONS_TYPE: OBSERVABILITY_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<ObservabilityOptions>({ moduleName: 'Observability' })
  .setClassMethodName('forRoot')
  .setExtras<{ httpLogging?: Params }>({ httpLogging: undefined }, (definition) => definition)
  .build();
