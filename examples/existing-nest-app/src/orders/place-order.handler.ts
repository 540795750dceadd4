import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Outbox } from '@modulith/messaging';
import { OrderEntity } from './order.entity';
import { OrderPlaced } from './order-placed.event';
import { PlaceOrderCommand } from './place-order.command';

/** Saves the order and its event in one transaction: both commit or neither does. */
@CommandHandler(PlaceOrderCommand)
export class PlaceOrderHandler implements ICommandHandler<PlaceOrderCommand> {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: Outbox,
  ) {}

  async execute({ id, total }: PlaceOrderCommand): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(OrderEntity).insert({ id, total });
      await this.outbox.append(manager, [new OrderPlaced({ orderId: id, total })]);
    });
  }
}
