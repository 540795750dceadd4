import type { EntityManager } from 'typeorm';
import { systemClock, type Clock } from '@modulith/core';
import { buildEnvelopes, type EnvelopeOrigin, type EventEnvelope, type Writable } from '../events/event-envelope';
import type { IntegrationEvent } from '../events/integration-event';
import { queryRows } from '../sql/query-rows';
import { traceAppend, type TraceContextFields } from '../tracing/message-tracing';
import type { OutboxSignals } from './outbox-signals';

// The payloads travel as one JSON array ($10), split in order by PostgreSQL: as a json[] array
// literal, each payload's text had to be escaped in the app (quotes and backslashes, by regular
// expressions, per event) and unescaped again by the server.
const PAYLOADS = 'ARRAY(SELECT p FROM json_array_elements($10::json) WITH ORDINALITY AS j(p, n) ORDER BY n)';

const APPEND = `
  INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, traceparent, tracestate, payload)
  SELECT e.id, e.type, e.version, $4::timestamptz, $5, $6, $7, $8, $9, e.payload
    FROM unnest($1::uuid[], $2::text[], $3::integer[], ${PAYLOADS}) AS e(id, type, version, payload)`;

// Keyed events are numbered and written in one statement: it reserves `count` numbers per event
// type and key (`ordering_keys`), numbers the events from them in the order of the append, and
// inserts them. The row lock the reservation takes on each key is held until the producer's
// transaction ends, so producers of one key append one after the other and their numbers follow
// commit order; keys are locked in sorted order, so two producers of the same keys cannot
// deadlock on them. (Reserving in a statement of its own and numbering in the app held those
// locks one round trip longer, while the other producer of the same keys waited.)
const APPEND_KEYED = `
  WITH e AS (
         SELECT * FROM unnest($1::uuid[], $2::text[], $3::integer[], ${PAYLOADS}, $11::text[])
                  WITH ORDINALITY AS e(id, type, version, payload, ordering_key, n)),
       counts AS (
         SELECT type, ordering_key, count(*) AS count FROM e WHERE ordering_key IS NOT NULL GROUP BY type, ordering_key),
       reserved AS (
         INSERT INTO messaging.ordering_keys AS k (event_type, ordering_key, seq)
         SELECT type, ordering_key, count FROM counts ORDER BY type, ordering_key
         ON CONFLICT (event_type, ordering_key) DO UPDATE SET seq = k.seq + excluded.seq
         RETURNING event_type, ordering_key, seq AS last),
       numbered AS (
         SELECT e.*, r.last - c.count + row_number() OVER (PARTITION BY e.type, e.ordering_key ORDER BY e.n) AS key_seq
           FROM e LEFT JOIN reserved r ON r.event_type = e.type AND r.ordering_key = e.ordering_key
                  LEFT JOIN counts c ON c.type = e.type AND c.ordering_key = e.ordering_key)
  INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, traceparent, tracestate, payload, ordering_key, key_seq)
  SELECT id, type, version, $4::timestamptz, $5, $6, $7, $8, $9, payload, ordering_key, CASE WHEN ordering_key IS NULL THEN NULL ELSE key_seq END
    FROM numbered ORDER BY n
  RETURNING id, key_seq::text AS key_seq`;

/**
 * Where a module publishes integration events: inside the transaction that makes the change
 * they describe, so both commit or neither does. Nothing is sent from here; the relay moves
 * committed rows to subscribers. Inject it in a module that imports
 * `MessagingModule.forModule({ module, schema })`:
 *
 * ```ts
 * await this.database.transaction(async (tx) => {
 *   await tx.query('INSERT INTO ingestion.transfers ...');
 *   await this.outbox.append(tx, accepted.map((t) => new TransferIngested({ ... })));
 * });
 * ```
 */
export class Outbox {
  constructor(
    /** The publishing module, recorded as each envelope's `source`. */
    readonly module: string,
    private readonly signals: OutboxSignals,
    /** Stamps each envelope's `occurredAt`. */
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Writes `events` with one statement through the caller's transaction `manager`, and returns
   * their envelopes. Correlation and causation come from the current context unless `origin`
   * names them. Keyed events (see `IntegrationEvent.orderingKey`) take one more statement that
   * numbers them per key and locks their keys until the transaction ends: append them once
   * the transaction holds its own row locks, so it waits on a key only as long as it would
   * have waited on the entity the key names. With tracing on, the append is a producer span of
   * the active trace, and the envelopes carry its W3C trace context.
   */
  async append(manager: EntityManager, events: readonly IntegrationEvent[], origin?: EnvelopeOrigin): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const eventType = (events[0].constructor as { type?: string }).type ?? 'unknown';
    return traceAppend(this.module, eventType, events.length, (traceContext) => this.write(manager, events, origin, traceContext));
  }

  private async write(manager: EntityManager, events: readonly IntegrationEvent[], origin: EnvelopeOrigin | undefined, traceContext?: TraceContextFields): Promise<EventEnvelope[]> {
    const envelopes = buildEnvelopes(events, this.module, origin, this.clock, traceContext);
    const first = envelopes[0];
    const keyed = envelopes.some((envelope) => envelope.orderingKey !== undefined);
    const rows = await queryRows<{ id: string; key_seq: string | null }>(manager, keyed ? APPEND_KEYED : APPEND, [
      envelopes.map((envelope) => envelope.id),
      envelopes.map((envelope) => envelope.type),
      envelopes.map((envelope) => envelope.version),
      first.occurredAt,
      this.module,
      first.correlationId,
      first.causationId,
      traceContext?.traceparent ?? null,
      traceContext?.tracestate ?? null,
      JSON.stringify(envelopes.map((envelope) => envelope.payload)),
      ...(keyed ? [envelopes.map((envelope) => envelope.orderingKey ?? null)] : []),
    ]);
    this.signals.appended(manager);
    return keyed ? withKeySeqs(envelopes, rows) : envelopes;
  }
}

/**
 * Sets on each keyed envelope the `keySeq` the append gave it (rows: id and key_seq, in any
 * order). In place: `buildEnvelopes` made them for this append and nobody else holds them yet.
 */
function withKeySeqs(envelopes: Writable<EventEnvelope>[], rows: ReadonlyArray<{ id: string; key_seq: string | null }>): EventEnvelope[] {
  const numbers = new Map(rows.map((row) => [row.id.toLowerCase(), row.key_seq]));
  for (const envelope of envelopes) {
    const keySeq = envelope.orderingKey === undefined ? null : numbers.get(envelope.id.toLowerCase());
    if (keySeq != null) envelope.keySeq = Number(keySeq);
  }
  return envelopes;
}
