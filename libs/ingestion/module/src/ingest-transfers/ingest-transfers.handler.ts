import { Inject, Optional } from '@nestjs/common';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { CLOCK, ConflictError, systemClock, type Clock } from '@modulith/core';
import { Database } from '@modulith/database';
import { IngestTransfersCommand, TransferIngested, type IngestResult, type Transfer } from '@modulith/ingestion/contracts';
import { Outbox } from '@modulith/messaging';
import { TransferRepository } from '../transfer.repository';
import { sameTransfer, withoutRepeats } from '../transfer.rules';

const toEvent = (transfer: Transfer): TransferIngested =>
  new TransferIngested({
    transferId: transfer.id,
    from: transfer.from,
    to: transfer.to,
    amount: transfer.amount,
    currency: transfer.currency,
    occurredAt: transfer.occurredAt,
  });

/**
 * Stores a batch in one transaction: new ids are inserted with one statement; a known id must
 * carry the same content (an idempotent replay) or the whole batch is refused and nothing is written.
 * Each new transfer's `TransferIngested` goes to the outbox in the same transaction.
 */
@CommandHandler(IngestTransfersCommand)
export class IngestTransfersHandler implements ICommandHandler<IngestTransfersCommand> {
  constructor(
    private readonly database: Database,
    private readonly transfers: TransferRepository,
    private readonly outbox: Outbox,
    // Stamps `ingestedAt`; provided only by tests (the Scenario's clock), else the system's.
    @Optional() @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {}

  async execute({ transfers }: IngestTransfersCommand): Promise<IngestResult> {
    const batch = withoutRepeats(transfers);
    return this.database.transaction(async (tx) => {
      const inserted = await this.transfers.insertNew(tx, batch, this.clock.now());
      const repeats = batch.filter((transfer) => !inserted.has(transfer.id));
      const stored = new Map((await this.transfers.findByIds(tx, repeats.map((t) => t.id))).map((t) => [t.id, t]));
      const conflicting = repeats.find((transfer) => {
        const existing = stored.get(transfer.id);
        return !existing || !sameTransfer(transfer, existing);
      });
      if (conflicting) {
        throw new ConflictError(`transfer "${conflicting.id}" already exists with other content`, { id: conflicting.id });
      }
      await this.outbox.append(tx, batch.filter((transfer) => inserted.has(transfer.id)).map(toEvent));
      return { accepted: inserted.size, replayed: transfers.length - inserted.size };
    });
  }
}
