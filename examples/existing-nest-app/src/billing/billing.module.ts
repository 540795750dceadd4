import { Module } from '@nestjs/common';
import { defineModule, MessagingModule } from '@modulith/messaging';
import { CreateInvoices0001 } from './create-invoices.migration';
import { InvoiceEntity } from './invoice.entity';
import { InvoiceOrdersSubscriber } from './invoice-orders.subscriber';

/** Its inbox table is added on start-up, because the module has a durable subscriber. */
export const billing = defineModule({ name: 'billing', schema: 'billing', entities: [InvoiceEntity], migrations: [CreateInvoices0001] });

/** Owns the `billing` schema; consumes `OrderPlaced`. */
@Module({
  imports: [MessagingModule.forModule(billing)],
  providers: [InvoiceOrdersSubscriber],
})
export class BillingModule {}
