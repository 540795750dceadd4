import { Injectable } from '@nestjs/common';
import { BalanceChanged } from '@modulith/ledger/contracts';
import { OnIntegrationEvent } from '@modulith/messaging';
import { ConnectionRegistry } from './connection-registry';

/**
 * Hands each balance change to the connections following its account (every instance sees every
 * event), in the order it arrives. That order is the platform's: `BalanceChanged` is keyed by
 * account and currency, and best-effort subscribers receive events in relay order, which is each
 * key's commit order (`entrySeq` ascending). So there is no reordering buffer, and nothing waits
 * for a missing change. A connection holds an account's changes only while that account's
 * snapshot is read, and skips those its client already has (see SnapshotFence).
 */
@Injectable()
export class ForwardBalanceChangesHandler {
  constructor(private readonly registry: ConnectionRegistry) {}

  @OnIntegrationEvent(BalanceChanged, { delivery: 'best-effort', name: 'notifications.forward-balance-changes' })
  forward(event: BalanceChanged): void {
    this.registry.publish(event.payload);
  }
}
