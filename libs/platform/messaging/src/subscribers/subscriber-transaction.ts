import type { PoolClient } from 'pg';
import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { AbortedTransactionError, HandlerTimeoutError, InfrastructureFailure } from '../messaging.errors';
import { describeFailure, isInfrastructureFailure } from '../retries/failure';
import { releaseRunner } from '../sql/release-runner';

/** How one attempt ended: its work committed, or the handler failed (and nothing was written). */
export type TransactionOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown; timedOut?: boolean };

/**
 * Statements (no parameters) sent with COMMIT in one round trip. If they fail, COMMIT never
 * runs: the transaction rolls back and the attempt fails with `refused(error)`.
 */
export interface CommitTail {
  sql: string;
  /** What the failure means to the caller (e.g. a repeat refused by the inbox). */
  refused(error: unknown): unknown;
}

/** What a subscriber's transaction runs: `prepare` is the platform's part, `handle` the handler's. */
export interface SubscriberWork<P, T> {
  /** Platform statements before the handler (the inbox insert). */
  prepare(manager: EntityManager, client: PoolClient): Promise<P>;
  /** The handler's part; bounded by `timeoutMs`. */
  handle(prepared: P, manager: EntityManager): Promise<T>;
  /** Platform statements after the handler, before COMMIT (inbox rows, key progress); may hand some to send with COMMIT. */
  finish?(prepared: P, client: PoolClient): Promise<CommitTail | void>;
  timeoutMs: number;
  /** Names the handler in a timeout error. */
  subscriber: string;
  /** Called once the transaction committed (events the handler appended can now be relayed). */
  committed?(runner: QueryRunner): void;
}

/**
 * Runs a subscriber's attempt in one transaction on a pooled connection and says whose failure
 * it was. Only a failure of the transaction itself counts as infrastructure (thrown as
 * `InfrastructureFailure`, no attempt counted): the connection could not be had or broke, or the
 * platform's own statements hit a lost connection. Anything the handler throws is the
 * handler's failure (returned), even an error that looks like a connection error (its own
 * outbound call), as long as its transaction could still be rolled back. A handler that runs
 * past `timeoutMs` fails with `HandlerTimeoutError` and its connection is destroyed rather than
 * returned, which ends whatever it still runs there. A handler that swallowed a failed statement
 * (transaction aborted) fails with `AbortedTransactionError` instead of a silent rollback.
 */
export async function runSubscriberTransaction<P, T>(dataSource: DataSource, work: SubscriberWork<P, T>): Promise<TransactionOutcome<T>> {
  const runner = dataSource.createQueryRunner();
  let broken: Error | undefined;
  try {
    let client: PoolClient | undefined;
    let prepared: P;
    try {
      client = (await runner.connect()) as PoolClient;
      await runner.startTransaction();
      prepared = await work.prepare(runner.manager, client);
    } catch (error) {
      const open = client;
      return await platformFailure(error, open && runner.isTransactionActive ? () => rollbackAll(open) : undefined, (cause) => (broken = cause));
    }
    // Every rollback below ends the whole transaction on the driver connection, as COMMIT does:
    // TypeORM's rollbackTransaction only rolls back to a savepoint while the handler has nested
    // transactions open (its `manager.transaction` still in flight, a `startTransaction` never
    // finished), which gave the connection back to the pool inside the transaction (the next
    // BEGIN joined it, its COMMIT committed the refused attempt's effect) or failed on a savepoint
    // a sibling had removed (a handler failure retried for ever as an outage).
    const connection = client;

    let settled: T | typeof TIMED_OUT;
    const deadline = timeout(work.timeoutMs);
    try {
      settled = await Promise.race([guarded(work.handle(prepared, runner.manager)), deadline.expired]).finally(deadline.clear);
    } catch (error) {
      try {
        await rollbackAll(connection);
      } catch (rollbackError) {
        broken = rollbackError as Error;
        throw new InfrastructureFailure(`the transaction of ${work.subscriber} broke: ${describeFailure(rollbackError).message}`, {
          subscriber: work.subscriber,
          handlerError: describeFailure(error).message,
        }, { cause: rollbackError });
      }
      return { ok: false, error };
    }
    if (settled === TIMED_OUT) {
      // Built only now: an error captures a stack, and one per attempt was 1.5% of a busy app's CPU.
      const error = new HandlerTimeoutError(`${work.subscriber} did not finish within ${work.timeoutMs} ms`, { subscriber: work.subscriber, timeoutMs: work.timeoutMs });
      broken = error;
      return { ok: false, error, timedOut: true };
    }
    const value = settled;

    let tail: CommitTail | void = undefined;
    if (work.finish) {
      try {
        tail = await work.finish(prepared, connection);
      } catch (error) {
        // The handler swallowed a failed statement: the platform's own writes after it are refused.
        const failure = (error as { code?: unknown } | null)?.code === IN_FAILED_TRANSACTION ? abortedBy(work.subscriber) : error;
        return await platformFailure(failure, () => rollbackAll(connection), (cause) => (broken = cause));
      }
    }

    let committed: { command: string };
    try {
      // On the driver connection rather than TypeORM's commitTransaction: PostgreSQL answers
      // COMMIT of an aborted transaction with ROLLBACK, and only the command tag tells. With a
      // tail, one simple-protocol query: a failing statement stops the rest, COMMIT included.
      const results: { command: string } | { command: string }[] = await connection.query(tail ? `${tail.sql};\nCOMMIT` : 'COMMIT');
      committed = Array.isArray(results) ? results[results.length - 1] : results;
    } catch (error) {
      if (!tail) return await platformFailure(error, undefined, (cause) => (broken = cause));
      const failure = (error as { code?: unknown } | null)?.code === IN_FAILED_TRANSACTION ? abortedBy(work.subscriber) : isInfrastructureFailure(error) ? error : tail.refused(error);
      // Not committed: roll back what the failed tail left open (a no-op, with a warning, if COMMIT itself failed).
      return await platformFailure(failure, () => rollbackAll(connection), (cause) => (broken = cause));
    }
    if (committed.command !== 'COMMIT') return { ok: false, error: abortedBy(work.subscriber) };
    work.committed?.(runner);
    return { ok: true, value };
  } finally {
    // With an error, pg's pool destroys the connection instead of reusing it.
    await releaseRunner(runner, broken);
  }
}

