import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The W3C trace context of the span that appended each event (`traceparent`, `tracestate`),
 * null when tracing is off: the relay hands it on in the envelope, so the event's handlers
 * continue the request's trace. One append shares one context, like its correlation id.
 */
export class TraceContext0006 implements MigrationInterface {
  readonly name = '0006-trace-context';

  async up(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE messaging.outbox ADD COLUMN traceparent text, ADD COLUMN tracestate text');
    await runner.query('ALTER TABLE messaging.outbox_delivered ADD COLUMN traceparent text, ADD COLUMN tracestate text');
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('ALTER TABLE messaging.outbox_delivered DROP COLUMN tracestate, DROP COLUMN traceparent');
    await runner.query('ALTER TABLE messaging.outbox DROP COLUMN tracestate, DROP COLUMN traceparent');
  }
}
