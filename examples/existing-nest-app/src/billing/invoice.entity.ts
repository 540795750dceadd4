import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One invoice per order. No unique key on purpose: a second delivery would show as a second row. */
@Entity({ schema: 'billing', name: 'invoices' })
export class InvoiceEntity {
  @PrimaryGeneratedColumn()
  id!: number;

  @Column('text', { name: 'order_id' })
  orderId!: string;

  /** In cents. */
  @Column('int')
  amount!: number;
}