/** Ends the transaction, whatever savepoints the handler left (a warning only if none is open any more). */
async function rollbackAll(client: PoolClient): Promise<void> {
  await client.query('ROLLBACK');
}

/** SQLSTATE of a statement sent to a transaction that an earlier failed statement aborted. */
const IN_FAILED_TRANSACTION = '25P02';

function abortedBy(subscriber: string): AbortedTransactionError {
  return new AbortedTransactionError(`${subscriber} returned after a statement of its transaction had failed; nothing was committed`, { subscriber });
}

/**
 * A statement of the platform's own (connect, BEGIN, inbox, COMMIT) failed. A lost connection
 * is infrastructure; anything else (a constraint at COMMIT, a missing inbox table, a lock
 * timeout) is a failure of this subscriber's delivery, so it is retried and can be
 * dead-lettered instead of stalling every other subscriber.
 */
async function platformFailure<T>(
  error: unknown,
  rollback: (() => Promise<void>) | undefined,
  markBroken: (cause: Error) => void,
): Promise<TransactionOutcome<T>> {
  if (isInfrastructureFailure(error)) {
    markBroken(error as Error);
    throw new InfrastructureFailure(`database unavailable: ${describeFailure(error).message}`, {}, { cause: error });
  }
  if (rollback) {
    try {
      await rollback();
    } catch (rollbackError) {
      markBroken(rollbackError as Error);
      throw new InfrastructureFailure(`database unavailable: ${describeFailure(rollbackError).message}`, {}, { cause: rollbackError });
    }
  }
  return { ok: false, error };
}

/** What `timeout`'s `expired` resolves to: no value a handler can return (the symbol is not exported). */
const TIMED_OUT: unique symbol = Symbol('handler timed out');

/**
 * A timer that resolves `expired` with `TIMED_OUT` after `timeoutMs`, unless cleared first. It
 * resolves rather than rejects, so a timeout is told from whatever the handler throws (even
 * `undefined` or a revoked Proxy) without comparing thrown values.
 */
function timeout(timeoutMs: number): { expired: Promise<typeof TIMED_OUT>; clear(): void } {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
    // Never what keeps a process alive: an app that closed with a handler abandoned mid-call exits.
    timer.unref();
  });
  return { expired, clear: () => clearTimeout(timer) };
}

/** The handler's promise, with a late rejection (after its timeout) kept from going unhandled. */
function guarded<T>(work: Promise<T>): Promise<T> {
  work.catch(() => undefined);
  return work;
}
