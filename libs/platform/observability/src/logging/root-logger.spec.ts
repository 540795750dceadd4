import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { runWithCorrelation } from '@modulith/core';
import { createRootLogger } from './root-logger';

function capture(level: 'log' | 'debug' = 'log', secrets: string[] = []) {
  const lines: Record<string, unknown>[] = [];
  const logger = createRootLogger({ level, format: 'json', secrets, destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  return { logger, lines };
}

describe('createRootLogger', () => {
  it('adds the correlation and causation ids of the current context to every line, and nothing outside one', () => {
    const { logger, lines } = capture();
    logger.info('outside');
    runWithCorrelation({ correlationId: 'req-1', causationId: 'evt-9' }, () => logger.child({ context: 'ledger' }).info('inside'));
    runWithCorrelation({ correlationId: 'req-2' }, () => logger.info('no cause'));
    expect(lines[0]).not.toHaveProperty('correlationId');
    expect(lines[1]).toMatchObject({ msg: 'inside', context: 'ledger', correlationId: 'req-1', causationId: 'evt-9' });
    expect(lines[2]).toMatchObject({ correlationId: 'req-2' });
    expect(lines[2]).not.toHaveProperty('causationId');
  });

  it('writes level names and ISO times, and maps LOG_LEVEL names onto pino levels', () => {
    const { logger, lines } = capture('log');
    logger.debug('hidden');
    logger.info('shown');
    expect(lines).toEqual([expect.objectContaining({ level: 'info', msg: 'shown', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) })]);
    expect(createRootLogger({ level: 'verbose', format: 'json', destination: { write: () => undefined } }).level).toBe('trace');
  });

  it('masks authorization headers, token fields, URL passwords and listed secrets', () => {
    const { logger, lines } = capture('log', ['admin-secret-value']);
    logger.info({ req: { headers: { authorization: 'Bearer admin-secret-value', cookie: 'a=b' } }, adminToken: 'x', note: 'token admin-secret-value' }, 'postgres://u:pw@h/db');
    logger.error({ err: new Error('connect to postgres://u:pw@h/db refused') }, 'failed');
    const text = JSON.stringify(lines);
    expect(text).not.toContain('admin-secret-value');
    expect(text).not.toContain(':pw@');
    expect(lines[0]).toMatchObject({ msg: 'postgres://u:[redacted]@h/db', adminToken: '[redacted]', note: 'token [redacted]', req: { headers: { authorization: '[redacted]', cookie: '[redacted]' } } });
    expect(lines[1]).toMatchObject({ err: { message: 'connect to postgres://u:[redacted]@h/db refused' } });
  });

  it('adds the trace and span ids of the active span, with tracing on; nothing without a span or with tracing off', () => {
    const { logger, lines } = capture();
    trace.getTracer('test').startActiveSpan('off', (span) => {
      logger.info('tracing off');
      span.end();
    });
    const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] });
    provider.register();
    try {
      logger.info('no span');
      const ids = trace.getTracer('test').startActiveSpan('request', (span) => {
        runWithCorrelation({ correlationId: 'req-1' }, () => logger.info('in span'));
        span.end();
        return span.spanContext();
      });
      expect(lines[0]).not.toHaveProperty('trace_id');
      expect(lines[1]).not.toHaveProperty('trace_id');
      expect(lines[2]).toMatchObject({ msg: 'in span', correlationId: 'req-1', trace_id: ids.traceId, span_id: ids.spanId });
    } finally {
      trace.disable();
      context.disable();
      propagation.disable();
    }
  });
});
