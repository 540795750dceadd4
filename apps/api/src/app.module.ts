import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import type { Params } from 'nestjs-pino';
import { DatabaseModule } from '@modulith/database';
import { MessagingModule, resolveMessagingConfig, type MessagingOptions } from '@modulith/messaging';
import { DeadLettersController, OutboxController } from '@modulith/messaging/operator';
import { NotificationsModule } from '@modulith/notifications';
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
import { OBSERVABILITY_CONFIG, type ObservabilityConfig } from './observability/observability.config';

/** What only an app serving HTTP adds; `migrate` and `verify` leave it out. */
export interface AppModuleOptions {
  /** Request logging through nestjs-pino (see `createLogger`). */
  httpLogging?: Params;
}

/** The composition root: the platform once, then the business modules chosen by `MODULES`. */
@Module({})
export class AppModule {
  /**
   * `config` carries every library's options as the environment gave them (see
   * `appConfigFromEnv`); `messaging` overrides some for one command (`migrate` runs no relay).
   */
  static register(
    config: Pick<AppConfig, 'modules' | 'database' | 'messaging' | 'notifications' | 'observability' | 'opsPeers'>,
    messaging: MessagingOptions = {},
    options: AppModuleOptions = {},
  ): DynamicModule {
    const modules = selectModules(config.modules);
    const names = modules.map((entry) => entry.name);
    const messagingOptions: MessagingOptions = { declaredDurableModules: declaredDurableModules(), declaredDurableSubscribers: declaredSubscribers(), ...config.messaging, ...messaging };
    const messagingConfig = resolveMessagingConfig(messagingOptions);
    // The check reads ingestion, ledger and analytics through their public queries: here, or
    // over Redis in whichever processes host them (a process may host none of them).
    const canCheckInvariants = INVARIANT_MODULES.every((name) => names.includes(name)) || messagingConfig.eventTransport === 'redis';
    const console: ObservabilityConfig = { opsPeers: config.opsPeers };
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        DatabaseModule.forRoot(config.database),
        MessagingModule.forRoot(messagingOptions),
        ObservabilityModule.forRoot({
          moduleNames: new Map(modules.map((entry) => [entry.module, entry.name])),
          httpLogging: options.httpLogging,
          readiness: { ...config.observability.readiness, relayEnabled: messagingConfig.relayEnabled },
          backlog: config.observability.backlog,
        }),
        ...modules.map((entry) => withOptions(entry.module, config)),
      ],
      controllers: [HealthController, MetricsController, OpsController, ConsoleController, DeadLettersController, OutboxController, AdminController],
      providers: [
        { provide: LOADED_MODULES, useValue: names },
        { provide: OBSERVABILITY_CONFIG, useValue: console },
        NotificationsMetrics,
        OpsStateService,
        ...(canCheckInvariants ? [InvariantsService] : []),
      ],
    };
  }
}

/** A business module as this app imports it: with its options when it takes some. */
function withOptions(module: Type, config: Pick<AppConfig, 'notifications'>): Type | DynamicModule {
  return module === NotificationsModule ? NotificationsModule.forRoot(config.notifications) : module;
}
