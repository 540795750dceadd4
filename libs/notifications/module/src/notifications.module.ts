import { Module } from '@nestjs/common';
import { defineModule, MessagingModule } from '@modulith/messaging';
import { BalanceChangesGateway } from './balance-changes.gateway';
import { BalanceSnapshotReader } from './balance-snapshot.reader';
import { BalanceSubscriptions } from './balance-subscriptions';
import { ConnectionRegistry } from './connection-registry';
import { ForwardBalanceChangesHandler } from './forward-balance-changes.handler';
import { NOTIFICATIONS_CONFIG, notificationsConfigFromEnv } from './notifications.config';

/**
 * Pushes `BalanceChanged` to WebSocket clients following an account, after the account's current
 * balances (read with the ledger's `GetBalanceQuery`). Owns no schema: state is the connections
 * of this process. Best effort: bounded per connection, drops counted.
 */
// No `CqrsModule` import: a plain import makes a second set of buses, on which the platform binds
// no forwarding handler, so GetBalanceQuery would fail once the ledger runs elsewhere. The
// composition root's `CqrsModule.forRoot()` is global.
@Module({
  imports: [MessagingModule.forModule(defineModule({ name: 'notifications', schema: false }))],
  providers: [
    { provide: NOTIFICATIONS_CONFIG, useFactory: () => notificationsConfigFromEnv() },
    ConnectionRegistry,
    BalanceSnapshotReader,
    BalanceSubscriptions,
    BalanceChangesGateway,
    ForwardBalanceChangesHandler,
  ],
  exports: [ConnectionRegistry],
})
export class NotificationsModule {}
