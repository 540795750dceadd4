import { Inject, Logger } from '@nestjs/common';
import { WebSocketGateway, type OnGatewayConnection, type OnGatewayDisconnect } from '@nestjs/websockets';
import type { WebSocket } from 'ws';
import { ValidationError } from '@modulith/core';
import { parseClientMessage } from './client-message.rules';
import { ConnectionRegistry } from './connection-registry';
import { NOTIFICATIONS_CONFIG, type NotificationsConfig } from './notifications.config';
import { SubscriberConnection } from './subscriber-connection';

/**
 * `ws://host/ws`: a client sends `{"action":"subscribe","accounts":["acc-1"]}` and then receives
 * `{"type":"balance-changed", ...}` for those accounts. Best effort: see SubscriberConnection.
 */
// maxPayload: client frames are tiny commands; the ws default (100 MiB) would let one client make us buffer that much.
@WebSocketGateway({ path: '/ws', maxPayload: 64 * 1024 })
export class BalanceChangesGateway implements OnGatewayConnection, OnGatewayDisconnect {
  private readonly logger = new Logger('Notifications');
  private readonly connections = new WeakMap<WebSocket, SubscriberConnection>();

  constructor(
    private readonly registry: ConnectionRegistry,
    @Inject(NOTIFICATIONS_CONFIG) private readonly config: NotificationsConfig,
  ) {}

  handleConnection(socket: WebSocket): void {
    const connection = new SubscriberConnection(socket, this.config.queueSize, this.config.maxBufferedBytes, () => this.registry.countDrop());
    this.connections.set(socket, connection);
    this.registry.add(connection);
    // Raw frames rather than Nest's message routing: the protocol is two commands, parsed strictly.
    socket.on('message', (data) => this.onMessage(socket, connection, data.toString()));
  }

  handleDisconnect(socket: WebSocket): void {
    const connection = this.connections.get(socket);
    if (connection) this.registry.remove(connection);
  }

  private onMessage(socket: WebSocket, connection: SubscriberConnection, raw: string): void {
    try {
      const command = parseClientMessage(raw, this.config.maxSubscriptions);
      if (command.action === 'subscribe') {
        if (connection.accounts.size + command.accounts.length > this.config.maxSubscriptions) {
          throw new ValidationError('accounts', `a connection may follow at most ${this.config.maxSubscriptions} accounts`);
        }
        for (const account of command.accounts) this.registry.follow(connection, account);
      } else {
        for (const account of command.accounts) this.registry.unfollow(connection, account);
      }
      socket.send(JSON.stringify({ type: `${command.action}d`, accounts: [...connection.accounts].sort() }));
    } catch (error) {
      if (!(error instanceof ValidationError)) this.logger.error(`client message failed: ${(error as Error).message}`);
      const message = error instanceof ValidationError ? error.message : 'internal error';
      socket.send(JSON.stringify({ type: 'error', message }));
    }
  }
}
