import { Injectable } from '@nestjs/common';
import { BalanceChanged } from '@modulith/ledger/contracts';
import { OnIntegrationEvent } from '@modulith/messaging';
import { ConnectionRegistry } from './connection-registry';

/** Hands each balance change to the connections following its account (every instance sees every event). */
@Injectable()
export class ForwardBalanceChangesHandler {
  constructor(private readonly registry: ConnectionRegistry) {}

  @OnIntegrationEvent(BalanceChanged, { delivery: 'best-effort', name: 'notifications.forward-balance-changes' })
  forward(event: BalanceChanged): void {
    this.registry.publish(event.payload.account, JSON.stringify({ type: 'balance-changed', ...event.payload }));
  }
}
