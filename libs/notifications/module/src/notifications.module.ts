import { Module } from '@nestjs/common';
import { CqrsModule } from '@nestjs/cqrs';
import { MessagingModule } from '@modulith/messaging';
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
@Module({
  imports: [CqrsModule, MessagingModule.forModule({ module: 'notifications', schema: 'notifications' })],
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
