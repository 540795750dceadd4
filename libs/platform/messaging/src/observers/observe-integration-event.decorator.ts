import 'reflect-metadata';
import { assertEventClass, type IntegrationEvent, type IntegrationEventClass } from '../events/integration-event';

export const OBSERVATION_METADATA = Symbol('modulith:integration-event-observation');
// Marks classes that observe, so discovery scans only their methods.
export const OBSERVER_CLASS_METADATA = Symbol('modulith:integration-event-observer');

type Observation<E> = (event: E) => void | Promise<void>;

/**
 * Observes an integration event in the process whose relay hands it on: after the transport took
 * it, best effort (no inbox, no retry), through a bounded queue per observer
 * (`OBSERVER_QUEUE_CAPACITY`, drop-oldest, counted as `dropped` under `observer:<Class>`) with
 * at most `OBSERVER_CONCURRENCY` calls at once. A throwing call is logged and counted as failed.
 * For an effect that must happen, use `@OnIntegrationEvent`; for every instance's copy, its
 * `{ delivery: 'best-effort' }`.
 *
 * ```ts
 * @ObserveIntegrationEvent(TransferIngested)
 * log(event: TransferIngested): void { ... }
 * ```
 */
export function ObserveIntegrationEvent<E extends IntegrationEvent>(
  eventClass: IntegrationEventClass<E>,
): <M extends Observation<E>>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void {
  assertEventClass(eventClass);
  return (target, key, descriptor) => {
    if (typeof descriptor.value !== 'function') throw new TypeError(`@ObserveIntegrationEvent must decorate a method, not ${String(key)}`);
    Reflect.defineMetadata(OBSERVATION_METADATA, eventClass, descriptor.value);
    Reflect.defineMetadata(OBSERVER_CLASS_METADATA, true, target.constructor);
  };
}
