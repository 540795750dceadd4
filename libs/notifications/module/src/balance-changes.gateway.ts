import { Inject, Logger } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { ValidationError } from '@modulith/core';
import { BalanceSubscriptions } from './balance-subscriptions';
import { parseClientMessage } from './client-message.rules';
import { ConnectionRegistry } from './connection-registry';
import { SnapshotUnavailableError } from './notifications.errors';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from './notifications.config';
import { SerialCommands } from './serial-commands';
import { SubscriberConnection } from './subscriber-connection';

/**
 * `ws://host/ws`: a client sends `{"action":"subscribe","accounts":["acc-1"]}`, receives
 * `{"type":"subscribed","accounts":[...],"balances":[{account,currency,balance,entrySeq}]}` with
 * the current balances of the accounts it newly follows, then `{"type":"balance-changed", ...}`
 * for the changes after them. Commands are answered one at a time, in order. Best effort: see
 * SubscriberConnection.
 */
// maxPayload: client frames are tiny commands; the ws default (100 MiB) would let one client make us buffer that much.
@WebSocketGateway({ path: '/ws', maxPayload: 64 * 1024 })
export class BalanceChangesGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('Notifications');
  private readonly connections = new WeakMap<WebSocket, SubscriberConnection>();

  constructor(
    private readonly registry: ConnectionRegistry,
    private readonly subscriptions: BalanceSubscriptions,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {}

  handleConnection(socket: WebSocket): void {
    const { queueSize, maxBufferedBytes, snapshotBufferSize, maxPendingCommands } = this.config;
    const connection = new SubscriberConnection(socket, queueSize, maxBufferedBytes, () => this.registry.countDrop(), snapshotBufferSize);
    const commands = new SerialCommands(maxPendingCommands);
    this.connections.set(socket, connection);
    this.registry.add(connection);
    // Raw frames rather than Nest's message routing: the protocol is two commands, parsed strictly.
    socket.on('message', (data) => {
      if (!commands.run(() => this.onMessage(connection, data.toString()))) {
        connection.answer(JSON.stringify({ type: 'error', message: `message: more than ${maxPendingCommands} commands wait for their answer; wait for one` }));
      }
    });
  }

  handleDisconnect(socket: WebSocket): void {
    const connection = this.connections.get(socket);
    if (connection) this.registry.remove(connection);
  }

  private async onMessage(connection: SubscriberConnection, raw: string): Promise<void> {
    try {
      const command = parseClientMessage(raw, this.config.maxSubscriptions);
      if (command.action === 'subscribe') {
        await this.subscriptions.subscribe(connection, command.accounts, (balances) =>
          connection.answer(JSON.stringify({ type: 'subscribed', accounts: [...connection.accounts].sort(), balances })),
        );
      } else {
        for (const account of command.accounts) this.registry.unfollow(connection, account);
        connection.answer(JSON.stringify({ type: 'unsubscribed', accounts: [...connection.accounts].sort() }));
      }
    } catch (error) {
      connection.answer(JSON.stringify(this.errorFrame(error)));
    }
  }

  private errorFrame(error: unknown): { type: 'error'; message: string; code?: string } {
    if (error instanceof ValidationError) return { type: 'error', message: error.message };
    if (error instanceof SnapshotUnavailableError) {
      const accounts = (error.context['accounts'] as string[] | undefined) ?? [];
      const cause = error.cause instanceof Error ? ` (${error.cause.name}: ${error.cause.message})` : '';
      this.logger.warn(`subscribe of ${accounts.length} account(s) (${accounts.slice(0, 3).join(', ')}${accounts.length > 3 ? ', …' : ''}) refused [${error.code}]: ${error.message}${cause}`);
      return { type: 'error', code: error.code, message: `accounts: ${error.message}; nothing subscribed, try again` };
    }
    this.logger.error(`client message failed: ${(error as Error).message}`, (error as Error).stack);
    return { type: 'error', message: 'internal error' };
  }
}
