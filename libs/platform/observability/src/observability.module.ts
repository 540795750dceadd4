import { Module, type DynamicModule } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule, type Params } from 'nestjs-pino';
import { READINESS_OPTIONS, ReadinessIndicators } from './health/readiness-indicators';
import { MODULE_NAMES, ModuleLogContextInterceptor } from './logging/module-log-context.interceptor';
import { BacklogExporter } from './metrics/backlog-exporter';
import { BACKLOG_SAMPLER_OPTIONS, BacklogSampler } from './metrics/backlog-sampler';
import { MessagingExporter } from './metrics/messaging-exporter';
import { MetricsRegistry } from './metrics/metrics-registry';
import { HandlerLogging } from './subscribers/handler-logging';
import { SubscriberCatalog } from './subscribers/subscriber-catalog';
import {
  ConfigurableObservabilityModule,
  OBSERVABILITY_ASYNC_OPTIONS,
  OBSERVABILITY_OPTIONS,
  OBSERVABILITY_OPTIONS_TYPE,
  resolveObservabilityOptions,
  type ObservabilityOptions,
  type ResolvedObservabilityOptions,
} from './observability.options';

/**
 * Metrics, readiness checks and structured logs for the whole app. Import once, in the
 * composition root, after `DatabaseModule`, `MessagingModule` and `CqrsModule`. The HTTP side
 * (controllers, `instrumentHttp`) belongs to the app.
 */
@Module({})
export class ObservabilityModule extends ConfigurableObservabilityModule {
  /** Every option has a default; a bad one throws `ConfigurationError` naming it, here. Reads no environment variable. */
  static override forRoot(options: typeof OBSERVABILITY_OPTIONS_TYPE = {}): DynamicModule {
    resolveObservabilityOptions(options);
    return withObservability(super.forRoot(options), options.httpLogging);
  }

  /** The options from a factory (`imports`, `useFactory`, `inject`), `httpLogging` beside them; a bad option fails the app's start. */
  static override forRootAsync(options: typeof OBSERVABILITY_ASYNC_OPTIONS): DynamicModule {
    return withObservability(super.forRootAsync(options), options.httpLogging);
  }
}

function withObservability(definition: DynamicModule, httpLogging: Params | undefined): DynamicModule {
  const resolved = (options?: ObservabilityOptions) => resolveObservabilityOptions(options);
  return {
    ...definition,
    global: true,
    imports: [
      ...(definition.imports ?? []),
      DiscoveryModule,
      TerminusModule.forRoot({ errorLogStyle: 'json' }),
      ...(httpLogging ? [LoggerModule.forRoot(httpLogging)] : []),
    ],
    providers: [
      ...(definition.providers ?? []),
      { provide: RESOLVED_OPTIONS, useFactory: resolved, inject: [OBSERVABILITY_OPTIONS] },
      { provide: MODULE_NAMES, useFactory: (options: ResolvedObservabilityOptions) => options.moduleNames, inject: [RESOLVED_OPTIONS] },
      { provide: READINESS_OPTIONS, useFactory: (options: ResolvedObservabilityOptions) => options.readiness, inject: [RESOLVED_OPTIONS] },
      { provide: BACKLOG_SAMPLER_OPTIONS, useFactory: (options: ResolvedObservabilityOptions) => options.backlog, inject: [RESOLVED_OPTIONS] },
      MetricsRegistry,
      SubscriberCatalog,
      HandlerLogging,
      MessagingExporter,
      BacklogSampler,
      BacklogExporter,
      ReadinessIndicators,
      ...(httpLogging ? [{ provide: APP_INTERCEPTOR, useClass: ModuleLogContextInterceptor }] : []),
    ],
    exports: [MetricsRegistry, SubscriberCatalog, ReadinessIndicators, TerminusModule],
  };
}

const RESOLVED_OPTIONS = Symbol('RESOLVED_OBSERVABILITY_OPTIONS');
