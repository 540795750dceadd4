import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Params } from 'nestjs-pino';
import { DatabaseModule } from '@modulith/database';
import { messagingConfigFromEnv, MessagingModule, type MessagingConfig } from '@modulith/messaging';
import { DeadLettersController, OutboxController } from '@modulith/messaging/operator';
import { ObservabilityModule } from '@modulith/observability';
import type { AppConfig } from './app.config';
import { ConsoleController } from './console/console.controller';
import { OpsController } from './console/ops.controller';
import { OpsStateService } from './console/ops-state.service';
import { HealthController, LOADED_MODULES } from './health.controller';
import { AdminController } from './invariants/admin.controller';
import { INVARIANT_MODULES, InvariantsService } from './invariants/invariants.service';
import { declaredDurableModules, declaredSubscribers, selectModules } from './module-catalog';
import { MetricsController } from './observability/metrics.controller';
import { NotificationsMetrics } from './observability/notifications-metrics';
import { OBSERVABILITY_CONFIG, observabilityConfigFromEnv } from './observability/observability.config';

/** What only an app serving HTTP adds; `migrate` and `verify` leave it out. */
export interface AppModuleOptions {
  /** Request logging through nestjs-pino (see `createLogger`). */
  httpLogging?: Params;
}

/** The composition root: the platform once, then the business modules chosen by `MODULES`. */
@Module({})
export class AppModule {
  static register(
    config: Pick<AppConfig, 'modules' | 'database'>,
    messaging: Partial<MessagingConfig> = {},
    options: AppModuleOptions = {},
  ): DynamicModule {
    const modules = selectModules(config.modules);
    const names = modules.map((entry) => entry.name);
    const messagingConfig = { ...messagingConfigFromEnv(), ...messaging };
    // The check reads ingestion, ledger and analytics through their public queries: here, or
    // over Redis in whichever processes host them (a process may host none of them).
    const canCheckInvariants = INVARIANT_MODULES.every((name) => names.includes(name)) || messagingConfig.eventTransport === 'redis';
    const observability = observabilityConfigFromEnv();
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        DatabaseModule.forRoot(config.database),
        MessagingModule.forRoot({ declaredDurableModules: declaredDurableModules(), declaredDurableSubscribers: declaredSubscribers(), ...messaging }),
        ObservabilityModule.forRoot({
          moduleNames: new Map(modules.map((entry) => [entry.module, entry.name])),
          httpLogging: options.httpLogging,
          readiness: { relayEnabled: messagingConfig.relayEnabled, timeoutMs: observability.readyTimeoutMs },
          backlog: { refreshMs: observability.backlogRefreshMs, readTimeoutMs: observability.backlogReadTimeoutMs },
        }),
        ...modules.map((entry) => entry.module),
      ],
      controllers: [HealthController, MetricsController, OpsController, ConsoleController, DeadLettersController, OutboxController, AdminController],
      providers: [
        { provide: LOADED_MODULES, useValue: names },
        { provide: OBSERVABILITY_CONFIG, useValue: observability },
        NotificationsMetrics,
        OpsStateService,
        ...(canCheckInvariants ? [InvariantsService] : []),
      ],
    };
  }
}
