import type { EventEnvelope } from '../../events/event-envelope';

/** The one field of a stream entry: the whole envelope as JSON. */
export const ENVELOPE_FIELD = 'envelope';

/** An entry as Redis returns it: its id and a flat field/value list (null once the entry was trimmed). */
export type RawStreamEntry = [id: string, fields: string[] | null];

/** A decoded entry; `envelope` is undefined when the entry was trimmed away or is not ours. */
export interface StreamEntry {
  id: string;
  envelope?: EventEnvelope;
}

/**
 * One stream per event type, `<prefix>:events:<type>`: a consumer group then reads exactly the
 * types its module subscribes to (nothing to skip and ack), each type is trimmed on its own,
 * and the relay's pipeline appends to as many streams as the batch has types.
 */
export function streamKey(prefix: string, eventType: string): string {
  return `${prefix}:events:${eventType}`;
}

/** SCAN pattern of every stream under `prefix` (the prefix is validated to hold no glob characters). */
export function streamPattern(prefix: string): string {
  return `${prefix}:events:*`;
}

export function encodeEnvelope(envelope: EventEnvelope): string {
  return JSON.stringify(envelope);
}

export function decodeEntry([id, fields]: RawStreamEntry): StreamEntry {
  if (!fields) return { id };
  for (let index = 0; index + 1 < fields.length; index += 2) {
    if (fields[index] !== ENVELOPE_FIELD) continue;
    try {
      const envelope = JSON.parse(fields[index + 1]) as EventEnvelope;
      return isEnvelope(envelope) ? { id, envelope } : { id };
    } catch {
      return { id };
    }
  }
  return { id };
}

/** Reads the `[[stream, entries]]` reply of XREAD / XREADGROUP; null (timeout) is no entries. */
export function entriesOfReply(reply: unknown): RawStreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const [, entries] = reply[0] as [string, RawStreamEntry[]];
  return entries ?? [];
}

function isEnvelope(value: unknown): value is EventEnvelope {
  const candidate = value as Partial<EventEnvelope> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.id === 'string' &&
    typeof candidate.type === 'string' &&
    typeof candidate.version === 'number' &&
    typeof candidate.correlationId === 'string'
  );
}

/** `[k1, v1, k2, v2, …]` as an object. */
export function record(fields: readonly unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (let index = 0; index + 1 < fields.length; index += 2) result[String(fields[index])] = fields[index + 1];
  return result;
}

/** Stream id order (`<ms>-<seq>`): negative when `a` comes first, 0 when equal. */
export function compareIds(a: string, b: string): number {
  const [ams, aseq] = a.split('-').map(BigInt);
  const [bms, bseq] = b.split('-').map(BigInt);
  if (ams !== bms) return ams < bms ? -1 : 1;
  return aseq === bseq ? 0 : aseq < bseq ? -1 : 1;
}
