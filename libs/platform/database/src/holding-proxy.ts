import { connect, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of a real PostgreSQL for fault tests. While `hold` is on, what the server
 * sends on a new connection is kept back until the server closes it, then delivered in one
 * write: the client reads its start-up reply and its termination notice in the same read, the
 * timing that once let a pooled connection crash the process.
 */
export class HoldingProxy {
  /** Connections accepted while true have their server-to-client bytes held back. */
  hold = false;
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly upstream: { host: string; port: number },
    readonly port: number,
    server: Server,
  ) {
    this.server = server;
  }

  static async start(upstream: { host: string; port: number }): Promise<HoldingProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const proxy = new HoldingProxy(upstream, (server.address() as { port: number }).port, server);
    server.on('connection', (client) => proxy.relay(client));
    return proxy;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: Socket): void {
    const server = connect(this.upstream.port, this.upstream.host);
    const held: Buffer[] | undefined = this.hold ? [] : undefined;
    for (const socket of [client, server]) {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('error', () => (socket === client ? server : client).destroy());
    }
    client.on('data', (chunk) => server.write(chunk));
    client.on('end', () => server.end());
    server.on('data', (chunk) => (held ? held.push(chunk) : client.write(chunk)));
    server.on('end', () => {
      if (held) client.write(Buffer.concat(held));
      client.end();
    });
  }
}
