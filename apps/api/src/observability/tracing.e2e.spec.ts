import { randomBytes } from 'node:crypto';
import { createTestDatabase, eventually, type TestDatabase } from '@modulith/testing';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from '@modulith/messaging/testing';
import { assertBundle, startApi, type AppProcess } from '../testing/app-processes';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../testing/otlp-receiver';

// One request's trace, followed through the built app exporting OTLP over HTTP (JSON) to a
// receiver this test runs: in one process (in-process transport), then split over Redis into three
// processes. E2E_TRACE_WAIT_MS bounds the wait for the spans (default 60 s).
const WAIT_MS = Number(process.env['E2E_TRACE_WAIT_MS'] ?? 60_000);
const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const MODULES = ['ingestion', 'ledger', 'analytics', 'notifications'];
const SERVER = 2;

interface Topology {
  name: string;
  /** Process name → env; the first one takes the request. */
  processes(redisPrefix: string): Record<string, NodeJS.ProcessEnv>;
}

const TOPOLOGIES: Topology[] = [
  { name: 'one process, in-process transport', processes: () => ({ all: { EVENT_TRANSPORT: 'inprocess' } }) },
  {
    name: 'split over Redis: ingestion | ledger | analytics+notifications',
    processes: (prefix) => {
      const redis = { EVENT_TRANSPORT: 'redis', REDIS_URL, REDIS_KEY_PREFIX: prefix, DB_POOL_SIZE: '4' };
      return {
        ingestion: { ...redis, MODULES: 'ingestion' },
        ledger: { ...redis, MODULES: 'ledger' },
        readers: { ...redis, MODULES: 'analytics,notifications', RELAY_ENABLED: 'false' },
      };
    },
  },
];

describe('OpenTelemetry traces of one request across every module (built app, OTLP over HTTP/JSON)', () => {
  let receiver: OtlpReceiver;

  beforeAll(async () => {
    assertBundle();
    await requireRedis(REDIS_URL);
    receiver = await startOtlpReceiver();
  });

  afterAll(async () => {
    await receiver?.close();
  });

  describe.each(TOPOLOGIES)('$name', (topology) => {
    let db: TestDatabase;
    let prefix: string;
    const running: AppProcess[] = [];

    beforeAll(async () => {
      db = await createTestDatabase('tracing');
      prefix = redisTestPrefix('tracing');
      const envs = Object.entries(topology.processes(prefix)).map(([name, env]): [string, NodeJS.ProcessEnv] => [
        name,
        {
          ...env,
          DATABASE_URL: db.url,
          LOG_LEVEL: 'debug',
          OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          OTEL_SERVICE_NAME: `modulith-${name}`,
          OTEL_TRACES_SAMPLER: 'parentbased_always_on',
          // Spans leave in 200 ms batches rather than every 5 s.
          OTEL_BSP_SCHEDULE_DELAY: '200',
        },
      ]);
      // The first process migrates alone; the others then start side by side.
      const [first, ...rest] = envs;
      running.push(await startApi(first[0], first[1]));
      running.push(...(await Promise.all(rest.map(([name, env]) => startApi(name, env)))));
    }, 180_000);

    afterAll(async () => {
      await Promise.all(running.splice(0).map((app) => app.stop()));
      await deleteRedisKeys(REDIS_URL, prefix);
      await db?.drop();
    }, 60_000);

    it('continues the trace of a request through the command handler, outbox, relay, transport and every subscriber', async () => {
      const traceId = randomBytes(16).toString('hex');
      const callerSpanId = randomBytes(8).toString('hex');
      const response = await fetch(`${running[0].baseUrl}/transfers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01` },
        body: JSON.stringify({ id: `t-trace-${traceId.slice(0, 8)}`, from: 'alice', to: 'bob', amount: '7', currency: 'EUR', occurredAt: '2026-01-31T12:00:00Z' }),
      });
      expect(response.status).toBe(201);

      const inTrace = (): ReceivedSpan[] => receiver.spans().filter((span) => span.traceId === traceId);
      const processedBy = (module: string, eventType: string) =>
        inTrace().filter((span) => span.name === `process ${eventType}` && span.attributes['modulith.module'] === module);
      await eventually(
        () =>
          processedBy('ledger', 'ingestion.transfer-ingested').length > 0 &&
          processedBy('analytics', 'ingestion.transfer-ingested').length > 0 &&
          processedBy('notifications', 'ledger.balance-changed').length >= 2 &&
          processedBy('ledger', 'ledger.balance-changed').length > 0,
        {
          message: 'the spans of every module (E2E_TRACE_WAIT_MS)',
          timeoutMs: WAIT_MS,
          pollMs: 200,
          describe: () => `spans in the trace: ${JSON.stringify(inTrace().map((span) => `${span.service}: ${span.name} [${span.attributes['modulith.module'] ?? ''}]`))}`,
        },
      );
      const spans = inTrace();
      const byId = new Map(spans.map((span) => [span.spanId, span]));

      // The request: the HTTP server span continues the caller's trace.
      const server = spans.find((span) => span.kind === SERVER && span.parentSpanId === callerSpanId);
      expect(server).toMatchObject({ service: `modulith-${Object.keys(topology.processes(prefix))[0]}` });
      // The append is a producer span inside the request; its event's relay and consumers hang under it.
      const ingested = spans.find((span) => span.name === 'create ingestion.transfer-ingested');
      expect(ingested?.attributes['modulith.module']).toBe('ingestion');
      expect(ancestors(ingested as ReceivedSpan, byId)).toContain(server?.spanId);
      expect(spans.filter((span) => span.name === 'publish ingestion.transfer-ingested').map((span) => span.parentSpanId)).toEqual([ingested?.spanId]);
      for (const span of [...processedBy('ledger', 'ingestion.transfer-ingested'), ...processedBy('analytics', 'ingestion.transfer-ingested')]) {
        expect(span.parentSpanId).toBe(ingested?.spanId);
      }
      // An event derived from the event: the ledger appends BalanceChanged inside its consumer span.
      const changed = spans.filter((span) => span.name === 'create ledger.balance-changed');
      expect(changed).toHaveLength(1);
      expect(byId.get(changed[0].parentSpanId)?.attributes['modulith.module']).toBe('ledger');
      for (const span of [...processedBy('notifications', 'ledger.balance-changed'), ...processedBy('ledger', 'ledger.balance-changed')]) {
        expect(span.parentSpanId).toBe(changed[0].spanId);
      }
      // Every module took part in this one trace, and the instrumentations saw the database (and the broker).
      expect(new Set(spans.map((span) => span.attributes['modulith.module']).filter(Boolean))).toEqual(new Set(MODULES));
      expect(spans.some((span) => (span.attributes['db.system'] ?? span.attributes['db.system.name']) === 'postgresql')).toBe(true);
      if (running.length > 1) {
        expect(new Set(spans.map((span) => span.service))).toEqual(new Set(running.map((app) => `modulith-${app.name}`)));
        expect(spans.some((span) => (span.attributes['db.system'] ?? span.attributes['db.system.name']) === 'redis')).toBe(true);
      }
      // The logs carry the trace id, in every process.
      for (const app of running) expect(app.output()).toContain(`"trace_id":"${traceId}"`);
    }, 120_000);
  });
});

/** The span ids above `span` in the trace, nearest first. */
function ancestors(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): string[] {
  const found: string[] = [];
  for (let parent = span.parentSpanId; parent && !found.includes(parent); parent = byId.get(parent)?.parentSpanId ?? '') found.push(parent);
  return found;
}
