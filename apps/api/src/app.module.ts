import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DatabaseModule } from '@modulith/database';
import { DeadLettersController, MessagingModule, type MessagingConfig } from '@modulith/messaging';
import type { AppConfig } from './app.config';
import { HealthController, LOADED_MODULES } from './health.controller';
import { AdminController } from './invariants/admin.controller';
import { InvariantsService } from './invariants/invariants.service';
import { selectModules } from './module-catalog';

/** The composition root: the platform once, then the business modules chosen by `MODULES`. */
@Module({})
export class AppModule {
  static register(config: Pick<AppConfig, 'modules' | 'database'>, messaging: Partial<MessagingConfig> = {}): DynamicModule {
    const modules = selectModules(config.modules);
    const names = modules.map((entry) => entry.name);
    const canCheckInvariants = ['ingestion', 'ledger', 'analytics'].every((name) => names.includes(name));
    return {
      module: AppModule,
      imports: [
        CqrsModule.forRoot(),
        DatabaseModule.forRoot(config.database),
        MessagingModule.forRoot(messaging),
        ...modules.map((entry) => entry.module),
      ],
      controllers: [HealthController, DeadLettersController, AdminController],
      providers: [{ provide: LOADED_MODULES, useValue: names }, ...(canCheckInvariants ? [InvariantsService] : [])],
    };
  }
}
