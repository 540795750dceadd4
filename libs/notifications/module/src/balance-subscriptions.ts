import { Inject, Injectable } from '@nestjs/common';
import { ValidationError } from '@modulith/core';
import { BalanceSnapshotReader } from './balance-snapshot.reader';
import { ConnectionRegistry } from './connection-registry';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from './notifications.config';
import type { BalanceSnapshot } from './snapshot-fence';
import type { SubscriberConnection } from './subscriber-connection';

/**
 * `subscribe`: the current balances of the accounts first, then their live changes after them,
 * with no gap and no overlap by `entrySeq` per account and currency (see SnapshotFence).
 */
@Injectable()
export class BalanceSubscriptions {
  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly snapshots: BalanceSnapshotReader,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {}

  /**
   * Follows the accounts `connection` does not follow yet (their changes are held from now on),
   * reads their balances, then in one tick hands them to `answer` and queues the held changes
   * newer than them. Accounts already followed are left as they are (their stream runs).
   * @throws ValidationError (`accounts`) past the `maxSubscriptions` option;
   *   SnapshotUnavailableError when the balances could not be read in time: nothing is followed.
   */
  async subscribe(connection: SubscriberConnection, accounts: readonly string[], answer: (balances: BalanceSnapshot[]) => void): Promise<void> {
    const fresh = [...new Set(accounts)].filter((account) => !connection.accounts.has(account));
    if (connection.accounts.size + fresh.length > this.config.maxSubscriptions) {
      throw new ValidationError('accounts', `a connection may follow at most ${this.config.maxSubscriptions} accounts`);
    }
    for (const account of fresh) this.registry.follow(connection, account);
    let snapshots: Map<string, BalanceSnapshot[]>;
    try {
      snapshots = await this.readJoinable(connection, fresh, Date.now() + this.config.snapshotTimeoutMs);
    } catch (error) {
      for (const account of fresh) this.registry.unfollow(connection, account);
      throw error;
    }
    // Gone meanwhile: the registry already forgot the connection.
    if (connection.closed) return;
    answer(fresh.flatMap((account) => snapshots.get(account) ?? []));
    for (const account of fresh) this.registry.release(connection, account, snapshots.get(account) ?? []);
  }

  /** Reads the snapshots, and again for accounts whose held changes overflowed meanwhile, until none did (or the deadline passes). */
  private async readJoinable(connection: SubscriberConnection, accounts: string[], deadline: number): Promise<Map<string, BalanceSnapshot[]>> {
    const snapshots = await this.snapshots.read(accounts, deadline);
    for (;;) {
      const stale = accounts.filter((account) => connection.fence.needsReread(account));
      if (stale.length === 0 || connection.closed) return snapshots;
      for (const account of stale) connection.fence.rereading(account);
      for (const [account, balances] of await this.snapshots.read(stale, deadline)) snapshots.set(account, balances);
    }
  }
}
