import { Injectable, Logger } from '@nestjs/common';
import { BalanceChanged } from '@modulith/ledger/contracts';
import { OnIntegrationEvent, type BatchDeliveryContext } from '@modulith/messaging';
import { StatementRepository } from '../statement.repository';
import { appendToStatements } from '../statement.rules';

/**
 * Keeps the running statement of every balance from `BalanceChanged`, in batches: each line's
 * balance is the previous line's plus the change, so the statement is right only if each
 * balance's changes arrive in commit order, once each. It relies on the platform for that (the
 * event's ordering key is the balance) and keeps no buffer of its own; the invariant check
 * compares every statement with the ledger's entries and balances.
 */
@Injectable()
export class RecordStatementHandler {
  private readonly logger = new Logger('Ledger');

  constructor(private readonly statements: StatementRepository) {}

  // 'hold': a change that cannot be recorded holds back the later changes of its balance only
  // (recording them first would make every later line wrong); the other balances go on.
  @OnIntegrationEvent(BalanceChanged, { batch: 500, name: 'ledger.statement', deadLetteredKey: 'hold' })
  async record(events: BalanceChanged[], { manager }: BatchDeliveryContext): Promise<void> {
    const changes = events.map((event) => event.payload);
    const { lines, stale } = appendToStatements(await this.statements.heads(manager, changes), changes);
    await this.statements.insertLines(manager, lines);
    if (stale.length > 0) {
      const [first] = stale;
      this.logger.warn(
        `ledger.statement: left out ${stale.length} balance change(s) at or before their statement's last line, ` +
          `e.g. entry ${first.entrySeq} of ${first.account}/${first.currency} (copied in when the statement table was created, or delivered out of order)`,
      );
    }
  }
}
