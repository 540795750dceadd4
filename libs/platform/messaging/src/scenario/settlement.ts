import type { Database } from '@modulith/database';
import type { EventEnvelope } from '../events/event-envelope';
import type { SubscriberDefinition } from '../subscribers/subscriber-definition';

/** One event a durable subscriber here has not handled yet (or an event not relayed yet). */
export interface PendingDelivery {
  eventId: string;
  eventType: string;
  causationId: string | null;
  /** Null for an event still in the outbox that no durable subscriber here takes. */
  subscriber: string | null;
  /** Where it is: in the outbox, relayed but not handled, parked for a retry, held behind its key. */
  state: string;
}

/** A caused event a subscriber gave up on. */
export interface DeadLetteredDelivery {
  eventId: string;
  eventType: string;
  subscriber: string;
  error: string;
}

/** What a stimulus caused so far, read in one snapshot. */
export interface Settlement {
  /** Every event caused so far, in the order they were created (ids are time-ordered). */
  events: EventEnvelope[];
  pending: PendingDelivery[];
  deadLettered: DeadLetteredDelivery[];
}

interface EventRow {
  id: string;
  type: string;
  version: number;
  occurred_at: string;
  source: string;
  correlation_id: string;
  causation_id: string | null;
  payload: unknown;
  ordering_key: string | null;
  key_seq: number | null;
}

/**
 * Reads, in ONE statement (one snapshot), the events caused by the correlation `correlationId`
 * and who still owes them a delivery. One statement matters: a handler writes its inbox row and
 * the events it derives in one transaction, so a snapshot that shows the inbox row also shows
 * the derived events, and "nothing pending" can never be read between the two.
 *
 * Caused = the events appended under the correlation (the stimulus's own, and those of batch
 * handlers, which keep the correlation of their batch but name no single cause), then, again and
 * again, every event whose causation id is one of those. Events are looked for in the outbox and
 * in `outbox_delivered` (the scenario runs with outbox retention on, so relayed events are kept).
 */
export async function readSettlement(database: Database, correlationId: string, durable: readonly SubscriberDefinition[]): Promise<Settlement> {
  const schemas = [...new Set(durable.map((definition) => definition.schema))];
  const handled =
    schemas.map((schema) => `SELECT subscriber, event_id FROM "${schema}".inbox WHERE subscriber = ANY($2::text[])`).join(' UNION ALL ') ||
    'SELECT NULL::text AS subscriber, NULL::uuid AS event_id WHERE false';
  const [row]: { events: EventRow[]; pending: PendingDelivery[]; dead: DeadLetteredDelivery[] }[] = await database.dataSource.query(
    `WITH RECURSIVE known AS (
        SELECT id, type, version, occurred_at, source, correlation_id, causation_id, payload, ordering_key, key_seq, false AS relayed FROM messaging.outbox
        UNION ALL
        SELECT id, type, version, occurred_at, source, correlation_id, causation_id, payload, ordering_key, key_seq, true FROM messaging.outbox_delivered
      ), caused (id) AS (
        SELECT id FROM known WHERE correlation_id = $1
        UNION
        SELECT k.id FROM known k JOIN caused c ON k.causation_id = c.id::text
      ), events AS (
        SELECT * FROM known WHERE id IN (SELECT id FROM caused)
      ), durable AS (
        SELECT * FROM unnest($2::text[], $3::text[]) AS s(subscriber, event_type)
      ), handled AS (${handled}
      ), owed AS (
        SELECT e.id, e.type, e.causation_id, e.relayed, d.subscriber FROM events e JOIN durable d ON d.event_type = e.type
         WHERE NOT EXISTS (SELECT 1 FROM handled h WHERE h.subscriber = d.subscriber AND h.event_id = e.id)
      )
      SELECT
        (SELECT coalesce(json_agg(json_build_object('id', id, 'type', type, 'version', version, 'occurred_at', occurred_at, 'source', source,
                  'correlation_id', correlation_id, 'causation_id', causation_id, 'payload', payload, 'ordering_key', ordering_key, 'key_seq', key_seq)
                  ORDER BY id), '[]') FROM events) AS events,
        (SELECT coalesce(json_agg(json_build_object('eventId', o.id, 'eventType', o.type, 'causationId', o.causation_id, 'subscriber', o.subscriber,
                  'state', CASE WHEN NOT o.relayed THEN 'in the outbox, not relayed yet'
                                WHEN r.held THEN 'held behind an earlier event of its ordering key'
                                WHEN r.event_id IS NOT NULL THEN 'parked for a retry after ' || r.attempts || ' attempt(s): ' || r.last_error
                                ELSE 'relayed, not handled yet' END)
                  ORDER BY o.id, o.subscriber), '[]')::jsonb
           FROM owed o
           LEFT JOIN messaging.retries r ON r.subscriber = o.subscriber AND r.event_id = o.id
          WHERE NOT EXISTS (SELECT 1 FROM messaging.dead_letters x WHERE x.subscriber = o.subscriber AND x.event_id = o.id))
        ||
        (SELECT coalesce(json_agg(json_build_object('eventId', e.id, 'eventType', e.type, 'causationId', e.causation_id, 'subscriber', NULL,
                  'state', 'in the outbox, not relayed yet') ORDER BY e.id), '[]')::jsonb
           FROM events e WHERE NOT e.relayed AND NOT EXISTS (SELECT 1 FROM durable d WHERE d.event_type = e.type)) AS pending,
        (SELECT coalesce(json_agg(json_build_object('eventId', o.id, 'eventType', o.type, 'subscriber', o.subscriber, 'error', x.error) ORDER BY o.id), '[]')
           FROM owed o JOIN messaging.dead_letters x ON x.subscriber = o.subscriber AND x.event_id = o.id) AS dead`,
    [correlationId, durable.map((definition) => definition.subscriber), durable.map((definition) => definition.eventClass.type)],
  );
  return { events: row.events.map(toEnvelope), pending: row.pending, deadLettered: row.dead };
}

function toEnvelope(row: EventRow): EventEnvelope {
  const envelope: EventEnvelope = {
    id: row.id,
    type: row.type,
    version: row.version,
    occurredAt: new Date(row.occurred_at).toISOString(),
    source: row.source,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    payload: row.payload,
  };
  return row.ordering_key === null ? envelope : { ...envelope, orderingKey: row.ordering_key, keySeq: Number(row.key_seq) };
}
