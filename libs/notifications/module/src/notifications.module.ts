import { Module } from '@nestjs/common';
import { MessagingModule } from '@modulith/messaging';
import { BalanceChangesGateway } from './balance-changes.gateway';
import { ConnectionRegistry } from './connection-registry';
import { ForwardBalanceChangesHandler } from './forward-balance-changes.handler';
import { NOTIFICATIONS_CONFIG, notificationsConfigFromEnv } from './notifications.config';

/**
 * Pushes `BalanceChanged` to WebSocket clients following an account. Owns no schema: state is
 * the connections of this process. Best effort: bounded per connection, drops counted.
 */
@Module({
  imports: [MessagingModule.forModule({ module: 'notifications', schema: 'notifications' })],
  providers: [
    { provide: NOTIFICATIONS_CONFIG, useFactory: () => notificationsConfigFromEnv() },
    ConnectionRegistry,
    BalanceChangesGateway,
    ForwardBalanceChangesHandler,
  ],
  exports: [ConnectionRegistry],
})
export class NotificationsModule {}
