import type { OpenAPIObject } from '@nestjs/swagger';

type Operation = NonNullable<OpenAPIObject['paths'][string]['get']>;
type Schema = Record<string, unknown>;

// The admin controllers (the messaging platform's dead letters, the app's pipeline and invariant
// checks) carry no Swagger decorators: they are documented here, by path, from their contracts.

const ERROR: Schema = {
  type: 'object',
  required: ['statusCode', 'error', 'message'],
  properties: { statusCode: { type: 'integer' }, error: { type: 'string' }, message: { type: 'string' }, code: { type: 'string' }, field: { type: 'string' } },
};
const ENVELOPE: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    type: { type: 'string' },
    version: { type: 'integer' },
    occurredAt: { type: 'string', format: 'date-time' },
    source: { type: 'string' },
    correlationId: { type: 'string' },
    causationId: { type: 'string', nullable: true },
    payload: { type: 'object', additionalProperties: true },
  },
};
const DEAD_LETTER: Schema = {
  type: 'object',
  properties: {
    id: { type: 'string', format: 'uuid' },
    subscriber: { type: 'string', example: 'ledger.apply-transfers' },
    eventId: { type: 'string', format: 'uuid' },
    eventType: { type: 'string', example: 'ingestion.transfer-ingested' },
    error: { type: 'string' },
    stack: { type: 'string', nullable: true },
    attempts: { type: 'integer' },
    failedAt: { type: 'string', format: 'date-time' },
    envelope: ENVELOPE,
  },
};
const BACKLOG: Schema = {
  type: 'object',
  properties: {
    outboxPending: { type: 'integer' },
    oldestPendingAgeMs: { type: 'integer', nullable: true },
    retriesPending: { type: 'integer' },
    deadLetters: { type: 'integer' },
    heldEvents: { type: 'integer' },
    heldKeys: { type: 'integer' },
    logPending: { type: 'integer' },
  },
};
const INVARIANTS: Schema = {
  type: 'object',
  properties: {
    ok: { type: 'boolean' },
    results: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, ok: { type: 'boolean' } }, additionalProperties: true } },
  },
  additionalProperties: true,
};

const json = (schema: Schema, description: string) => ({ description, content: { 'application/json': { schema } } });
const GUARDED = {
  '401': json(ERROR, 'Missing or wrong bearer token'),
  '404': json(ERROR, 'Admin endpoints are off (no ADMIN_TOKEN), or nothing found'),
};

const DOCS: Record<string, Partial<Record<'get' | 'post', Partial<Operation>>>> = {
  '/admin/dead-letters': {
    get: {
      summary: 'Dead letters, newest first; page on with `before=nextBefore`',
      responses: {
        '200': json({ type: 'object', properties: { items: { type: 'array', items: DEAD_LETTER }, nextBefore: { type: 'string', nullable: true } } }, 'One page'),
        '400': json(ERROR, 'Bad limit'),
        ...GUARDED,
      },
    },
  },
  '/admin/dead-letters/replay': {
    post: {
      summary: "Hands every dead letter of one subscriber back to it (fresh attempts, through its inbox)",
      responses: { '202': json({ type: 'object', properties: { subscriber: { type: 'string' }, replayed: { type: 'integer' } } }, 'Replayed'), '400': json(ERROR, 'subscriber missing'), ...GUARDED },
    },
  },
  '/admin/dead-letters/{id}/replay': {
    post: {
      summary: 'Hands one dead letter back to its subscriber',
      responses: { '202': json({ type: 'object', properties: { subscriber: { type: 'string' }, eventId: { type: 'string', format: 'uuid' } } }, 'Replayed'), '400': json(ERROR, 'Bad id'), ...GUARDED },
    },
  },
  '/admin/outbox/retained': {
    get: {
      summary: 'How many delivered events the outbox retention keeps (OUTBOX_RETENTION_HOURS), and their time span',
      responses: { '200': json({ type: 'object', additionalProperties: true }, 'The retained events'), ...GUARDED },
    },
  },
  '/admin/outbox/redrive': {
    post: {
      summary: 'Puts retained events delivered since `since` (until `until`) back into the outbox, to be published again',
      responses: {
        '202': json({ type: 'object', properties: { since: { type: 'string', format: 'date-time' }, redriven: { type: 'integer' } } }, 'Re-driven'),
        '400': json(ERROR, '`since` missing or not ISO 8601'),
        ...GUARDED,
      },
    },
  },
  '/admin/pipeline': {
    get: { summary: 'What waits in the outbox and the retry table, and how many dead letters there are', responses: { '200': json(BACKLOG, 'The backlog'), ...GUARDED } },
  },
  '/admin/invariants': {
    get: {
      summary: 'Checks the ledger invariants through the modules\' public queries (needs ingestion, ledger and analytics here)',
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
