import { Logger } from '@nestjs/common';
import { escapeLiteral, type PoolClient } from 'pg';
import type { EntityManager } from 'typeorm';
import type { EventEnvelope } from '../events/event-envelope';
import type { MessagingConfig } from '../messaging.config';
import type { MessagingMetrics } from '../metrics/messaging-metrics';
import { retryDelayMs } from '../retries/backoff';
import { describeFailure, isInfrastructureFailure, type FailureDescription } from '../retries/failure';
import { LEASE_MARGIN_MS, type DeadLetteredKeyRule, type ParkedEvent, type RetryStore } from '../retries/retry-store';
import { EventSchemaError, KeyProgressConflictError } from '../messaging.errors';
import { advanceProgress, planDelivery, PROGRESS_ADVANCED, PROGRESS_CTES, type DeliveryPlan } from './key-order';
import type { OutboxSignals } from '../outbox/outbox-signals';
import type { MessagingConnections } from '../sql/messaging-connections';
import type { DeliveryHint, TransportSubscription } from '../transport/transport';
import { invokeSubscriber, type SubscriberDefinition } from './subscriber-definition';
import { runSubscriberTransaction, type CommitTail } from './subscriber-transaction';
import { traceDelivery, type DeliveryTarget } from '../tracing/message-tracing';

export interface DurableSubscriberDeps {
  connections: MessagingConnections;
  /** Told when a handler's transaction committed, so events it appended are relayed at once. */
  signals: OutboxSignals;
  retries: RetryStore;
  metrics: MessagingMetrics;
  config: MessagingConfig;
  /** Told when a retry was scheduled `delayMs` from now, so the retry poller can wake in time. */
  retryScheduled(delayMs: number): void;
}

/**
 * How an attempt ended; `held` are keyed events that must wait for an earlier one of their key,
 * `release` the keys it moved on that have events held here (see `releaseHeld`).
 */
type Attempt = { ok: true; held: EventEnvelope[]; seen: EventEnvelope[]; release: string[] } | { ok: false; error: unknown; timedOut?: boolean };

/**
 * Which events an attempt looks up in the inbox before its handler: `all` (out of order, or after
 * a conflict: another attempt may have got there first), `unordered` (the default: keyed events
 * taken in order cannot be there, see `unhandled`) or `none` (a first delivery, see
 * `DeliveryHint`: the inbox write after the handler still refuses a repeat).
 */
type InboxLookUp = 'all' | 'unordered' | 'none';

/** Re-plans of one chunk after a key moved under it (`KeyProgressConflictError`) before its keyed events are held. */
const MAX_KEY_CONFLICTS = 3;
/**
 * Fewest events worth a partition (an attempt of its own) of a delivery. Each attempt costs ~5
 * round trips and a commit whatever its size, and for a subscriber aggregating into shared rows
 * two attempts at once wait on each other's row locks: a small delivery (what a steady trickle
 * brings, 10-50 events at 1,000/s) runs as one attempt, a backlog's batches are still split.
 */
const MIN_PARTITION_EVENTS = 100;
/** Keys remembered as having events held here: handling one of them releases them (`releaseHeld`). */
const MAX_REMEMBERED_HELD_KEYS = 10_000;
/** Rounds of `releaseHeld` after one delivery; what is left then goes to the retry poller. */
const MAX_RELEASE_ROUNDS = 1000;

/**
 * Runs one durable subscriber: a delivery is split by ordering key into up to `RELAY_CONCURRENCY`
 * partitions of at least `MIN_PARTITION_EVENTS` that run side by side (one key's events always
 * in one, in order); each batch in
 * one transaction that first decides, per ordering key, which events are next (`planDelivery`)
 * and which are not in the module's inbox yet (reads only), lets the handler write its effect,
 * then records them in the inbox and moves the keys' progress, so effect, inbox rows and
 * progress commit together. Keyed events whose predecessor is not
 * handled yet are parked as held; when an attempt moves their key on, the process that made it
 * releases them at once, in batches (`releaseHeld`), and the retry poller does it otherwise, so
 * each key's events are applied in order and a failing key holds back only itself. A failing batch is
 * split in halves until the failing events are alone; those are parked for retry (or
 * dead-lettered) and the rest go on. A batch that timed out is not split (each half could hang
 * as long): its events are parked.
 */
