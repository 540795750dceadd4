import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { DatabaseModule } from '@modulith/database';
import type { AppConfig } from './app.config';
import { HealthController, LOADED_MODULES } from './health.controller';
import { selectModules } from './module-catalog';

/** The composition root: the platform once, then the business modules chosen by `MODULES`. */
@Module({})
export class AppModule {
  static register(config: Pick<AppConfig, 'modules' | 'database'>): DynamicModule {
    const modules = selectModules(config.modules);
    return {
      module: AppModule,
      imports: [CqrsModule.forRoot(), DatabaseModule.forRoot(config.database), ...modules.map((entry) => entry.module)],
      controllers: [HealthController],
      providers: [{ provide: LOADED_MODULES, useValue: modules.map((entry) => entry.name) }],
    };
  }
}
