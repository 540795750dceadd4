import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager } from 'typeorm';

/**
 * Work to run inside the first `Database.transaction` started in a scope, with that
 * transaction's manager: `enter` before the transaction's own work (throw to roll it back),
 * `leave` after it and before the commit, with its result. The messaging platform uses it to
 * record a remote command's idempotency receipt in the same transaction as the handler's writes.
 */
export interface TransactionHook {
  enter(manager: EntityManager): Promise<void>;
  leave?(manager: EntityManager, result: unknown): Promise<void>;
}

interface HookSlot {
  hook?: TransactionHook;
}

const storage = new AsyncLocalStorage<HookSlot>();

/**
 * Runs `work` so that the first `Database.transaction` it starts (in any module) also runs
 * `hook`; later transactions in the scope do not. Returns what `work` returns. Tells afterwards
 * whether the hook ran through `hookRan()` of the returned scope.
 */
export function withTransactionHook<T>(hook: TransactionHook, work: () => Promise<T>): { result: Promise<T>; hookRan: () => boolean } {
  const slot: HookSlot = { hook };
  return { result: storage.run(slot, work), hookRan: () => slot.hook === undefined };
}

/** Takes the scope's hook for the transaction starting now: only the first transaction gets it. */
export function takeTransactionHook(): TransactionHook | undefined {
  const slot = storage.getStore();
  const hook = slot?.hook;
  if (slot) slot.hook = undefined;
  return hook;
}
