import { Module } from '@nestjs/common';
import { DatabaseModule, defineModuleSchema } from '@modulith/database';
import { inboxMigration, MessagingModule } from '@modulith/messaging';
import { CreateInvoices0001 } from './create-invoices.migration';
import { InvoiceEntity } from './invoice.entity';
import { InvoiceOrdersSubscriber } from './invoice-orders.subscriber';

const billing = defineModuleSchema({
  module: 'billing',
  schema: 'billing',
  entities: [InvoiceEntity],
  migrations: [inboxMigration('billing'), CreateInvoices0001],
});

/** Owns the `billing` schema; consumes `OrderPlaced`. */
@Module({
  imports: [DatabaseModule.forModule(billing), MessagingModule.forModule({ module: 'billing', schema: 'billing' })],
  providers: [InvoiceOrdersSubscriber],
})
export class BillingModule {}
