import { Injectable } from '@nestjs/common';

import type { SubscriberConnection } from './subscriber-connection';

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

  follow(connection: SubscriberConnection, account: string): void {
    connection.accounts.add(account);
    const followers = this.byAccount.get(account) ?? new Set<SubscriberConnection>();
    followers.add(connection);
    this.byAccount.set(account, followers);
  }

  unfollow(connection: SubscriberConnection, account: string): void {
    connection.accounts.delete(account);
    const followers = this.byAccount.get(account);
    followers?.delete(connection);
    if (followers?.size === 0) this.byAccount.delete(account);
  }

  /** Queues `message` for every follower of `account`; never waits on a socket. */
  publish(account: string, message: string): void {
    const followers = this.byAccount.get(account);
    if (!followers) return;
    for (const connection of followers) {
      connection.push(message);
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
