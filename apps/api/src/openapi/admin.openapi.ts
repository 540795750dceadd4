import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Schema = Record<string, unknown>;

// The admin controllers (the messaging platform's dead letters and outbox, the app's pipeline and
// invariant checks) carry no Swagger decorators: they are documented here, by path, from their
// contracts (DeadLetter, RetainedOutbox, PipelineState, InvariantReport). Their parameters are
// listed here too, so that optional ones are optional.

const ERROR: Schema = { $ref: '#/components/schemas/HttpError' };
const UUID: Schema = { type: 'string', format: 'uuid' };
const INSTANT: Schema = { type: 'string', format: 'date-time' };
const COUNT: Schema = { type: 'integer', minimum: 0 };
const SUBSCRIBER: Schema = { type: 'string', pattern: '^[A-Za-z0-9._:-]{1,200}$', example: 'ledger.apply-transfers' };
const ENVELOPE: Schema = {
  type: 'object',
  required: ['id', 'type', 'version', 'occurredAt', 'source', 'correlationId', 'causationId', 'payload'],
  properties: {
    id: UUID,
    type: { type: 'string' },
    version: { type: 'integer' },
    occurredAt: INSTANT,
    source: { type: 'string' },
    correlationId: { type: 'string' },
    causationId: { type: 'string', nullable: true },
    payload: {},
    orderingKey: { type: 'string' },
    keySeq: { type: 'integer' },
  },
};
const DEAD_LETTER: Schema = {
  type: 'object',
  required: ['id', 'subscriber', 'eventId', 'eventType', 'error', 'stack', 'attempts', 'failedAt', 'envelope'],
  properties: {
    id: UUID,
    subscriber: SUBSCRIBER,
    eventId: UUID,
    eventType: { type: 'string', example: 'ingestion.transfer-ingested' },
    error: { type: 'string' },
    stack: { type: 'string', nullable: true },
    attempts: COUNT,
    failedAt: INSTANT,
    envelope: ENVELOPE,
  },
};
const BACKLOG: Schema = {
  type: 'object',
  required: ['outboxPending', 'oldestPendingAgeMs', 'retriesPending', 'deadLetters', 'heldEvents', 'heldKeys', 'logPending', 'drained'],
  properties: {
    drained: { type: 'boolean', description: 'Nothing pending in the outbox, the event log, the retries or the broker (dead letters do not count)' },
    outboxPending: COUNT,
    oldestPendingAgeMs: { type: 'integer', nullable: true },
    retriesPending: COUNT,
    deadLetters: COUNT,
    heldEvents: COUNT,
    heldKeys: COUNT,
    logPending: COUNT,
    transportPending: { type: 'integer', nullable: true, description: 'Redis Streams only: published, not yet handled by every group' },
    transportLost: {
      type: 'object',
      description: 'Redis Streams only: what this process found lost since it started',
      properties: { events: COUNT, streamsOrGroupsVanished: COUNT, bestEffortEvents: COUNT },
    },
    streamsOverCap: {
      type: 'array',
      items: { type: 'object', properties: { stream: { type: 'string' }, length: COUNT, heldBy: { type: 'string' } } },
    },
  },
};
const INVARIANTS: Schema = {
  type: 'object',
  required: ['ok', 'results'],
  properties: {
    ok: { type: 'boolean' },
    results: {
      type: 'array',
      items: { type: 'object', required: ['name', 'ok', 'detail'], properties: { name: { type: 'string' }, ok: { type: 'boolean' }, detail: { type: 'string' } } },
    },
  },
};
const RETAINED: Schema = {
  type: 'object',
  required: ['rows', 'oldestDeliveredAt', 'newestDeliveredAt'],
  properties: { rows: COUNT, oldestDeliveredAt: { ...INSTANT, nullable: true }, newestDeliveredAt: { ...INSTANT, nullable: true } },
};

const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const query = (name: string, required: boolean, schema: Schema, description: string) => ({ name, in: 'query' as const, required, schema, description });
const GUARDED = {
  '401': json(ERROR, 'Missing or wrong bearer token'),
  '404': json(ERROR, 'Admin endpoints are off (no ADMIN_TOKEN), or nothing found'),
};

