import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A stored transfer: `ingestion.transfers`. `seq` orders transfers by arrival. */
@Entity({ schema: 'ingestion', name: 'transfers' })
export class TransferEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'bigint', insert: false, update: false })
  seq!: string;

  @Column({ name: 'from_account', type: 'text' })
  from!: string;

  @Column({ name: 'to_account', type: 'text' })
  to!: string;

  /** bigint comes back from pg as a string, which is what we want: no floating point. */
  @Column({ type: 'bigint' })
  amount!: string;

  @Column({ type: 'char', length: 3 })
  currency!: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt!: Date;

  @Column({ name: 'ingested_at', type: 'timestamptz', insert: false, update: false })
  ingestedAt!: Date;
}
