import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_INTERCEPTOR, DiscoveryModule } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule, type Params } from 'nestjs-pino';
import { READINESS_OPTIONS, ReadinessIndicators, type ReadinessOptions } from './health/readiness-indicators';
import { MODULE_NAMES, ModuleLogContextInterceptor } from './logging/module-log-context.interceptor';
import { BacklogExporter } from './metrics/backlog-exporter';
import { BACKLOG_SAMPLER_OPTIONS, BacklogSampler, type BacklogSamplerOptions } from './metrics/backlog-sampler';
import { MessagingExporter } from './metrics/messaging-exporter';
import { MetricsRegistry } from './metrics/metrics-registry';
import { HandlerLogging } from './subscribers/handler-logging';
import { SubscriberCatalog } from './subscribers/subscriber-catalog';

export interface ObservabilityOptions {
  /** The business modules loaded here, by the name `MODULES` uses: logs and metrics are labelled with it. */
  moduleNames: ReadonlyMap<Type, string>;
  /** Request logging through nestjs-pino (`httpLoggingParams`); omit where nothing is served over HTTP. */
  httpLogging?: Params;
  readiness: ReadinessOptions;
  /** How the backlog gauges are read: in the background, `refreshMs` apart, never by a scrape. */
  backlog: BacklogSamplerOptions;
}

/**
 * Metrics, readiness checks and structured logs for the whole app. Import once, in the
 * composition root, after `DatabaseModule`, `MessagingModule` and `CqrsModule`. The HTTP side
 * (controllers, `instrumentHttp`) belongs to the app.
 */
@Module({})
export class ObservabilityModule {
  static forRoot(options: ObservabilityOptions): DynamicModule {
    return {
      module: ObservabilityModule,
      global: true,
      imports: [
        DiscoveryModule,
        TerminusModule.forRoot({ errorLogStyle: 'json' }),
        ...(options.httpLogging ? [LoggerModule.forRoot(options.httpLogging)] : []),
      ],
      providers: [
        { provide: MODULE_NAMES, useValue: options.moduleNames },
        { provide: READINESS_OPTIONS, useValue: options.readiness },
        { provide: BACKLOG_SAMPLER_OPTIONS, useValue: options.backlog },
        MetricsRegistry,
        SubscriberCatalog,
        HandlerLogging,
        MessagingExporter,
        BacklogSampler,
        BacklogExporter,
        ReadinessIndicators,
        ...(options.httpLogging ? [{ provide: APP_INTERCEPTOR, useClass: ModuleLogContextInterceptor }] : []),
      ],
      exports: [MetricsRegistry, SubscriberCatalog, ReadinessIndicators, TerminusModule],
    };
  }
}