const DOCS: Record<string, Partial<Record<'get' | 'post', Partial<Operation>>>> = {
  '/admin/dead-letters': {
    get: {
      summary: 'Dead letters, newest first, paged: pass `nextBefore` back as `before`',
      parameters: [
        query('subscriber', false, SUBSCRIBER, "Only this subscriber's dead letters"),
        query('limit', false, { type: 'integer', minimum: 1, maximum: 1000, default: 100 }, 'Page size'),
        query('before', false, UUID, '`nextBefore` of the previous page'),
      ],
      responses: {
        '200': json(
          {
            type: 'object',
            required: ['items', 'nextBefore'],
            properties: { items: { type: 'array', items: DEAD_LETTER }, nextBefore: { ...UUID, nullable: true, description: 'Null on the last page' } },
          },
          'One page',
        ),
        '400': json(ERROR, 'Bad subscriber, limit or before; the message names it'),
        ...GUARDED,
      },
    },
  },
  '/admin/dead-letters/replay': {
    post: {
      summary: 'Hands every dead letter of one subscriber back to it (fresh attempts, through its inbox)',
      parameters: [query('subscriber', true, SUBSCRIBER, 'The subscriber whose dead letters to replay')],
      responses: {
        '202': json({ type: 'object', required: ['subscriber', 'replayed'], properties: { subscriber: SUBSCRIBER, replayed: COUNT } }, 'Replayed'),
        '400': json(ERROR, 'subscriber missing or malformed'),
        ...GUARDED,
      },
    },
  },
  '/admin/dead-letters/{id}/replay': {
    post: {
      summary: 'Hands one dead letter back to its subscriber',
      parameters: [{ name: 'id', in: 'path', required: true, schema: UUID, description: 'The dead letter id' }],
      responses: {
        '202': json({ type: 'object', required: ['subscriber', 'eventId'], properties: { subscriber: SUBSCRIBER, eventId: UUID } }, 'Replayed'),
        '400': json(ERROR, 'Bad id'),
        ...GUARDED,
      },
    },
  },
  '/admin/outbox/retained': {
    get: {
      summary: 'How many delivered events the outbox retention keeps (OUTBOX_RETENTION_HOURS), and their time span',
      responses: { '200': json(RETAINED, 'The retained events'), ...GUARDED },
    },
  },
  '/admin/outbox/redrive': {
    post: {
      summary: 'Puts retained events delivered since `since` (until `until`) back into the outbox, to be published again',
      parameters: [
        query('since', true, { type: 'string' }, 'ISO 8601 time: re-drive events delivered at or after it'),
        query('until', false, { type: 'string' }, 'ISO 8601 time: and before it (default: now)'),
      ],
      responses: {
        '202': json({ type: 'object', required: ['since', 'redriven'], properties: { since: INSTANT, redriven: COUNT } }, 'Re-driven'),
        '400': json(ERROR, '`since` missing, or `since` or `until` not ISO 8601'),
        ...GUARDED,
      },
    },
  },
  '/admin/pipeline': {
    get: { summary: 'What waits in the outbox and the retry table, and how many dead letters there are', responses: { '200': json(BACKLOG, 'The backlog'), ...GUARDED } },
  },
  '/admin/invariants': {
    get: {
      summary: "Checks the ledger invariants through the modules' public queries (needs ingestion, ledger and analytics here, or EVENT_TRANSPORT=redis to reach them where they run; else 404)",
      responses: { '200': json(INVARIANTS, 'The report; `ok` false names each violation'), ...GUARDED },
    },
  },
};

export function documentAdminEndpoints(document: OpenAPIObject): void {
  for (const [path, methods] of Object.entries(DOCS)) {
    for (const [method, docs] of Object.entries(methods)) {
      const operation = document.paths[path]?.[method as 'get' | 'post'];
      if (!operation) continue;
      Object.assign(operation, docs, { tags: ['admin'], security: [{ admin: [] }] });
    }
  }
}
