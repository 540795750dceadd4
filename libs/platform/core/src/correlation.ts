import { AsyncLocalStorage } from 'node:async_hooks';

/** What follows one request through every module, process and event it causes. */
export interface CorrelationContext {
  correlationId: string;
  /** Id of the message being handled, when the work was caused by an event. */
  causationId?: string;
}

const storage = new AsyncLocalStorage<CorrelationContext>();

/** Runs `work` with the given correlation context visible to everything it calls. */
export function runWithCorrelation<T>(context: CorrelationContext, work: () => T): T {
  return storage.run(context, work);
}

/** The context of the current request or event, if any. */
export function currentCorrelation(): CorrelationContext | undefined {
  return storage.getStore();
}
