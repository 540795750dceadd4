import { Module } from '@nestjs/common';
import { defineModule, MessagingModule } from '@modulith/messaging';
import { CreateOrders0001 } from './create-orders.migration';
import { OrderEntity } from './order.entity';
import { OrdersController } from './orders.controller';
import { PlaceOrderHandler } from './place-order.handler';

/** Declared once: the module's name, the schema it owns, its entities and migrations. */
export const orders = defineModule({ name: 'orders', schema: 'orders', entities: [OrderEntity], migrations: [CreateOrders0001] });

/** Owns the `orders` schema; publishes `OrderPlaced`. */
@Module({
  // One call: the schema, its migrations, TypeOrmModule.forFeature(entities) and the module's Outbox.
  imports: [MessagingModule.forModule(orders)],
  controllers: [OrdersController],
  providers: [PlaceOrderHandler],
})
export class OrdersModule {}
