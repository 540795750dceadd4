import { Client, type ClientConfig } from 'pg';

/** Told once per connection, the first time it fails; the connection is unusable afterwards. */
export type ConnectionLostListener = (error: Error) => void;

/** pg's message when a query outlives `query_timeout` (the server sent nothing back in time). */
const READ_TIMEOUT_MESSAGE = 'Query read timeout';

/**
 * A pg `Client` class whose connections can never end the process.
 *
 * pg emits 'error' on a client whenever its server connection fails outside a query (a
 * terminated backend, 57P01, arrives between queries). pg-pool listens only while a client is
 * idle in the pool, and TypeORM only from a few ticks after handing it to a query runner, so a
 * client lost while checked out by anyone else, or whose termination arrives in the same TCP
 * read as its start-up (pg-pool hands it over synchronously, mid-parse), emits 'error' with no
 * listener: an uncaught exception. A listener for the client's whole life closes every such
 * gap at the source; whoever uses the dead client gets an error from its next query, and the
 * pool drops it on release because it is no longer queryable.
 *
 * It also retires a connection whose query hit pg's `query_timeout`: the server never answered,
 * so the connection's state is unknown and its late reply would be read as the next query's.
 */
export function guardedClientClass(onLost: ConnectionLostListener): typeof Client {
  return class GuardedClient extends Client {
    private reported = false;

    constructor(config?: string | ClientConfig) {
      super(config);
      this.on('error', (error: Error) => {
        if (this.reported) return;
        this.reported = true;
        onLost(error);
      });
    }

    // Every overload of pg's query() funnels through here: a callback as 2nd or 3rd argument,
    // else a promise; submittables (cursors, streams) keep their own handlers.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    override query(...args: any[]): any {
      const retire = (error: unknown) => this.retireAfterReadTimeout(error);
      const last = typeof args[1] === 'function' ? 1 : typeof args[2] === 'function' ? 2 : -1;
      if (last > 0) {
        const callback = args[last] as (error: unknown, result: unknown) => void;
        args[last] = (error: unknown, result: unknown) => {
          retire(error);
          callback(error, result);
        };
      }
      const result = (super.query as (...queryArgs: unknown[]) => unknown)(...args);
      if (result instanceof Promise) result.then(undefined, retire);
      return result;
    }

    private retireAfterReadTimeout(error: unknown): void {
      if (error instanceof Error && error.message === READ_TIMEOUT_MESSAGE) void this.end().catch(() => undefined);
    }
  };
}
