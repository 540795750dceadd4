import { Module } from '@nestjs/common';
import { DatabaseModule, defineModuleSchema } from '@modulith/database';
import { MessagingModule } from '@modulith/messaging';
import { CreateOrders0001 } from './create-orders.migration';
import { OrderEntity } from './order.entity';
import { OrdersController } from './orders.controller';
import { PlaceOrderHandler } from './place-order.handler';

const orders = defineModuleSchema({ module: 'orders', schema: 'orders', entities: [OrderEntity], migrations: [CreateOrders0001] });

/** Owns the `orders` schema; publishes `OrderPlaced`. */
@Module({
  imports: [DatabaseModule.forModule(orders), MessagingModule.forModule({ module: 'orders', schema: 'orders' })],
  controllers: [OrdersController],
  providers: [PlaceOrderHandler],
})
export class OrdersModule {}
