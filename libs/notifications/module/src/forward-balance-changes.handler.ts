import { Injectable } from '@nestjs/common';
import { BalanceChanged } from '@modulith/ledger/contracts';
import { OnIntegrationEvent } from '@modulith/messaging';
import { ConnectionRegistry } from './connection-registry';

/**
 * Hands each balance change to the connections following its account (every instance sees every
 * event), at once and in the order it arrives. That order is the platform's: `BalanceChanged` is
 * keyed by account and currency, and best-effort subscribers receive events in relay order, which
 * is each key's commit order (`entrySeq` ascending). So there is no reordering buffer here, and
 * nothing waits for a missing change; the only queues are the bounded per-connection ones.
 */
@Injectable()
export class ForwardBalanceChangesHandler {
  constructor(private readonly registry: ConnectionRegistry) {}

  @OnIntegrationEvent(BalanceChanged, { delivery: 'best-effort', name: 'notifications.forward-balance-changes' })
  forward(event: BalanceChanged): void {
    this.registry.publish(event.payload.account, JSON.stringify({ type: 'balance-changed', ...event.payload }));
  }
}
