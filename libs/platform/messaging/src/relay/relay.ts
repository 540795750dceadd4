import { Inject, Injectable, Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import type { QueryRunner } from 'typeorm';
import type { EventEnvelope, Writable } from '../events/event-envelope';
import type { AppendedClaim } from '../log/event-log';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { MessagingMetrics } from '../metrics/messaging-metrics';
import { retryDelayMs } from '../retries/backoff';
import { describeFailure } from '../retries/failure';
import { MessagingConnections } from '../sql/messaging-connections';
import { releaseRunner } from '../sql/release-runner';
import { TRANSPORT, type Transport } from '../transport/transport';
import { traceRelay, type RelayTrace } from '../tracing/message-tracing';
import { ObserverDispatcher } from '../observers/observer-dispatcher';
import { OutboxRetention } from '../outbox/outbox-retention';
import { Wakeup } from './wakeup';

const COLUMNS = 'id, type, version, occurred_at, source, correlation_id, causation_id, traceparent, tracestate, payload, ordering_key, key_seq';

// Claims are taken one at a time across every relay of the database (this transaction-scoped
// advisory lock), in insertion order (`seq`): that is what hands each key's events on in the
// order their transactions committed, whatever the number of relays. `= ANY(ARRAY(...))` keeps
// the planner on the primary-key index (an ordered scan that stops after $1 rows).
const TRY_RELAY_LOCK = 'pg_try_advisory_xact_lock(1835297652, 1)';
const RELAY_LOCK = `SELECT ${TRY_RELAY_LOCK} AS locked`;

/** The claim's DELETE; `guard` (SQL) gates the row selection, e.g. on the lock taken in the same statement. */
function claimedRows(guard?: string): string {
  return `
  DELETE FROM messaging.outbox
   WHERE seq = ANY (ARRAY(SELECT seq FROM messaging.outbox ${guard ? `WHERE ${guard} ` : ''}ORDER BY seq LIMIT $1))
  RETURNING seq, ${COLUMNS}`;
}

// With OUTBOX_RETENTION_HOURS set, the claim also keeps a copy of the rows it deletes; it
// commits with the batch, so exactly the delivered rows are kept (see OutboxRetention).
const KEPT = `
  kept AS (
    INSERT INTO messaging.outbox_delivered (${COLUMNS})
    SELECT ${COLUMNS} FROM claimed
    ON CONFLICT (id) DO UPDATE SET delivered_at = excluded.delivered_at)`;

// The in-process transport's sink: the batch becomes one row of the event log per event type
// (a subscriber takes one type, and reads only its rows), built by PostgreSQL from the rows it
// deletes: the envelopes as JSON (`messaging.logged_envelope` names the keys; aggregating typed
// rows costs PostgreSQL about 40% less than json_build_object per event), instants as the relay
// writes them.
const LOGGED = `
  logged AS (
    INSERT INTO messaging.event_log (position, type, events, count)
    SELECT nextval('messaging.event_log_position'), type, events, count FROM (
      SELECT type, count(*) AS count, min(seq) AS first,
             json_agg((id, type, version,
               CASE WHEN isfinite(occurred_at) THEN to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') ELSE occurred_at::text END,
               source, correlation_id, causation_id, payload, ordering_key, key_seq, traceparent, tracestate)::messaging.logged_envelope
               ORDER BY seq) AS events
        FROM claimed GROUP BY type ORDER BY first) per_type
    RETURNING position, type, events)`;

/** A broker's claim, inside the transaction that holds the claim lock (the in-process one is below). */
function claimStatement(keep: boolean): { name: string; text: string } {
  const ctes = [`claimed AS (${claimedRows()})`, ...(keep ? [KEPT] : [])];
  return {
    name: `modulith-relay-claim${keep ? '-keep' : ''}`,
    text: `WITH ${ctes.join(',\n')} SELECT ${COLUMNS} FROM claimed ORDER BY seq`,
  };
}

// With the in-process transport nothing happens between the claim and its commit, so the claim
// is one statement in its own (implicit) transaction: one round trip instead of four (BEGIN with
// SET LOCAL, lock, claim, COMMIT). The lock is taken first (an init plan of the row selection)
// and held until that transaction commits. Without a log, `set_config(..., true)` makes this
// commit asynchronous, as SET LOCAL did: if a server crash loses it, its rows come back to the
// outbox. With a log it stays synchronous (visible only once it is on disk): a crash that took
// back a claim a log reader had seen would take the log's position sequence back with it, the
// next claim (other events) would get the same positions, and the reader would take them for rows
// it has passed (its cursor, moved on in memory) or holds (a claim offered to it), and skip them.
// The statement's snapshot predates the lock: rows another relay deleted meanwhile are skipped by
// the DELETE (it rechecks each row), and rows committed after the snapshot wait for the next
// claim, as a late commit always does.
// Durable subscribers take the batch from the log, so the statement returns only the rows this
// process hands on itself (types of its best-effort subscribers and observers, $2; traced events,
// for the relay's spans) and, on every row, how many events of each source and type it claimed:
// parsing every claimed payload once more in the app cost as much as the HTTP ingest beside it.
// With a log, it also returns the span of positions the claim took and, as text, the log rows of
// the types read here ($3): a log reader just before the span takes them without reading the log
// (see `LogLane.offer`), one round trip fewer per batch and subscriber.
const LOCK = `
  lock AS (SELECT ${TRY_RELAY_LOCK} AS locked, set_config('synchronous_commit', 'off', true) AS async)`;
const DURABLE_LOCK = `
  lock AS (SELECT ${TRY_RELAY_LOCK} AS locked)`;

const HANDED_ON_WHERE = 'type = ANY ($2::text[]) OR traceparent IS NOT NULL';
const HANDED_ON = `SELECT * FROM claimed WHERE ${HANDED_ON_WHERE}`;

// Claimed rows handed on, then the log rows read here: the other's columns are null on each.
const HANDED_ON_AND_APPENDED = `
  SELECT seq, ${COLUMNS}, NULL::bigint AS log_position, NULL::text AS log_events
    FROM claimed WHERE ${HANDED_ON_WHERE}
  UNION ALL
  SELECT NULL, ${COLUMNS.split(', ').map((column) => (column === 'type' ? column : 'NULL')).join(', ')}, position, events::text
    FROM logged WHERE type = ANY ($3::text[])`;

function loggedClaimStatement(keep: boolean, log: boolean): { name: string; text: string } {
  const ctes = [log ? DURABLE_LOCK : LOCK, `claimed AS (${claimedRows('(SELECT locked FROM lock)')})`, ...(keep ? [KEPT] : []), ...(log ? [LOGGED] : [])];
  const returned = ['seq', ...COLUMNS.split(', '), ...(log ? ['log_position', 'log_events'] : [])].map((column) => `c.${column}`);
  return {
    name: `modulith-relay-claim-once${keep ? '-keep' : ''}${log ? '-log' : ''}`,
    text: `WITH ${ctes.join(',\n')}
      SELECT l.locked, t.counts, ${log ? 'a.first, a.last, a.rows, ' : ''}${returned.join(', ')}
        FROM lock l
       CROSS JOIN (SELECT json_agg(json_build_object('source', source, 'eventType', type, 'events', events)) AS counts
                     FROM (SELECT source, type, count(*)::int AS events FROM claimed GROUP BY source, type) g) t
       ${log ? 'CROSS JOIN (SELECT min(position) AS first, max(position) AS last, count(*) AS rows FROM logged) a' : ''}
        LEFT JOIN (${log ? HANDED_ON_AND_APPENDED : HANDED_ON}) c ON true
       ORDER BY c.seq${log ? ', c.log_position' : ''}`,
  };
}

// Log rows a relay finds after the transport changed from in-process: published (again) first.
const LEFT_IN_LOG = `
  DELETE FROM messaging.event_log WHERE position = ANY (ARRAY(SELECT position FROM messaging.event_log ORDER BY position LIMIT 4))
  RETURNING position, events`;

interface OutboxRow {
  id: string;
  type: string;
  version: number;
  /** A Date, or what node-postgres makes of an instant JavaScript cannot hold ('infinity'). */
  occurred_at: Date | string | number;
  source: string;
  correlation_id: string;
  causation_id: string | null;
  traceparent: string | null;
  tracestate: string | null;
  payload: unknown;
  ordering_key: string | null;
  /** bigint, as node-postgres returns it. */
  key_seq: string | null;
}

/** Events of one source and type in a claim (the relay's `published` metric). */
interface ClaimCount {
  source: string;
  eventType: string;
  events: number;
}

/**
 * A row of the one-statement claim: `locked` and the claim's `counts` (null when it claimed
 * nothing) on every row, the columns of a returned event (null when none is returned).
 */
type ClaimedRow = OutboxRow & {
  locked: boolean;
  counts: ClaimCount[] | null;
  seq: string | null;
  /** With a log: the span the claim took (null when it took none; bigint as strings) and a log row read here. */
  first?: string | null;
  last?: string | null;
  rows?: string | null;
  log_position?: string | null;
  log_events?: string | null;
};

/** What one claim did: `busy` when another relay held the claim lock. */
export type ClaimOutcome = { claimed: number; busy?: boolean };

/** What an in-process claim hands on after its commit: the envelopes wanted here, what it claimed and appended to the log. */
type ClaimedBatch = { envelopes: EventEnvelope[]; counts: ClaimCount[]; appended?: AppendedClaim };

/** A claim, and (in-process) its batch's turn to go to best-effort subscribers, settled after it. */
type ClaimStep = { outcome: ClaimOutcome; turn?: Promise<void> };

/**
 * Moves committed outbox rows to the transport, in insertion order, one claim at a time across
 * all relays of the database (so each key's events leave in commit order). Each claim is one
 * short transaction that never waits for a handler:
 * - with the in-process transport, the claimed rows become one row of `messaging.event_log` in
 *   the statement that deletes them; durable subscribers read the log from their own cursors
 *   (`EventLog`), best-effort ones get the batch after the commit;
 * - with a broker (Redis), the batch is published inside the claim (a bounded call, never a
 *   handler) and deleted once the broker took it. If the process dies before the commit the rows
 *   come back and are published again; inboxes and key progress absorb the repeat.
 * Sleeps when the outbox is empty until a local commit, a NOTIFY or the poll interval wakes it.
 */
@Injectable()
export class Relay {
  private readonly logger = new Logger('Messaging:Relay');
  private readonly wakeup = new Wakeup();
  private readonly stopping = new Wakeup();
  private workers: Promise<void>[] = [];
  private running = false;
  // Batches go to best-effort subscribers in claim order, whichever claim loop finishes first.
  private dispatchTurn: Promise<void> = Promise.resolve();
  // The claim in flight in this process (claims here run one at a time).
  private claiming: Promise<unknown> = Promise.resolve();
  private readonly appendedListeners: (() => void)[] = [];

  constructor(
    private readonly connections: MessagingConnections,
    private readonly metrics: MessagingMetrics,
    // Only whether it is on (the claim then keeps what it deletes); MessagingRuntime runs its pruning.
    private readonly retention: OutboxRetention,
    private readonly observers: ObserverDispatcher,
    @Inject(TRANSPORT) private readonly transport: Transport,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the claim loops. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.workers = Array.from({ length: this.config.relayConcurrency }, () => this.work());
  }

  /** Calls `listener` after each claim of this relay that appended to the event log (other processes' log readers are told). */
  onAppended(listener: () => void): void {
    this.appendedListeners.push(listener);
  }

  /** Asks the relay to look at the outbox now. */
  wake(): void {
    this.wakeup.signal();
  }

  /** Stops claiming and waits for the batches in flight to commit. */
  async stop(): Promise<void> {
    this.running = false;
    this.wakeup.signal();
    this.stopping.signal();
    await Promise.all(this.workers);
    this.workers = [];
  }

  /** Claims and hands on one batch; returns the number of events it carried (0 if another relay holds the claim). */
  async relayOnce(): Promise<number> {
    return (await this.claimOnce()).claimed;
  }

  /**
   * Like `relayOnce`, and says whether another relay held the claim lock. Claims of this process
   * run one after the other (a loop that finds one in flight waits for it, then claims): across
   * the database they are one at a time anyway (the claim lock), and a loop that met the lock
   * taken by its own process would only pay a round trip and sleep.
   */
  async claimOnce(): Promise<ClaimOutcome> {
    const claim: Promise<ClaimStep> = this.claiming.then(() =>
      this.transport.delivery === 'log' ? this.claimToLog() : this.claimAndPublish().then((outcome) => ({ outcome })),
    );
    this.claiming = claim.catch(() => undefined);
    const { outcome, turn } = await claim;
    // The next claim need not wait for this batch's hand-over to best-effort subscribers.
    await turn;
    return outcome;
  }

  /** The in-process transport's claim: one statement; the batch is handed on in its dispatch turn. */
  private async claimToLog(): Promise<ClaimStep> {
    const started = performance.now();
    // Nobody reads a log that no durable subscriber has: the batch then only goes to best-effort ones.
    const logged = (this.transport.logReaders?.() ?? 0) > 0;
    await this.transport.assertMayClaim?.();
    const handedOn = [...new Set([...(this.transport.publishedTypes?.() ?? []), ...this.observers.types()])];
    // Claims of this process are one at a time, so turns taken here follow claim order.
    const [dispatch, turn] = this.takeDispatchTurn();
    let batch: ClaimedBatch = { envelopes: [], counts: [] };
    let runner: QueryRunner | undefined;
    let broken: Error | undefined;
    try {
      runner = (await this.connections.dataSource()).createQueryRunner();
      const client = (await runner.connect()) as PoolClient;
      const claim = loggedClaimStatement(this.retention.enabled, logged);
      const appendedTypes = this.transport.appendedTypes?.() ?? [];
      const values = [this.config.relayBatchSize, handedOn, ...(logged ? [appendedTypes] : [])];
      let rows: ClaimedRow[];
      try {
        ({ rows } = await client.query<ClaimedRow>({ ...claim, values }));
      } catch (error) {
        // Nothing is committed when the statement fails; the connection may be gone: not reused.
        broken = error as Error;
        throw error;
      }
      if (!rows[0]?.locked) return { outcome: { claimed: 0, busy: true }, turn };
      batch = { envelopes: rows.filter((row) => row.seq !== null).map(toEnvelope), counts: rows[0].counts ?? [], appended: appendedClaim(rows, appendedTypes) };
      traceRelay(batch.envelopes, this.transport.name, started)?.end();
    } finally {
      // Whatever happened, the turn is given up (with nothing, unless the batch committed).
      dispatch(batch);
      if (runner) await releaseRunner(runner, broken);
    }
    const claimed = batch.counts.reduce((sum, count) => sum + count.events, 0);
    if (claimed > 0) this.recordCounts(batch.counts, claimed, performance.now() - started);
    return { outcome: { claimed }, turn };
  }

  /** A broker's claim: the batch is published inside the claim transaction, deleted once the broker took it. */
  private async claimAndPublish(): Promise<ClaimOutcome> {
    const started = performance.now();
    const runner = (await this.connections.dataSource()).createQueryRunner();
    let broken: Error | undefined;
    let envelopes: EventEnvelope[] = [];
    // Spans of the traced events of the batch (none when tracing is off), ended at the commit.
    let relayTrace: RelayTrace | undefined;
    try {
      // The relay's own transaction runs on the raw driver connection: it needs no entity
      // manager, and this saves round trips (BEGIN with SET LOCAL in one, a prepared claim).
      const client = (await runner.connect()) as PoolClient;
      // Only this commit is asynchronous: if a server crash loses it, the rows come back and are
      // delivered again, which the inboxes absorb. Saves a WAL flush per batch.
      await client.query('BEGIN; SET LOCAL synchronous_commit = off');
      try {
        const [{ locked }] = (await client.query<{ locked: boolean }>(RELAY_LOCK)).rows;
        if (!locked) {
          await client.query('ROLLBACK');
          return { claimed: 0, busy: true };
        }
        envelopes = await this.publishLeftInLog(client);
        const claim = claimStatement(this.retention.enabled);
        const { rows } = await client.query<OutboxRow>({ ...claim, values: [this.config.relayBatchSize] });
        const claimed = rows.map(toEnvelope);
        relayTrace = traceRelay(claimed, this.transport.name, started);
        if (claimed.length > 0) await (relayTrace ? relayTrace.run(() => this.publish(claimed)) : this.publish(claimed));
        await client.query('COMMIT');
        relayTrace?.end();
        relayTrace = undefined;
        envelopes.push(...claimed);
      } catch (error) {
        relayTrace?.end(error);
        await client.query('ROLLBACK').catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
    } finally {
      // A connection that could not roll back is destroyed, never handed to the next claim.
      await releaseRunner(runner, broken);
    }
    if (envelopes.length > 0) this.recordPublished(envelopes, performance.now() - started);
    return { claimed: envelopes.length };
  }

  /**
   * After the commit, in claim order: the log readers look now, and best-effort subscribers and
   * observers get the batch (at most once: what they miss in a crash is not theirs to have).
   */
  private takeDispatchTurn(): [(batch: ClaimedBatch) => void, Promise<void>] {
    let dispatch!: (batch: ClaimedBatch) => void;
    const committed = new Promise<ClaimedBatch>((resolve) => (dispatch = resolve));
    const turn = this.dispatchTurn.then(() => committed).then((batch) => this.publishAfterLog(batch));
    this.dispatchTurn = turn;
    return [dispatch, turn];
  }

  /** Log rows left by an in-process run of this database: published first, in log order. */
  private async publishLeftInLog(client: PoolClient): Promise<EventEnvelope[]> {
    const { rows } = await client.query<{ position: string; events: EventEnvelope[] }>(LEFT_IN_LOG);
    const envelopes = rows.sort((left, right) => Number(left.position) - Number(right.position)).flatMap((row) => row.events.map(fromLog));
    if (envelopes.length > 0) await this.publish(envelopes);
    return envelopes;
  }

  private async publishAfterLog({ envelopes, counts, appended }: ClaimedBatch): Promise<void> {
    // The log has new rows: its readers here take them (or look now), other processes' look now.
    if (appended && this.transport.appended) this.transport.appended(appended);
    if (appended) for (const listener of this.appendedListeners) listener();
    try {
      if (envelopes.length > 0) await this.publish(envelopes);
      else if (counts.length > 0 && !this.transport.appended) await this.transport.publish([]);
    } catch (error) {
      this.logger.warn(`best-effort delivery of a relayed batch failed (durable subscribers are not affected): ${describeFailure(error).message}`);
    }
  }

  private recordPublished(envelopes: readonly EventEnvelope[], durationMs: number): void {
    const counts = new Map<string, ClaimCount>();
    for (const { source, type } of envelopes) {
      const key = `${source}\u0000${type}`;
      const entry = counts.get(key) ?? { source, eventType: type, events: 0 };
      entry.events += 1;
      counts.set(key, entry);
    }
    this.recordCounts([...counts.values()], envelopes.length, durationMs);
  }

  private recordCounts(counts: readonly ClaimCount[], events: number, durationMs: number): void {
    this.metrics.record({ kind: 'relay-batch', events, durationMs });
    for (const entry of counts) this.metrics.record({ kind: 'published', ...entry });
  }

  /** Hands a batch to the transport, then (never waiting for them) to this process's observers. */
  private async publish(envelopes: EventEnvelope[]): Promise<void> {
    await this.transport.publish(envelopes);
    this.observers.dispatch(envelopes);
  }

  private async work(): Promise<void> {
    let failures = 0;
    while (this.running) {
      let outcome: ClaimOutcome;
      try {
        outcome = await this.claimOnce();
        failures = 0;
      } catch (error) {
        failures += 1;
        const delayMs = retryDelayMs(failures, { baseDelayMs: 100, maxDelayMs: Math.max(100, this.config.relayPollIntervalMs) });
        this.metrics.record({ kind: 'relay-failed', consecutive: failures });
        // Every failure while they are few, then one line in 20: an outage is visible, not a flood.
        if (failures <= 3 || failures % 20 === 0) {
          this.logger.error(`relay batch failed (${failures} in a row), its events stay in the outbox; next try in ${delayMs} ms: ${describeFailure(error).message}`);
        }
        await this.stopping.sleep(delayMs);
        continue;
      }
      if (!this.running) break;
      // Another relay is claiming: look again shortly (it may stop at any time), not at once.
      if (outcome.busy) await this.wakeup.sleep(Math.min(BUSY_RETRY_MS, this.config.relayPollIntervalMs));
      else if (outcome.claimed < this.config.relayBatchSize) await this.wakeup.sleep(this.config.relayPollIntervalMs);
    }
  }
}

/** How soon a relay that found the claim lock taken tries again. */
const BUSY_RETRY_MS = 50;

/** The log rows a claim appended, as its result rows give them; undefined when it appended none. */
function appendedClaim(rows: readonly ClaimedRow[], types: readonly string[]): AppendedClaim | undefined {
  const [row] = rows;
  if (row?.first == null || row.last == null) return undefined;
  const entries = rows
    .filter((each) => each.log_position != null)
    .map((each) => ({ position: Number(each.log_position), type: each.type, events: each.log_events ?? '[]' }));
  return { first: Number(row.first), last: Number(row.last), rows: Number(row.rows), types, entries };
}

function toEnvelope(row: OutboxRow): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    occurredAt: isoInstant(row.occurred_at),
    source: row.source,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    payload: row.payload,
    ...(row.ordering_key === null ? {} : { orderingKey: row.ordering_key, keySeq: Number(row.key_seq) }),
    ...(row.traceparent === null ? {} : { traceparent: row.traceparent }),
    ...(row.tracestate === null ? {} : { tracestate: row.tracestate }),
  };
}

