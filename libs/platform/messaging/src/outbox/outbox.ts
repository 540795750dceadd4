import type { EntityManager } from 'typeorm';
import { buildEnvelopes, type EnvelopeOrigin, type EventEnvelope } from '../events/event-envelope';
import type { IntegrationEvent } from '../events/integration-event';
import { queryRows } from '../sql/query-rows';
import type { OutboxSignals } from './outbox-signals';

const APPEND = `
  INSERT INTO messaging.outbox (id, type, version, occurred_at, source, correlation_id, causation_id, payload)
  SELECT e.id, e.type, e.version, $4::timestamptz, $5, $6, $7, e.payload
    FROM unnest($1::uuid[], $2::text[], $3::integer[], $8::json[]) AS e(id, type, version, payload)`;

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
  ) {}

  /**
   * Writes `events` with one statement through the caller's transaction `manager`, and returns
   * their envelopes. Correlation and causation come from the current context unless `origin`
   * names them.
   */
  async append(manager: EntityManager, events: readonly IntegrationEvent[], origin?: EnvelopeOrigin): Promise<EventEnvelope[]> {
    if (events.length === 0) return [];
    const envelopes = buildEnvelopes(events, this.module, origin);
    const first = envelopes[0];
    await queryRows(manager, APPEND, [
      envelopes.map((envelope) => envelope.id),
      envelopes.map((envelope) => envelope.type),
      envelopes.map((envelope) => envelope.version),
      first.occurredAt,
      this.module,
      first.correlationId,
      first.causationId,
      envelopes.map((envelope) => JSON.stringify(envelope.payload)),
    ]);
    this.signals.appended(manager);
    return envelopes;
  }
}
