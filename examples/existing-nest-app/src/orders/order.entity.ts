import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An order, in the `orders` schema the orders module owns. */
@Entity({ schema: 'orders', name: 'orders' })
export class OrderEntity {
  @PrimaryColumn('text')
  id!: string;

  /** In cents. */
  @Column('int')
  total!: number;
}
