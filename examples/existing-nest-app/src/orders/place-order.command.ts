import { Command } from '@nestjs/cqrs';

export class PlaceOrderCommand extends Command<void> {
  constructor(
    readonly id: string,
    /** In cents. */
    readonly total: number,
  ) {
    super();
  }
}