export class DurableSubscriber implements TransportSubscription {
  readonly mode = 'durable';
  readonly subscriber: string;
  readonly group: string;
  readonly eventTypes: readonly string[];
  readonly maxBatch: number;
  private readonly logger: Logger;
  private readonly readInbox: string;
  private readonly writeInbox: string;
  /** The inbox insert sent with COMMIT, up to its id array literal (see `inboxWithCommit`). */
  private readonly inboxTail: string;
  private readonly inboxStatement: string;
  private readonly writeInboxAndProgress: string;
  /** Longest a handler call may take (its `{ timeoutMs }`, else `HANDLER_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  private readonly keyRule: DeadLetteredKeyRule;
  /** Attempts in flight at once: the `concurrency` option, at most `RELAY_CONCURRENCY` (what the pool is sized for). */
  readonly concurrency: number;
  private readonly heldKeys = new Set<string>();
  private readonly target: DeliveryTarget;

  constructor(
    readonly definition: SubscriberDefinition,
    private readonly deps: DurableSubscriberDeps,
  ) {
    this.subscriber = definition.subscriber;
    this.group = definition.module;
    this.eventTypes = [definition.eventClass.type];
    this.maxBatch = definition.batch;
    this.timeoutMs = definition.timeoutMs ?? deps.config.handlerTimeoutMs;
    this.keyRule = definition.deadLetteredKey ?? 'hold';
    this.concurrency = Math.min(definition.concurrency ?? deps.config.relayConcurrency, deps.config.relayConcurrency);
    this.logger = new Logger(`Messaging:${definition.subscriber}`);
    this.target = { subscriber: definition.subscriber, module: definition.module, eventType: definition.eventClass.type };
    // One primary-key probe per id, whatever the statistics: a plain join of the ids with the
    // inbox was planned, on an inbox never analyzed, as a hash join over every row of the
    // subscriber (14.6 ms against 0.9 ms for 230 ids in 60k rows; `event_id = ANY(...)` did the
    // same, 29 ms against 2 ms at 100k). LIMIT inside LATERAL keeps it a loop of index probes.
    this.readInbox = `SELECT i.event_id FROM unnest($2::uuid[]) AS e(id)
                        CROSS JOIN LATERAL (SELECT event_id FROM "${definition.schema}".inbox
                                             WHERE subscriber = $1 AND event_id = e.id LIMIT 1) i`;
    // A count, not the rows: only whether every id went in matters, and 500 returned ids cost
    // more to send and parse than the insert's own statement.
    this.writeInbox = `WITH inboxed AS (INSERT INTO "${definition.schema}".inbox (subscriber, event_id)
                                         SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING RETURNING 1)
                       SELECT count(*)::int AS inboxed FROM inboxed`;
    this.inboxStatement = `modulith-inbox-${definition.schema}`;
    // No ON CONFLICT: a repeat fails the insert (unique violation), so COMMIT, sent with it, never runs.
    this.inboxTail = `INSERT INTO "${definition.schema}".inbox (subscriber, event_id) SELECT ${escapeLiteral(definition.subscriber)}, unnest(`;
    // Keyed events: inbox rows and key progress in one round trip (parameters as `advanceProgress`'s, ids as $5).
    this.writeInboxAndProgress = `
      WITH inboxed AS (INSERT INTO "${definition.schema}".inbox (subscriber, event_id)
                       SELECT $1, unnest($5::uuid[]) ON CONFLICT DO NOTHING RETURNING 1),
      ${PROGRESS_CTES}
      SELECT (SELECT count(*) FROM inboxed) AS inboxed, ${PROGRESS_ADVANCED}`;
  }

