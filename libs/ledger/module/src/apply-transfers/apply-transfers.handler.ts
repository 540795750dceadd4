import { Injectable } from '@nestjs/common';
import { TransferIngested } from '@modulith/ingestion/contracts';
import { BalanceChanged } from '@modulith/ledger/contracts';
import { OnIntegrationEvent, Outbox, type BatchDeliveryContext } from '@modulith/messaging';
import { LedgerRepository } from '../ledger.repository';
import { netChanges, postingsFor, withBalancesAfter } from '../posting.rules';

/**
 * Applies ingested transfers in batches, double entry: in one transaction per batch it adds the
 * net change to each balance, records one entry per posting, publishes one `BalanceChanged`
 * per posting and (through the platform) marks the events handled in the ledger's inbox.
 */
@Injectable()
export class ApplyTransfersHandler {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly outbox: Outbox,
  ) {}

  @OnIntegrationEvent(TransferIngested, { batch: 500, name: 'ledger.apply-transfers' })
  async apply(events: TransferIngested[], { manager }: BatchDeliveryContext): Promise<void> {
    const postings = postingsFor(events.map((event) => event.payload));
    const finalBalances = await this.ledger.addToBalances(manager, netChanges(postings));
    const applied = withBalancesAfter(postings, finalBalances);
    const seqs = await this.ledger.insertEntries(manager, applied);
    await this.outbox.append(
      manager,
      applied.map(
        (posting, index) =>
          new BalanceChanged({
            account: posting.account,
            currency: posting.currency,
            balance: posting.balanceAfter.toString(),
            delta: posting.amount.toString(),
            transferId: posting.transferId,
            entrySeq: seqs[index],
          }),
      ),
    );
  }
}
