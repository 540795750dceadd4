import { Injectable } from '@nestjs/common';
import { OnIntegrationEvent, type DeliveryContext } from '@modulith/messaging';
import { OrderPlaced } from '../orders/order-placed.event';
import { InvoiceEntity } from './invoice.entity';

@Injectable()
export class InvoiceOrdersSubscriber {
  /**
   * Runs in the delivery's transaction (`manager`), which also records the event in billing's
   * inbox: a redelivered event is skipped, so each order is invoiced once.
   */
  @OnIntegrationEvent(OrderPlaced)
  async onOrderPlaced(event: OrderPlaced, { manager }: DeliveryContext): Promise<void> {
    await manager.getRepository(InvoiceEntity).insert({ orderId: event.payload.orderId, amount: event.payload.total });
  }
}
