import { Injectable } from '@nestjs/common';
import type { BalanceChangedPayload } from '@modulith/ledger/contracts';
import type { BalanceSnapshot } from './snapshot-fence';
import { changeFrame, type SubscriberConnection } from './subscriber-connection';

/** Figures for the metrics endpoint and the ops console. */
export interface NotificationsStats {
  connections: number;
  subscriptions: number;
  queued: number;
  dropped: number;
  delivered: number;
}

/** Who follows which account, in this process. */
@Injectable()
export class ConnectionRegistry {
  private readonly byAccount = new Map<string, Set<SubscriberConnection>>();
  private readonly connections = new Set<SubscriberConnection>();
  private droppedTotal = 0;
  private deliveredTotal = 0;

  add(connection: SubscriberConnection): void {
    this.connections.add(connection);
  }

  remove(connection: SubscriberConnection): void {
    for (const account of connection.accounts) this.unfollow(connection, account);
    this.connections.delete(connection);
    connection.close();
  }

  /** From now on `account`'s changes reach `connection`, held until `release` hands it the account's snapshot. */
  follow(connection: SubscriberConnection, account: string): void {
    connection.fence.hold(account);
    connection.accounts.add(account);
    const followers = this.byAccount.get(account) ?? new Set<SubscriberConnection>();
    followers.add(connection);
    this.byAccount.set(account, followers);
  }

  unfollow(connection: SubscriberConnection, account: string): void {
    connection.fence.forget(account);
    connection.accounts.delete(account);
    const followers = this.byAccount.get(account);
    followers?.delete(connection);
    if (followers?.size === 0) this.byAccount.delete(account);
  }

  /** Hands `change` to every follower of its account (queued, or held while a snapshot is read); never waits on a socket. */
  publish(change: BalanceChangedPayload): void {
    const followers = this.byAccount.get(change.account);
    if (!followers) return;
    for (const connection of followers) if (connection.offer(change)) this.deliveredTotal += 1;
  }

  /**
   * Ends holding `account` for `connection`: queues the held changes newer than `snapshot`. Call
   * it in the same tick as sending the snapshot itself, right after it, so nothing comes between.
   */
  release(connection: SubscriberConnection, account: string, snapshot: readonly BalanceSnapshot[]): void {
    for (const change of connection.fence.release(account, snapshot)) {
      connection.push(changeFrame(change));
      this.deliveredTotal += 1;
    }
  }

  countDrop(): void {
    this.droppedTotal += 1;
  }

  stats(): NotificationsStats {
    let queued = 0;
    let subscriptions = 0;
    for (const connection of this.connections) {
      queued += connection.queued;
      subscriptions += connection.accounts.size;
    }
    return { connections: this.connections.size, subscriptions, queued, dropped: this.droppedTotal, delivered: this.deliveredTotal };
  }
}
