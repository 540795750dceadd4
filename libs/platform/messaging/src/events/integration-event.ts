import { ConfigurationError } from '@modulith/core';
import type { TSchema } from '@sinclair/typebox';

/**
 * Base of every integration event. Contracts libraries declare one subclass per event, with a
 * stable `type` (never derived from the class name: renames and minifiers would change it) and
 * a `version` that grows when the payload changes incompatibly:
 *
 * ```ts
 * export class TransferIngested extends IntegrationEvent<TransferIngestedPayload> {
 *   static readonly type = 'ingestion.transfer-ingested';
 *   static readonly version = 1;
 * }
 * ```
 *
 * The payload is plain JSON data: strings, safe integers, booleans, null, arrays and plain
 * objects. Amounts and other big or decimal numbers travel as strings.
 *
 * Every event of a contracts library declares its payload's **schema** (TypeBox, i.e. JSON
 * Schema) and derives the payload type from it. `append` refuses a payload that does not fit
 * (`EventSchemaError` naming the field); a subscriber that receives one dead-letters it with the
 * same error and never calls its handler. A new **version** declares how to read each older one:
 * `upcasters[n]` turns a version-n payload into version n+1 (pure functions, a chain with no
 * gap, checked at start-up); subscribers always receive the class's own version.
 *
 * ```ts
 * export const TransferIngestedSchema = Type.Object({ transferId: Type.String(), memo: Type.String() });
 * export type TransferIngestedPayload = Static<typeof TransferIngestedSchema>;
 * export class TransferIngested extends IntegrationEvent<TransferIngestedPayload> {
 *   static readonly type = 'ingestion.transfer-ingested';
 *   static readonly version = 2;
 *   static readonly schema = TransferIngestedSchema;
 *   static readonly upcasters = { 1: (v1: TransferIngestedV1): TransferIngestedPayload => ({ ...v1, memo: '' }) };
 * }
 * ```
 *
 * An event whose subscribers need it in order with others declares an **ordering key**: every
 * durable subscriber then sees the events of one key in the order their transactions committed
 * (see the messaging README, "Ordering"). Name the entity whose history the events tell:
 *
 * ```ts
 * export class BalanceChanged extends IntegrationEvent<BalanceChangedPayload> {
 *   static readonly type = 'ledger.balance-changed';
 *   static readonly version = 1;
 *   static orderingKey(payload: BalanceChangedPayload): string {
 *     return `${payload.accountId}/${payload.currency}`;
 *   }
 * }
 * ```
 */
export abstract class IntegrationEvent<P extends object = object> {
  constructor(readonly payload: P) {}
}

/** The class of an integration event, with the statics every event declares. */
export interface IntegrationEventClass<E extends IntegrationEvent = IntegrationEvent> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  new (...args: any[]): E;
  readonly prototype: E;
  readonly type: string;
  readonly version: number;
  /**
   * The event's ordering key, from its payload (1 to 200 characters): events of one key reach
   * every durable subscriber in commit order. Absent: the event is unordered.
   */
  orderingKey?(payload: never): string;
  /** The payload's JSON Schema (a TypeBox schema); absent, payloads are only checked to be plain JSON. */
  readonly schema?: TSchema;
  /** `upcasters[n]` reads a version-n payload as version n+1: one for each of 1 … version-1. */
  readonly upcasters?: Readonly<Record<number, Upcaster>>;
}

/** Reads an older version's payload as the next version's: a pure function, no I/O, no clock. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Upcaster = (payload: any) => object;

/** The payload type of an event class or instance. */
export type PayloadOf<E> = E extends IntegrationEvent<infer P> ? P : never;

const EVENT_TYPE = /^[a-z][a-z0-9-]*(\.[a-z0-9-]+)+$/;

/** Fails fast, at declaration or start-up, on an event class without a usable type or version. */
export function assertEventClass(eventClass: unknown): asserts eventClass is IntegrationEventClass {
  const candidate = eventClass as Partial<IntegrationEventClass> | undefined;
  const name = typeof eventClass === 'function' ? eventClass.name : String(eventClass);
  if (typeof eventClass !== 'function' || !(eventClass.prototype instanceof IntegrationEvent)) {
    throw new ConfigurationError(`${name} is not an IntegrationEvent class`, { eventClass: name });
  }
  if (!Object.prototype.hasOwnProperty.call(eventClass, 'type') || typeof candidate?.type !== 'string' || !EVENT_TYPE.test(candidate.type)) {
    throw new ConfigurationError(
      `${name} must declare "static readonly type" as "<module>.<event-name>" in lower-case kebab case, e.g. "ingestion.transfer-ingested"`,
      { eventClass: name },
    );
  }
  if (!Number.isSafeInteger(candidate.version) || (candidate.version as number) < 1) {
    throw new ConfigurationError(`${name} must declare "static readonly version" as a positive integer`, { eventClass: name });
  }
  if (candidate.schema !== undefined && (typeof candidate.schema !== 'object' || candidate.schema === null)) {
    throw new ConfigurationError(`${name}.schema must be a TypeBox schema, e.g. Type.Object({ ... })`, { eventClass: name });
  }
  if (candidate.upcasters !== undefined && (typeof candidate.upcasters !== 'object' || candidate.upcasters === null)) {
    throw new ConfigurationError(`${name}.upcasters must be an object of functions keyed by the version they read`, { eventClass: name });
  }
  if (candidate.orderingKey !== undefined && typeof candidate.orderingKey !== 'function') {
    throw new ConfigurationError(`${name}.orderingKey must be a static method (payload) => string`, { eventClass: name });
  }
}

/** Rebuilds an event instance from a payload without running a subclass constructor. */
export function instantiateEvent<E extends IntegrationEvent>(eventClass: IntegrationEventClass<E>, payload: PayloadOf<E>): E {
  const event = Object.create(eventClass.prototype) as E;
  Object.defineProperty(event, 'payload', { value: payload, enumerable: true });
  return event;
}
