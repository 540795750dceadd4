import type { EventEnvelope } from '../events/event-envelope';
import type { AppendedClaim } from '../log/event-log';

/**
 * `durable`: each event reaches one instance of the subscribing module (replicas compete),
 * at least once, deduplicated by the module's inbox. `best-effort`: every instance that hosts
 * the subscriber sees the event, at most once, through a bounded queue that drops on overflow.
 */
export type DeliveryMode = 'durable' | 'best-effort';

/** What a transport knows about a delivery beside its envelopes. */
export interface DeliveryHint {
  /**
   * False only when the transport knows none of the envelopes was offered to this subscriber
   * before (AMQP's `redelivered` flag, the other way round: absent or true means "maybe"). A
   * durable subscriber then skips looking them up in its inbox before the handler; the inbox
   * write after the handler still refuses a repeat, rolling the attempt back, so a wrong
   * `false` costs a handler call, never a double effect.
   */
  redelivered: boolean;
}

/** A consumer as a transport sees it: which events it wants and how to hand them over. */
export interface TransportSubscription {
  /** Stable, unique name, e.g. `ledger.LedgerProjector.applyTransfers`; kept in retry and dead-letter rows. */
  readonly subscriber: string;
  /** The subscribing module. A broker gives each group its own cursor (e.g. a Redis consumer group). */
  readonly group: string;
  readonly eventTypes: readonly string[];
  readonly mode: DeliveryMode;
  /** Most envelopes `deliver` wants at once. */
  readonly maxBatch: number;
  /**
   * Best-effort only: envelopes taken but not yet handled (its bounded queue). A broker
   * transport reads no faster than this drains, so the stream, not memory, holds the lag.
   */
  readonly queued?: number;
  /**
   * Takes envelopes of `eventTypes`, each key's in `keySeq` order. Resolves once each one is handled, or parked
   * durably for retry or the dead-letter store; only then may the transport forget them. A
   * rejection means nothing was taken for sure: the transport must offer them again.
   */
  deliver(envelopes: readonly EventEnvelope[], hint?: DeliveryHint): Promise<void>;
}

/**
 * Carries envelopes from the relay to subscribers. The in-process transport calls subscribers
 * directly; a broker transport (Redis Streams) publishes here and delivers from its own
 * consumer loops, through the same `deliver` functions, so module code never changes.
 */
export interface Transport {
  readonly name: string;
  /**
   * How the relay hands batches over. `publish`: inside its claim transaction, through
   * `publish` (a broker). `log`: the claim moves the batch into `messaging.event_log` and the
   * transport delivers durable subscribers from there; `publish` is then called after the
   * commit, for best-effort subscribers only.
   */
  readonly delivery: 'log' | 'publish';
  /** Called before each claim of a `log` transport: rejects while the relay may not delete. */
  assertMayClaim?(): Promise<void>;
  /** `log` transports: durable subscribers reading the log here (none: batches skip the log). */
  logReaders?(): number;
  /** `log` transports: the event types `publish` hands to subscribers here (its best-effort ones). */
  publishedTypes?(): readonly string[];
  /** `log` transports: the event types whose appended log rows the relay hands back through `appended`. */
  appendedTypes?(): readonly string[];
  /**
   * `log` transports: after a claim of this process committed, what it appended to the log (the
   * rows of `appendedTypes`), in claim order, before `publish`. The log readers here may take
   * them instead of reading the log; must not throw.
   */
  appended?(claim: AppendedClaim): void;
  /** `log` transports: another process's relay appended to the log; the log readers here look now. */
  appendedElsewhere?(): void;
  /** Registers a subscriber hosted in this process; called before `start`. */
  subscribe(subscription: TransportSubscription): void;
  /**
   * Called by the relay with claimed envelopes in outbox order. `publish` delivery: resolves
   * once the transport has taken them for every durable subscriber; the relay then deletes them
   * from the outbox. `log` delivery: the batch is already in the log; hand it to best-effort
   * subscribers.
   */
  publish(envelopes: readonly EventEnvelope[]): Promise<void>;
  start(): Promise<void>;
  /** Finishes in-flight deliveries; takes no new ones. */
  stop(): Promise<void>;
  /**
   * Broker transports: events published but not yet handled by every durable consumer group
   * (waiting or pending in the broker). Rejects when the broker cannot be asked.
   */
  backlog?(): Promise<number>;
}

/** Injection token of the transport chosen for this process. */
export const TRANSPORT = Symbol('TRANSPORT');
