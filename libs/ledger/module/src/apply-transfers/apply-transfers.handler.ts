import { Injectable } from '@nestjs/common';
import { TransferIngested } from '@modulith/ingestion/contracts';
import { BalanceChanged } from '@modulith/ledger/contracts';
import { OnIntegrationEvent, Outbox, type BatchDeliveryContext } from '@modulith/messaging';
import { LedgerRepository } from '../ledger.repository';
import { netChanges, postingsFor, withBalancesAfter } from '../posting.rules';

/**
 * Applies ingested transfers in batches, double entry: in one transaction per batch it adds the
 * net change to each balance, records one entry per posting, publishes one `BalanceChanged`
 * per posting (ordered per account and currency) and (through the platform) marks the events
 * handled in the ledger's inbox.
 */
@Injectable()
export class ApplyTransfersHandler {
  constructor(
    private readonly ledger: LedgerRepository,
    private readonly outbox: Outbox,
  ) {}

  // One attempt at a time: unordered transfers all land on the same few balances (and their BalanceChanged keys), so a second
  // attempt beside the first would only wait on its row locks.
  @OnIntegrationEvent(TransferIngested, { batch: 500, name: 'ledger.apply-transfers', concurrency: 1 })
  async apply(events: TransferIngested[], { manager }: BatchDeliveryContext): Promise<void> {
    const postings = postingsFor(events.map((event) => event.payload));
    const finalBalances = await this.ledger.addToBalances(manager, netChanges(postings));
    const applied = withBalancesAfter(postings, finalBalances);
    const seqs = await this.ledger.insertEntries(manager, applied);
    // BalanceChanged is keyed by account and currency, and appending it locks each key until
    // commit. Append only now, once addToBalances holds the row lock of every balance it names:
    // a transaction waits for a key only while another holds the same balance row, which it
    // already waited for (so keys add no wait, and no lock-order deadlock with the balances);
    // and each key's events are numbered in the order the balance changed (entrySeq ascending).
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
