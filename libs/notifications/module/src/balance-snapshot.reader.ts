import { Inject, Injectable } from '@nestjs/common';
import { QueryBus } from '@nestjs/cqrs';
import { ModulithError, withCallDeadlineAt } from '@modulith/core';
import { GetBalanceQuery, type BalanceAtEntry } from '@modulith/ledger/contracts';
import { SnapshotUnavailableError } from './notifications.errors';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from './notifications.config';
import { ReadPermits } from './read-permits';
import type { BalanceSnapshot } from './snapshot-fence';

const ENTRY_SEQ = /^[1-9][0-9]*$/;

/**
 * Reads accounts' current balances through the ledger's public `GetBalanceQuery` (in this
 * process or, when the ledger runs elsewhere, wherever the bus sends it), one query per account,
 * at most `snapshotConcurrency` at once in this process.
 */
@Injectable()
export class BalanceSnapshotReader {
  private readonly permits: ReadPermits;

  constructor(
    private readonly queries: QueryBus,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {
    this.permits = new ReadPermits(config.snapshotConcurrency);
  }

  /**
   * Every account's balances (an unknown account has none), by account; all or nothing.
   * @param deadline epoch ms; waiting for a permit counts against it.
   * @throws SnapshotUnavailableError past the deadline, when a query fails, or when a balance
   *   comes without its `entrySeq`.
   */
  async read(accounts: readonly string[], deadline: number): Promise<Map<string, BalanceSnapshot[]>> {
    const snapshots = new Map<string, BalanceSnapshot[]>();
    let next = 0;
    let failed = false;
    const worker = async () => {
      while (next < accounts.length && !failed) {
        const account = accounts[next++];
        try {
          snapshots.set(account, await this.readOne(account, accounts, deadline));
        } catch (error) {
          failed = true;
          throw error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.config.snapshotConcurrency, accounts.length) }, worker));
    return snapshots;
  }

  private async readOne(account: string, accounts: readonly string[], deadline: number): Promise<BalanceSnapshot[]> {
    const unavailable = (reason: string, cause?: unknown) =>
      new SnapshotUnavailableError(`current balances unavailable: ${reason}`, { accounts: [...accounts], reason }, { cause });
    const release = await this.permits.acquire(deadline);
    if (!release) throw unavailable(`no read started within ${this.config.snapshotTimeoutMs} ms (snapshotTimeoutMs)`);
    // The permit is held until the query itself ends, not just until we stop waiting for it:
    // queries that outlive their deadline still count against the concurrency.
    // The deadline travels with the call when the ledger runs elsewhere (a plain bus call ignores it).
    const query = withCallDeadlineAt(deadline, () => this.queries.execute(new GetBalanceQuery(account))).finally(release);
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(`the ledger did not answer within ${this.config.snapshotTimeoutMs} ms (snapshotTimeoutMs)`)), Math.max(0, deadline - Date.now()));
    });
    query.catch(() => undefined); // a late failure after the deadline is not unhandled
    try {
      const result = await Promise.race([query, expired]).catch((error: unknown) => {
        if (error instanceof SnapshotUnavailableError) throw error;
        // A typed error's message is meant for callers; anything else stays in the log (see the gateway).
        throw unavailable(error instanceof ModulithError ? `GetBalanceQuery failed: ${error.message}` : 'GetBalanceQuery failed', error);
      });
      // Checked, not trusted: over Redis the answer comes from whatever ledger replica runs, maybe an older build.
      return result.balances.map((balance: BalanceAtEntry) => {
        if (typeof balance.entrySeq !== 'string' || !ENTRY_SEQ.test(balance.entrySeq)) {
          throw unavailable(`GetBalanceQuery answered ${balance.currency} of ${account} without an entrySeq`);
        }
        return { account, currency: balance.currency, balance: balance.balance, entrySeq: balance.entrySeq };
      });
    } finally {
      clearTimeout(timer);
    }
  }
}
