import { Module, type DynamicModule } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DatabaseModule } from '@modulith/database';
import { MessagingModule } from '@modulith/messaging';
import { BillingModule } from './billing/billing.module';
import { OrdersModule } from './orders/orders.module';

export interface AppOptions {
  /** `postgres://user:password@host:port/database`. */
  databaseUrl: string;
}

/**
 * The app's own TypeORM connection, as any Nest app has it; Modulith uses that DataSource
 * (`useExistingDataSource`) for each module's schema, migrations, outbox and inbox.
 */
@Module({})
export class AppModule {
  static forRoot({ databaseUrl }: AppOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: databaseUrl, autoLoadEntities: true }),
        DatabaseModule.forRoot({ useExistingDataSource: true }),
        CqrsModule.forRoot(),
        MessagingModule.forRoot(),
        OrdersModule,
        BillingModule,
      ],
    };
  }
}
