import 'reflect-metadata';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../events/event-envelope';
import { assertEventClass, type IntegrationEvent, type IntegrationEventClass } from '../events/integration-event';

/** Given to a single-event handler: its transaction and the event's envelope. */
export interface DeliveryContext {
  /** The transaction that also records the event in the inbox: write the effect through it. */
  readonly manager: EntityManager;
  readonly envelope: EventEnvelope;
}

/** Given to a batch handler: its transaction and the envelopes, parallel to the events. */
export interface BatchDeliveryContext {
  readonly manager: EntityManager;
  readonly envelopes: readonly EventEnvelope[];
}

/** Given to a best-effort handler: no transaction, no inbox, no retry. */
export interface BestEffortContext {
  readonly envelope: EventEnvelope;
}

export interface SubscribeOptions {
  /**
   * The subscriber's name, unique in the app, e.g. `ledger.apply-transfers`. Retry and
   * dead-letter rows and inbox rows are kept under it, so pin it to survive renames of the class
   * or method. Default: `<module>.<Class>.<method>`.
   */
  name?: string;
  /**
   * Durable subscribers: longest one call may take, in ms (default `HANDLER_TIMEOUT_MS`). Past it
   * the attempt counts as failed (retried, then dead-lettered) and its transaction is abandoned
   * with its connection, so a hung handler holds back nobody.
   */
  timeoutMs?: number;
  /**
   * Durable subscribers of keyed events: what a dead-lettered event does to the later events of
   * its ordering key for this subscriber. `'hold'` (default): they wait until the dead letter is
   * re-driven and handled, so the key's order is never broken (the key shows in
   * `modulith_held_events` and `modulith_held_keys`). `'release'`: they go on at once; re-driving the dead
   * letter later applies it after them, out of order.
   */
  deadLetteredKey?: 'hold' | 'release';
  /**
   * Durable subscribers: most attempts of this subscriber in flight at once, i.e. partitions a
   * delivery is split into by ordering key (default, and at most, `RELAY_CONCURRENCY`). Set 1 for
   * a handler that aggregates unordered events into a few shared rows (totals, balances, hourly
   * buckets): two attempts at once would only wait on each other's row locks.
   */
  concurrency?: number;
}
export interface BatchSubscribeOptions extends SubscribeOptions {
  /** Most events per call; each call is one transaction with one inbox insert. */
  batch: number;
}
export interface BestEffortSubscribeOptions extends SubscribeOptions {
  delivery: 'best-effort';
}

type Awaitable = void | Promise<void>;
// Generic in the method so its type is checked against the handler shape (covariantly: a
// method may ignore the context, or return void or a promise).
type MethodDecorator<H> = <M extends H>(target: object, key: string | symbol, descriptor: TypedPropertyDescriptor<M>) => void;

/** What the decorator records on a method, read back by the subscriber registry. */
export interface SubscriptionMetadata {
  eventClass: IntegrationEventClass;
  mode: 'single' | 'batch' | 'best-effort';
  batch: number;
  name?: string;
  timeoutMs?: number;
  deadLetteredKey: 'hold' | 'release';
  concurrency?: number;
}

export const SUBSCRIPTION_METADATA = Symbol('modulith:integration-event-subscription');
// Marks classes that have subscriptions, so discovery scans only their methods.
export const SUBSCRIBER_CLASS_METADATA = Symbol('modulith:integration-event-subscriber');

/**
 * Subscribes a provider method to an integration event. The provider's module must import
 * `MessagingModule.forModule(definition)`; a durable subscriber's module needs a schema, where
 * its inbox is created for it.
 *
 * - `@OnIntegrationEvent(TransferIngested)` — `(event, { manager, envelope })`, one
 *   transaction per event.
 * - `@OnIntegrationEvent(TransferIngested, { batch: 500 })` — `(events, { manager, envelopes })`,
 *   one transaction and one inbox insert per batch; only events not handled before are passed.
 * - `@OnIntegrationEvent(BalanceChanged, { delivery: 'best-effort' })` — `(event, { envelope })`
 *   from a bounded in-memory queue; for fan-out that may lose events but must not lag.
 *
 * A throwing handler is retried with backoff, then dead-lettered; a throwing batch is split
 * until the events that fail are isolated.
 */
export function OnIntegrationEvent<E extends IntegrationEvent>(
  eventClass: IntegrationEventClass<E>,
  options: BatchSubscribeOptions,
): MethodDecorator<(events: E[], context: BatchDeliveryContext) => Awaitable>;
export function OnIntegrationEvent<E extends IntegrationEvent>(
  eventClass: IntegrationEventClass<E>,
  options: BestEffortSubscribeOptions,
): MethodDecorator<(event: E, context: BestEffortContext) => Awaitable>;
export function OnIntegrationEvent<E extends IntegrationEvent>(
  eventClass: IntegrationEventClass<E>,
  options?: SubscribeOptions,
): MethodDecorator<(event: E, context: DeliveryContext) => Awaitable>;
export function OnIntegrationEvent(
  eventClass: IntegrationEventClass,
  options: SubscribeOptions & Partial<BatchSubscribeOptions> & Partial<BestEffortSubscribeOptions> = {},
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the overloads above carry the types
): MethodDecorator<any> {
  assertEventClass(eventClass);
  if (options.batch !== undefined && (!Number.isSafeInteger(options.batch) || options.batch < 1)) {
    throw new RangeError(`@OnIntegrationEvent(${eventClass.name}): batch must be a positive integer`);
  }
  if (options.timeoutMs !== undefined && (!Number.isSafeInteger(options.timeoutMs) || options.timeoutMs < 1)) {
    throw new RangeError(`@OnIntegrationEvent(${eventClass.name}): timeoutMs must be a positive integer (milliseconds)`);
  }
  if (options.deadLetteredKey !== undefined && options.deadLetteredKey !== 'hold' && options.deadLetteredKey !== 'release') {
    throw new RangeError(`@OnIntegrationEvent(${eventClass.name}): deadLetteredKey must be 'hold' or 'release'`);
  }
  if (options.concurrency !== undefined && (!Number.isSafeInteger(options.concurrency) || options.concurrency < 1)) {
    throw new RangeError(`@OnIntegrationEvent(${eventClass.name}): concurrency must be a positive integer`);
  }
  const metadata: SubscriptionMetadata = {
    eventClass,
    mode: options.delivery === 'best-effort' ? 'best-effort' : options.batch !== undefined ? 'batch' : 'single',
    batch: options.batch ?? 1,
    name: options.name,
    timeoutMs: options.timeoutMs,
    deadLetteredKey: options.deadLetteredKey ?? 'hold',
    concurrency: options.concurrency,
  };
  return (target, key, descriptor) => {
    const method = descriptor.value;
    if (typeof method !== 'function') throw new TypeError(`@OnIntegrationEvent must decorate a method, not ${String(key)}`);
    if (Reflect.hasOwnMetadata(SUBSCRIPTION_METADATA, method)) {
      throw new TypeError(`${target.constructor.name}.${String(key)} has more than one @OnIntegrationEvent: use one method per event`);
    }
    Reflect.defineMetadata(SUBSCRIPTION_METADATA, metadata, method);
    Reflect.defineMetadata(SUBSCRIBER_CLASS_METADATA, true, target.constructor);
  };
}
