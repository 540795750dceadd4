import type { Logger } from '@nestjs/common';
import { Client, type ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';
import { describeFailure } from '../retries/failure';
import { LOG_CHANNEL, OUTBOX_CHANNEL } from './notify-coalescer';

const RECONNECT_DELAY_MS = 1000;

/**
 * Holds one dedicated connection LISTENing for other processes' outbox commits and log claims (a pooled
 * connection would lose the LISTEN when returned). Losing it is not fatal: the relay keeps
 * polling, and this reconnects, then wakes the relay to catch up on what it missed.
 */
export class OutboxListener {
  private client?: Client;
  private stopped = false;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(
    private readonly connection: ClientConfig,
    /** Called with the channel and payload of each notification (`OUTBOX_CHANNEL` or `LOG_CHANNEL`). */
    private readonly onNotify: (channel: string, payload: string) => void,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    // Current from the start, so a failure while connecting or LISTENing is this client's loss
    // and a late 'error' or 'end' of an earlier client is ignored (never a second reconnection).
    const client = new Client(this.connection);
    this.client = client;
    client.on('notification', (message) => this.onNotify(message.channel, message.payload ?? ''));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    try {
      await client.connect();
      await client.query(`LISTEN ${OUTBOX_CHANNEL}; LISTEN ${LOG_CHANNEL}`);
      if (this.client !== client) return; // stopped, or lost meanwhile
      // Commits and claims made while we were not listening.
      this.onNotify(OUTBOX_CHANNEL, '');
      this.onNotify(LOG_CHANNEL, '');
    } catch (error) {
      this.lost(client, error);
    }
  }

  private lost(client: Client, error: unknown): void {
    if (this.stopped || this.client !== client) return;
    this.client = undefined;
    // The socket may still be open (a protocol error): close it, or it leaks a server connection.
    void client.end().catch(() => undefined);
    this.logger.warn(`LISTEN connection lost (${describeFailure(error).message}); polling until it is back`);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.stopped) void this.connect();
    }, RECONNECT_DELAY_MS);
    this.reconnectTimer.unref();
  }
}

/** Connection settings for the listener, taken from the shared data source's options. */
export function listenerConnection(dataSource: DataSource): ClientConfig {
  const options = dataSource.options as {
    url?: string;
    host?: string;
    port?: number;
    username?: string;
    password?: unknown;
    database?: string;
    ssl?: ClientConfig['ssl'];
    extra?: Pick<ClientConfig, 'connectionTimeoutMillis' | 'keepAlive' | 'keepAliveInitialDelayMillis'>;
  };
  const config: ClientConfig = {
    connectionString: options.url,
    host: options.host,
    port: options.port,
    user: options.username,
    password: typeof options.password === 'string' ? options.password : undefined,
    database: options.database,
    ssl: options.ssl,
    application_name: 'modulith-relay-listener',
    // The pool's bounds on opening a connection and noticing a dead peer, or a reconnection
    // could wait for ever and the relay would stay on polling.
    connectionTimeoutMillis: options.extra?.connectionTimeoutMillis,
    keepAlive: options.extra?.keepAlive,
    keepAliveInitialDelayMillis: options.extra?.keepAliveInitialDelayMillis,
  };
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as ClientConfig;
}