/** An envelope as the log row holds it: fields an event lacks (key, trace context) are null there. */
type LoggedEnvelope = EventEnvelope & { orderingKey?: string | null; keySeq?: number | null; traceparent?: string | null; tracestate?: string | null };

/** An envelope as the log row holds it, with the null fields dropped (as `toEnvelope` leaves them out). */
export function fromLog(logged: LoggedEnvelope): EventEnvelope {
  const { orderingKey, keySeq, traceparent, tracestate } = logged;
  if (orderingKey !== null && keySeq !== null && traceparent !== null && tracestate !== null) return logged;
  // Built field by field, in the log's key order: object rest and spreads per event were 4.5% of
  // a keyed pipeline's CPU, and their garbage a good part of its collections.
  const envelope: Writable<EventEnvelope> = {
    id: logged.id,
    type: logged.type,
    version: logged.version,
    occurredAt: logged.occurredAt,
    source: logged.source,
    correlationId: logged.correlationId,
    causationId: logged.causationId,
    payload: logged.payload,
  };
  if (orderingKey != null && keySeq != null) {
    envelope.orderingKey = orderingKey;
    envelope.keySeq = keySeq;
  }
  if (traceparent != null) envelope.traceparent = traceparent;
  if (tracestate != null) envelope.tracestate = tracestate;
  return envelope;
}

/**
 * The instant as ISO 8601. What the outbox holds but JavaScript cannot represent ('infinity', a
 * year past 275760, written by an older producer or by hand) is passed on as PostgreSQL wrote it:
 * the relay must never fail on a row, or that row would block every event behind it. A
 * subscriber that cannot use it fails on that event alone (retried, then dead-lettered).
 */
function isoInstant(value: unknown): string {
  return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : String(value);
}