  /**
   * Handles `envelopes` (any number of copies of an event count as one: a re-drive, a relay that
   * published and then rolled back, a reclaimed Redis entry). Resolves once each event is handled,
   * parked or dead-lettered; rejects with `InfrastructureFailure` when the database is away.
   */
  async deliver(envelopes: readonly EventEnvelope[], hint?: DeliveryHint): Promise<void> {
    const partitions = partitionByKey(distinctById(envelopes), this.concurrency);
    const firstDelivery = hint?.redelivered === false;
    // Partitions side by side, each in order; every one finishes before a failure is reported,
    // so a redelivery never runs beside the attempt it repeats.
    const results = await Promise.allSettled(partitions.map((partition) => this.deliverInOrder(partition, firstDelivery)));
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  private async deliverInOrder(envelopes: readonly EventEnvelope[], firstDelivery: boolean): Promise<void> {
    const release = new Set<string>();
    for (let start = 0; start < envelopes.length; start += this.maxBatch) {
      for (const key of await this.deliverChunk(envelopes.slice(start, start + this.maxBatch), firstDelivery)) release.add(key);
    }
    await this.releaseHeld(release);
  }

  /**
   * Makes one more attempt at a parked event; the outcome is recorded in its retry row. An event
   * that is still not next for its key stays parked, as it was, without counting an attempt.
   */
  async retry(parked: ParkedEvent): Promise<void> {
    const outcome = await this.attempt([parked.envelope], parked.outOfOrder);
    const dataSource = await this.deps.connections.dataSource();
    if (!outcome.ok) {
      await this.recordFailure(parked.envelope, outcome.error, parked.attempts + 1, true);
      return;
    }
    if (outcome.held.length > 0) {
      await this.deps.retries.requeueHeld(dataSource, this.subscriber, [parked.envelope.id]);
      return;
    }
    await this.deps.retries.remove(dataSource, this.subscriber, [parked.envelope.id]);
    // Its key moved on: the events held behind it (here or by another process) follow in batches.
    const key = parked.outOfOrder ? undefined : parked.envelope.orderingKey;
    await this.releaseHeld(new Set([...outcome.release, ...(key === undefined ? [] : [key])]));
  }

  /**
   * Returns the keys to release (see `releaseHeld`). A failed attempt committed nothing, so its
   * halves are as much first deliveries as it was.
   */
  private async deliverChunk(chunk: readonly EventEnvelope[], firstDelivery: boolean): Promise<readonly string[]> {
    const outcome = await this.attempt(chunk, false, firstDelivery);
    if (outcome.ok) {
      await this.hold(outcome.held);
      // A key held just now may have moved on meanwhile (its predecessor committed by another attempt).
      return [...outcome.release, ...outcome.held.map((envelope) => envelope.orderingKey as string)];
    }
    if (chunk.length === 1 || outcome.timedOut) {
      for (const envelope of chunk) await this.recordFailure(envelope, outcome.error, 1, false);
      return [];
    }
    const middle = Math.ceil(chunk.length / 2);
    return [...(await this.deliverChunk(chunk.slice(0, middle), firstDelivery)), ...(await this.deliverChunk(chunk.slice(middle), firstDelivery))];
  }

  /** Parks events that must wait for an earlier one of their key, and remembers their keys. */
  private async hold(held: readonly EventEnvelope[]): Promise<void> {
    if (held.length === 0) return;
    await this.deps.retries.hold(await this.deps.connections.dataSource(), this.subscriber, held);
    this.rememberHeld(held);
    this.deps.metrics.record({ kind: 'held', subscriber: this.subscriber, eventType: this.eventTypes[0], events: held.length });
  }

  private rememberHeld(held: readonly EventEnvelope[]): void {
    if (this.heldKeys.size + held.length > MAX_REMEMBERED_HELD_KEYS) this.heldKeys.clear();
    for (const envelope of held) this.heldKeys.add(envelope.orderingKey as string);
  }

  /**
   * Delivers the events held behind `keys` that are next now, a batch (`maxBatch`) per lease,
   * until none is: each key's run in keySeq order (the plan takes the run and holds what follows
   * a gap again), and the keys those attempts moved on in turn. A batch that fails is split in
   * halves (see `releaseChunk`); an event that fails alone, a batch that timed out, the database
   * away or `MAX_RELEASE_ROUNDS` reached are left to the retry poller, which attempts held events
   * one at a time, counting failures: nothing is lost, only slower. Another process's poller may
   * lease the same keys' rows: the lease skips locked rows, and key progress plus inbox make a
   * repeat a no-op.
   */
  private async releaseHeld(keys: ReadonlySet<string>): Promise<void> {
    let wanted = [...keys];
    try {
      for (let round = 0; wanted.length > 0; round += 1) {
        if (round >= MAX_RELEASE_ROUNDS) {
          this.deps.retryScheduled(0);
          return;
        }
        const dataSource = await this.deps.connections.dataSource();
        const leased = await this.deps.retries.leaseHeldRuns(dataSource, this.subscriber, wanted, this.maxBatch, this.timeoutMs + LEASE_MARGIN_MS);
        if (leased.length === 0) return;
        const chunk = leased.map((parked) => parked.envelope).sort(byKeySeq);
        const outcome = await this.releaseChunk(chunk);
        await this.deps.retries.remove(dataSource, this.subscriber, outcome.done.map((envelope) => envelope.id));
        await this.deps.retries.requeueHeld(dataSource, this.subscriber, outcome.left.map((envelope) => envelope.id));
        this.rememberHeld(outcome.left);
        if (outcome.failed) this.deps.retryScheduled(0);
        // Keys that moved may hold more; when the lease was full, keys it did not reach still may.
        const leasedKeys = new Set(chunk.map((envelope) => envelope.orderingKey));
        const moved = new Set([...outcome.release, ...outcome.done.map((envelope) => envelope.orderingKey as string)]);
        wanted = [...moved, ...(leased.length < this.maxBatch ? [] : wanted.filter((key) => !leasedKeys.has(key) && !moved.has(key)))];
      }
    } catch (error) {
      // The poller is the fallback: leases run out, and it attempts what is left.
      this.logger.warn(`could not release events held behind ${wanted.length} ordering keys (${describeFailure(error).message}); the retry poller will`);
      this.deps.retryScheduled(0);
    }
  }

  /**
   * One attempt at released events (lowest keySeq first), split in halves when it fails so the
   * events before a failing one still go; one that fails alone, or a batch that timed out (each
   * half could hang as long), is `left` for the poller with the events still held, uncounted.
   */
  private async releaseChunk(chunk: readonly EventEnvelope[]): Promise<{ done: EventEnvelope[]; left: EventEnvelope[]; release: string[]; failed: boolean }> {
    const outcome = await this.attempt(chunk);
    if (outcome.ok) {
      const held = new Set(outcome.held);
      return { done: chunk.filter((envelope) => !held.has(envelope)), left: outcome.held, release: outcome.release, failed: false };
    }
    if (chunk.length === 1 || outcome.timedOut) return { done: [], left: [...chunk], release: [], failed: true };
    const middle = Math.ceil(chunk.length / 2);
    const first = await this.releaseChunk(chunk.slice(0, middle));
    const second = await this.releaseChunk(chunk.slice(middle));
    return { done: [...first.done, ...second.done], left: [...first.left, ...second.left], release: [...first.release, ...second.release], failed: true };
  }

  /**
   * One transaction: key plan, inbox rows, handler, key progress, commit. Database outages are
   * thrown, not counted. If a key moved on meanwhile (another replica), the chunk is planned
   * again; after `MAX_KEY_CONFLICTS` its keyed events are held for the retry poller.
   */
  private async attempt(chunk: readonly EventEnvelope[], outOfOrder = false, firstDelivery = false): Promise<Attempt> {
    for (let conflicts = 0; ; conflicts += 1) {
      // After a conflict every event is checked against the inbox (another attempt got there first).
      const lookUp: InboxLookUp = outOfOrder || conflicts > 0 ? 'all' : firstDelivery ? 'none' : 'unordered';
      const outcome = await this.attemptOnce(chunk, outOfOrder, lookUp);
      if (outcome.ok || !isKeyConflict(outcome.error)) return outcome;
      if (conflicts + 1 >= MAX_KEY_CONFLICTS) {
        const held = chunk.filter((envelope) => envelope.orderingKey !== undefined);
        const unordered = chunk.filter((envelope) => envelope.orderingKey === undefined);
        const rest = unordered.length > 0 ? await this.attemptOnce(unordered, outOfOrder, 'all') : { ok: true as const, held: [], seen: [], release: [] };
        return rest.ok ? { ok: true, held: [...held, ...rest.held], seen: rest.seen, release: rest.release } : rest;
      }
    }
  }

  /** One attempt, as a consumer span of the events' trace when they carry one. */
  private attemptOnce(chunk: readonly EventEnvelope[], outOfOrder: boolean, lookUp: InboxLookUp): Promise<Attempt> {
    return traceDelivery(chunk, this.target, () => this.attemptUntraced(chunk, outOfOrder, lookUp), (outcome) => (outcome.ok ? undefined : outcome.error));
  }

  private async attemptUntraced(chunk: readonly EventEnvelope[], outOfOrder: boolean, lookUp: InboxLookUp): Promise<Attempt> {
    let durationMs = 0;
    let plan: DeliveryPlan | undefined;
    const outcome = await runSubscriberTransaction(await this.deps.connections.dataSource(), {
      subscriber: this.subscriber,
      timeoutMs: this.timeoutMs,
      // Only reads before the handler: a handler that hangs before writing holds no transaction
      // id, so it holds back nobody's vacuum (the inbox rows are written after it, below).
      prepare: async (_manager, client) => {
        plan = await planDelivery(client, this.subscriber, chunk, outOfOrder);
        return this.unhandled(client, plan.take, lookUp);
      },
      committed: (runner) => this.deps.signals.committed(runner),
      handle: async (todo, manager: EntityManager) => {
        if (todo.length === 0) return 0;
        const started = performance.now();
        await invokeSubscriber(this.definition, todo, manager);
        durationMs = performance.now() - started;
        return todo.length;
      },
      finish: async (todo, client) => {
        if ((plan as DeliveryPlan).advance.length > 0) return this.recordInInboxAndProgress(client, todo, plan as DeliveryPlan);
        return this.inboxWithCommit(todo) ?? this.recordInInbox(client, todo);
      },
    });
    if (!outcome.ok) return outcome;
    if (outcome.value > 0) {
      this.deps.metrics.record({ kind: 'handled', subscriber: this.subscriber, eventType: this.eventTypes[0], events: outcome.value, durationMs });
    }
    const done = plan as DeliveryPlan;
    return { ok: true, held: done.held, seen: done.seen, release: this.movedHeldKeys(done) };
  }

  /** The keys this plan moved on that have events held here (forgotten here: `releaseHeld` takes them). */
  private movedHeldKeys(plan: DeliveryPlan): string[] {
    if (this.heldKeys.size === 0) return [];
    return plan.advance.filter(({ key }) => this.heldKeys.delete(key)).map(({ key }) => key);
  }

  /**
   * The envelopes of `chunk` not in the inbox yet (ids compare as the inbox's uuid does). A keyed
   * event the plan takes in order (its `keySeq` one past the key's progress) cannot be there: its
   * inbox row and that progress commit together, and nothing else writes one for it. So only
   * unordered events are looked up, unless `all` (out of order, or after a conflict), and none on
   * a first delivery; were that ever wrong, the inbox write after the handler would still refuse
   * the duplicate (a conflict: the attempt rolls back and is made again with `all`).
   */
  private async unhandled(client: PoolClient, chunk: readonly EventEnvelope[], lookUp: InboxLookUp): Promise<readonly EventEnvelope[]> {
    if (lookUp === 'none') return chunk;
    const unsure = lookUp === 'all' ? chunk : chunk.filter((envelope) => envelope.orderingKey === undefined || envelope.keySeq === undefined);
    if (unsure.length === 0) return chunk;
    // Named statements on the transaction's own connection: parsed and planned once per connection.
    const { rows } = await client.query<{ event_id: string }>({
      name: `${this.inboxStatement}-read`,
      text: this.readInbox,
      values: [this.subscriber, unsure.map((envelope) => envelope.id)],
    });
    if (rows.length === 0) return chunk;
    const handled = new Set(rows.map((row) => row.event_id));
    return chunk.filter((envelope) => !handled.has(envelope.id.toLowerCase()));
  }

  /**
   * Records the handled events in the inbox, in the handler's transaction. If one is there
   * already, another attempt handled it meanwhile (a competing replica, a redelivery): this one
   * rolls back, effect included, and is planned again.
   */
  private async recordInInbox(client: PoolClient, handled: readonly EventEnvelope[]): Promise<void> {
    if (handled.length === 0) return;
    const { rows } = await client.query<{ inboxed: number }>({
      name: `${this.inboxStatement}-write`,
      text: this.writeInbox,
      values: [this.subscriber, handled.map((envelope) => envelope.id)],
    });
    if (rows[0]?.inboxed !== handled.length) {
      throw new KeyProgressConflictError(`${this.subscriber}: another attempt handled some of these events meanwhile`, { subscriber: this.subscriber });
    }
  }

  /**
   * `recordInInbox` as statements sent with the COMMIT, saving a round trip per attempt: the ids
   * go inline (simple protocol, no parameters), so only when every id is a canonical UUID
   * (anything else takes `recordInInbox`). A repeat violates the inbox's primary key and rolls
   * the attempt back as a `KeyProgressConflictError`, as `recordInInbox`'s count does.
   */
  private inboxWithCommit(handled: readonly EventEnvelope[]): CommitTail | undefined {
    if (handled.length === 0 || !handled.every((envelope) => CANONICAL_UUID.test(envelope.id))) return undefined;
    return {
      sql: `${this.inboxTail}'{${handled.map((envelope) => envelope.id).join(',')}}'::uuid[])`,
      refused: (error) =>
        isInboxRepeat(error, this.definition.schema)
          ? new KeyProgressConflictError(`${this.subscriber}: another attempt handled some of these events meanwhile`, { subscriber: this.subscriber })
          : error,
    };
  }

  /** `recordInInbox` and `advanceProgress` in one statement; a conflict in either rolls the attempt back. */
  private async recordInInboxAndProgress(client: PoolClient, handled: readonly EventEnvelope[], plan: DeliveryPlan): Promise<void> {
    const statement = { name: `${this.inboxStatement}-write-progress`, text: this.writeInboxAndProgress };
    const ids = handled.map((envelope) => envelope.id);
    const row = await advanceProgress<{ advanced: string; inboxed: string }>(client, this.subscriber, plan, statement, [ids]);
    if (Number(row?.inboxed) !== handled.length) {
      throw new KeyProgressConflictError(`${this.subscriber}: another attempt handled some of these events meanwhile`, { subscriber: this.subscriber });
    }
  }

  /**
   * Parks the event for another attempt, or dead-letters it after the last one (or at once if its
   * payload does not fit its schema: another attempt would read it the same way). If the store
   * refuses the event as it is (anything but a lost connection), it is dead-lettered with what is
   * known rather than left in the hot path, where it would be delivered and refused for ever.
   */
  private async recordFailure(envelope: EventEnvelope, error: unknown, attempts: number, parked: boolean): Promise<void> {
    const failure = describeFailure(error);
    this.deps.metrics.record({ kind: 'failed', subscriber: this.subscriber, eventType: envelope.type, attempt: attempts });
    try {
      await this.park(envelope, failure, attempts, parked, isUnreadable(error));
    } catch (storeError) {
      if (isInfrastructureFailure(storeError)) throw storeError;
      const cause = describeFailure(storeError);
      await this.deps.retries.deadLetterUnstorable(await this.deps.connections.dataSource(), this.subscriber, envelope, failure, cause, attempts, this.keyRule);
      this.deps.metrics.record({ kind: 'dead-lettered', subscriber: this.subscriber, eventType: envelope.type, attempts });
      this.logger.error(`${this.where(envelope)} could not be parked (${cause.message}): moved to dead letters with its payload as text`);
    }
  }

  private async park(envelope: EventEnvelope, failure: FailureDescription, attempts: number, parked: boolean, final: boolean): Promise<void> {
    const on = await this.deps.connections.dataSource();
    const maxAttempts = this.deps.config.handlerMaxAttempts;
    const eventType = envelope.type;
    if (attempts >= maxAttempts || final) {
      await this.deps.retries.deadLetter(on, this.subscriber, envelope, failure, attempts, this.keyRule);
      if (envelope.orderingKey !== undefined && this.keyRule === 'release') this.deps.retryScheduled(0);
      this.deps.metrics.record({ kind: 'dead-lettered', subscriber: this.subscriber, eventType, attempts });
      this.logger.error(`${this.where(envelope)} failed attempt ${attempts}/${maxAttempts}, moved to dead letters: ${failure.message}`, failure.stack ?? undefined);
      return;
    }
    const delayMs = retryDelayMs(attempts, { baseDelayMs: this.deps.config.retryBaseDelayMs, maxDelayMs: this.deps.config.retryMaxDelayMs });
    if (parked) await this.deps.retries.reschedule(on, this.subscriber, envelope, failure, attempts, delayMs);
    else await this.deps.retries.park(on, this.subscriber, envelope, failure, attempts, delayMs);
    this.deps.metrics.record({ kind: 'retry-scheduled', subscriber: this.subscriber, eventType, attempt: attempts, delayMs });
    this.logger.warn(`${this.where(envelope)} failed attempt ${attempts}/${maxAttempts}, retrying in ${delayMs} ms: ${failure.message}`);
    this.deps.retryScheduled(delayMs);
  }

  private where(envelope: EventEnvelope): string {
    return `event ${envelope.id} (${envelope.type}) [correlation ${envelope.correlationId}]`;
  }
}

/**
 * Splits a delivery into up to `wanted` partitions that may run side by side, each of at least
 * `MIN_PARTITION_EVENTS`: one key's events always in the same partition, in their order;
 * unordered events spread evenly.
 */
function partitionByKey(envelopes: readonly EventEnvelope[], wanted: number): EventEnvelope[][] {
  const count = Math.min(wanted, Math.floor(envelopes.length / MIN_PARTITION_EVENTS));
  if (count <= 1) return [[...envelopes]];
  const partitions: EventEnvelope[][] = Array.from({ length: count }, () => []);
  envelopes.forEach((envelope, index) => {
    const slot = envelope.orderingKey === undefined ? index % count : hash(envelope.orderingKey) % count;
    partitions[slot].push(envelope);
  });
  return partitions.filter((partition) => partition.length > 0);
}

/** Lowest keySeq first, then by key: a key's run in order, and a split keeps each key's earlier events in the first half. */
function byKeySeq(left: EventEnvelope, right: EventEnvelope): number {
  const bySeq = (left.keySeq ?? 0) - (right.keySeq ?? 0);
  if (bySeq !== 0) return bySeq;
  return (left.orderingKey ?? '') < (right.orderingKey ?? '') ? -1 : (left.orderingKey ?? '') > (right.orderingKey ?? '') ? 1 : 0;
}

/** FNV-1a of a string: a cheap, stable spread of keys over partitions. */
function hash(text: string): number {
  let value = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) value = Math.imul(value ^ text.charCodeAt(index), 0x01000193);
  return value >>> 0;
}

