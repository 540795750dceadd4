import { Body, Controller, Post } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { PlaceOrderCommand } from './place-order.command';

@Controller('orders')
export class OrdersController {
  constructor(private readonly commands: CommandBus) {}

  /** `POST /orders {"id": "o-1", "total": 1250}` → 201. */
  @Post()
  async place(@Body() body: { id: string; total: number }): Promise<{ id: string }> {
    await this.commands.execute(new PlaceOrderCommand(body.id, body.total));
    return { id: body.id };
  }
}
