import { IntegrationEvent } from '@modulith/messaging';

/**
 * Published by the orders module when an order is placed. Another module imports only this
 * class (in a larger app it lives in the orders module's contracts package).
 */
export class OrderPlaced extends IntegrationEvent<{ orderId: string; total: number }> {
  static readonly type = 'orders.order-placed';
  static readonly version = 1;
}