/** The first copy of each event id (ids compare case-insensitively, as the inbox's uuid does). */
function distinctById(envelopes: readonly EventEnvelope[]): readonly EventEnvelope[] {
  const seen = new Set<string>();
  const distinct = envelopes.filter((envelope) => {
    const id = envelope.id.toLowerCase();
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
  return distinct.length === envelopes.length ? envelopes : distinct;
}

/** An event id that can go into SQL text as it is. */
const CANONICAL_UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A unique violation of the schema's inbox primary key: the event is there already (never throws, as `isKeyConflict`). */
function isInboxRepeat(error: unknown, schema: string): boolean {
  try {
    const fields = error as { code?: unknown; schema?: unknown; table?: unknown; constraint?: unknown } | null;
    return fields?.code === '23505' && fields.schema === schema && fields.table === 'inbox' && fields.constraint === 'inbox_pkey';
  } catch {
    return false;
  }
}

/** Whether the event's payload does not fit its schema (never throws, as `isKeyConflict`). */
function isUnreadable(error: unknown): boolean {
  try {
    return error instanceof EventSchemaError;
  } catch {
    return false;
  }
}

/** Whether a failure is a key moving on under the attempt; never throws (a thrown value may be a revoked Proxy). */
function isKeyConflict(error: unknown): boolean {
  try {
    return error instanceof KeyProgressConflictError;
  } catch {
    return false;
  }
}
