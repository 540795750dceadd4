import type { EntityManager } from 'typeorm';
import { systemClock, type Clock } from '@modulith/core';
import { buildEnvelopes, type EnvelopeOrigin, type EventEnvelope } from '../events/event-envelope';
import type { IntegrationEvent } from '../events/integration-event';
import { queryRows } from '../sql/query-rows';
import { traceAppend, type TraceContextFields } from '../tracing/message-tracing';
import type { OutboxSignals } from './outbox-signals';

const APPEND = `
  INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, traceparent, tracestate, payload)
  SELECT e.id, e.type, e.version, $4::timestamptz, $5, $6, $7, $8, $9, e.payload
    FROM unnest($1::uuid[], $2::text[], $3::integer[], $10::json[]) AS e(id, type, version, payload)`;

const APPEND_KEYED = `
  INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, traceparent, tracestate, payload, ordering_key, key_seq)
  SELECT e.id, e.type, e.version, $4::timestamptz, $5, $6, $7, $8, $9, e.payload, e.ordering_key, e.key_seq
    FROM unnest($1::uuid[], $2::text[], $3::integer[], $10::json[], $11::text[], $12::bigint[]) AS e(id, type, version, payload, ordering_key, key_seq)`;

// Reserves `count` numbers per event type and key. The row lock this takes on each is held until
// the producer's transaction ends, so producers of one key append one after the other and their
// numbers follow commit order; rows are locked in sorted order, so two producers of the same
// keys cannot deadlock on them.
const RESERVE_KEY_SEQS = `
  INSERT INTO messaging.ordering_keys AS k (event_type, ordering_key, seq)
  SELECT r.event_type, r.ordering_key, r.count
    FROM unnest($1::text[], $2::text[], $3::bigint[]) AS r(event_type, ordering_key, count)
   ORDER BY r.event_type, r.ordering_key
  ON CONFLICT (event_type, ordering_key) DO UPDATE SET seq = k.seq + excluded.seq
  RETURNING event_type, ordering_key, seq::text AS last`;

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
    let envelopes = buildEnvelopes(events, this.module, origin, this.clock, traceContext);
    const first = envelopes[0];
    const keyed = envelopes.some((envelope) => envelope.orderingKey !== undefined);
    if (keyed) envelopes = await numberPerKey(manager, envelopes);
    await queryRows(manager, keyed ? APPEND_KEYED : APPEND, [
      envelopes.map((envelope) => envelope.id),
      envelopes.map((envelope) => envelope.type),
      envelopes.map((envelope) => envelope.version),
      first.occurredAt,
      this.module,
      first.correlationId,
      first.causationId,
      traceContext?.traceparent ?? null,
      traceContext?.tracestate ?? null,
      envelopes.map((envelope) => JSON.stringify(envelope.payload)),
      ...(keyed ? [envelopes.map((envelope) => envelope.orderingKey ?? null), envelopes.map((envelope) => envelope.keySeq ?? null)] : []),
    ]);
    this.signals.appended(manager);
    return envelopes;
  }
}

/** Gives each keyed envelope its `keySeq`: its type and key's next numbers, in the order of the append. */
async function numberPerKey(manager: EntityManager, envelopes: EventEnvelope[]): Promise<EventEnvelope[]> {
  const counts = new Map<string, { type: string; key: string; count: number }>();
  for (const { type, orderingKey } of envelopes) {
    if (orderingKey === undefined) continue;
    const id = sequenceId(type, orderingKey);
    const entry = counts.get(id) ?? { type, key: orderingKey, count: 0 };
    entry.count += 1;
    counts.set(id, entry);
  }
  const entries = [...counts.values()];
  const rows = await queryRows<{ event_type: string; ordering_key: string; last: string }>(manager, RESERVE_KEY_SEQS, [
    entries.map((entry) => entry.type),
    entries.map((entry) => entry.key),
    entries.map((entry) => entry.count),
  ]);
  const next = new Map(
    rows.map((row) => {
      const id = sequenceId(row.event_type, row.ordering_key);
      return [id, Number(row.last) - (counts.get(id)?.count ?? 0) + 1];
    }),
  );
  return envelopes.map((envelope) => {
    if (envelope.orderingKey === undefined) return envelope;
    const id = sequenceId(envelope.type, envelope.orderingKey);
    const keySeq = next.get(id) as number;
    next.set(id, keySeq + 1);
    return { ...envelope, keySeq };
  });
}

function sequenceId(type: string, key: string): string {
  return `${type}\u0000${key}`;
}
