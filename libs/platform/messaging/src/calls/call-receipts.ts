import { CallDeadlineExceededError } from '@modulith/core';
import type { TransactionHook } from '@modulith/database';
import type { DataSource, EntityManager } from 'typeorm';
import { queryRows } from '../sql/query-rows';

/** A second delivery of a remote command found its receipt: the command was applied already. */
export class AlreadyApplied extends Error {
  constructor(readonly module: string, readonly key: string) {
    super(`remote command ${key} of module ${module} was applied already`);
  }
}

const POLL_MS = 50;

/**
 * Idempotency receipts of remote commands (`messaging.call_receipts`). `hook` is run by
 * `Database.transaction` in the command handler's first transaction: it inserts the receipt
 * before the handler's writes (a second delivery waits there on the unique index while the first
 * runs, then finds it and rolls back with `AlreadyApplied`) and stores the transaction's result
 * before the commit. A delivery that gets its receipt only past the call's `deadline` (it waited
 * for a pool connection, or for a first delivery that then rolled back) rolls back with
 * `CallDeadlineExceededError`: its caller has given up, so it is not applied late.
 */
export class CallReceipts {
  constructor(private readonly dataSource: () => DataSource) {}

  hook(module: string, key: string, deadline: number): TransactionHook & { stored?: string } {
    const hook: TransactionHook & { stored?: string } = {
      async enter(manager: EntityManager) {
        const inserted = await queryRows(
          manager,
          'INSERT INTO messaging.call_receipts (module, idempotency_key) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1 AS inserted',
          [module, key],
        );
        if (inserted.length === 0) throw new AlreadyApplied(module, key);
        if (Date.now() >= deadline) {
          throw new CallDeadlineExceededError(`remote command ${key} of module ${module} reached its transaction past its deadline: not applied`, {
            module,
            requestId: key,
            deadline,
          });
        }
      },
      async leave(manager: EntityManager, result: unknown) {
        const json = storable(result);
        if (json === undefined) return;
        await manager.query('UPDATE messaging.call_receipts SET result = $3::jsonb WHERE module = $1 AND idempotency_key = $2', [module, key, json]);
        hook.stored = json;
      },
    };
    return hook;
  }

  /** After the handler returned: keeps its final result when it differs from what the transaction stored. */
  async record(module: string, key: string, result: unknown, stored: string | undefined): Promise<void> {
    const json = storable(result);
    if (json === undefined || json === stored) return;
    await this.dataSource().query('UPDATE messaging.call_receipts SET result = $3::jsonb WHERE module = $1 AND idempotency_key = $2', [module, key, json]);
  }

  /**
   * The result stored for an applied command, waiting for it until `deadline` (epoch ms) while the
   * first delivery is between its commit and recording its final result. Undefined past it.
   */
  async result(module: string, key: string, deadline: number): Promise<{ result: unknown } | undefined> {
    for (;;) {
      const [row] = await queryRows<{ result: { value?: unknown } | null }>(
        this.dataSource(),
        'SELECT result FROM messaging.call_receipts WHERE module = $1 AND idempotency_key = $2',
        [module, key],
      );
      if (row?.result) return { result: row.result.value };
      if (Date.now() + POLL_MS >= deadline) return undefined;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /** Deletes receipts older than `hours`, a bounded batch at a time; returns how many went. */
  async prune(hours: number, batch = 10_000): Promise<number> {
    let total = 0;
    for (;;) {
      const rows = await queryRows(
        this.dataSource(),
        `DELETE FROM messaging.call_receipts WHERE ctid IN (
           SELECT ctid FROM messaging.call_receipts WHERE applied_at < now() - make_interval(hours => $1) LIMIT $2)
         RETURNING 1`,
        [hours, batch],
      );
      total += rows.length;
      if (rows.length < batch) return total;
    }
  }
}

/** The result as the receipt keeps it, `{"value": …}` (`{}` for a command without a result); undefined when JSON cannot hold it. */
function storable(result: unknown): string | undefined {
  try {
    return JSON.stringify({ value: result });
  } catch {
    return undefined;
  }
}
