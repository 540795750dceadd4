// A producer module and two subscribing modules (one single-event, one batch) for this library's
// integration tests. The subscribers write effect rows without unique constraints, so a double
// delivery would show up as a duplicate row rather than as an error.
import { Inject, Injectable, Module, type DynamicModule } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { currentCorrelation } from '@modulith/core';
import { Database, defineModule, type MigrationClass } from '@modulith/database';
import type { EnvelopeOrigin } from '../events/event-envelope';
import { MessagingModule } from '../messaging.module';
import { Outbox } from '../outbox/outbox';
import {
  OnIntegrationEvent,
  type BatchDeliveryContext,
  type BestEffortContext,
  type DeliveryContext,
} from '../subscribers/on-integration-event.decorator';
import { CONTROL, FixtureControl, NothingHappened, ThingHappened, type ThingPayload } from './fixture-events';

function effectsMigration(schema: string): MigrationClass {
  return class CreateEffects implements MigrationInterface {
    readonly name = 'fixture-0001-effects';
    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`
        CREATE TABLE "${schema}".effects (
          event_id       uuid   NOT NULL,
          seq            integer NOT NULL,
          label          text   NOT NULL,
          tx             bigint NOT NULL DEFAULT txid_current(),
          correlation_id text,
          causation_id   text,
          batch_size     integer NOT NULL DEFAULT 1
        )`);
    }
    async down(): Promise<void> {
      // fixtures are dropped with their database
    }
  };
}

@Injectable()
export class Producer {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
  ) {}

  /** Writes rows of its own (naming the events: the record of what was published) and the events, in one transaction. */
  async publish(payloads: ThingPayload[], origin?: EnvelopeOrigin): Promise<string[]> {
    return this.database.transaction(async (tx) => {
      const envelopes = await this.outbox.append(tx, payloads.map((payload) => new ThingHappened(payload)), origin);
      const ids = envelopes.map((envelope) => envelope.id);
      await tx.query('INSERT INTO producer.things (seq, event_id) SELECT unnest($1::int[]), unnest($2::uuid[])', [payloads.map((payload) => payload.seq), ids]);
      return ids;
    });
  }

  /** Like publish, but keeps the transaction open until `release` resolves. */
  async publishHeld(payloads: ThingPayload[], release: Promise<void>): Promise<string[]> {
    return this.database.transaction(async (tx) => {
      const envelopes = await this.outbox.append(tx, payloads.map((payload) => new ThingHappened(payload)));
      await release;
      return envelopes.map((envelope) => envelope.id);
    });
  }

  /** Appends and then fails, so the transaction rolls back. */
  async publishAndFail(payloads: ThingPayload[]): Promise<void> {
    await this.database.transaction(async (tx) => {
      const envelopes = await this.outbox.append(tx, payloads.map((payload) => new ThingHappened(payload)));
      await tx.query('INSERT INTO producer.things (seq, event_id) SELECT unnest($1::int[]), unnest($2::uuid[])', [
        payloads.map((payload) => payload.seq),
        envelopes.map((envelope) => envelope.id),
      ]);
      throw new Error('business rule failed after append');
    });
  }

  async publishOther(count: number): Promise<void> {
    await this.database.transaction((tx) => this.outbox.append(tx, Array.from({ length: count }, (_, i) => new NothingHappened({ note: `n${i}` }))));
  }
}

@Module({
  imports: [
    MessagingModule.forModule(
      defineModule({
        name: 'producer',
        schema: 'producer',
        migrations: [
          class CreateThings implements MigrationInterface {
            readonly name = 'fixture-0001-things';
            async up(runner: QueryRunner): Promise<void> {
              await runner.query('CREATE TABLE producer.things (id bigserial PRIMARY KEY, seq integer NOT NULL, event_id uuid NOT NULL)');
            }
            async down(): Promise<void> {
              // dropped with the database
            }
          },
        ],
      }),
    ),
  ],
  providers: [Producer],
  exports: [Producer],
})
export class ProducerModule {}

@Injectable()
export class AlphaSubscriber {
  constructor(@Inject(CONTROL) private readonly control: FixtureControl) {}

  @OnIntegrationEvent(ThingHappened)
  async apply(event: ThingHappened, { manager, envelope }: DeliveryContext): Promise<void> {
    this.control.recordAttempt('alpha', event.payload.label);
    if (this.control.poison.alpha.has(event.payload.label)) {
      throw this.control.alphaError?.(event.payload.label) ?? new Error(`alpha cannot digest ${event.payload.label}`);
    }
    if (this.control.hang.has(event.payload.label)) await new Promise<never>(() => undefined);
    if (this.control.swallow.has(event.payload.label)) {
      await manager.query('SELECT 1/0').catch(() => undefined);
      return;
    }
    const context = currentCorrelation();
    await manager.query('INSERT INTO alpha.effects (event_id, seq, label, correlation_id, causation_id) VALUES ($1, $2, $3, $4, $5)', [
      envelope.id,
      event.payload.seq,
      event.payload.label,
      context?.correlationId ?? null,
      context?.causationId ?? null,
    ]);
  }
}

@Injectable()
export class BetaSubscriber {
  constructor(@Inject(CONTROL) private readonly control: FixtureControl) {}

  @OnIntegrationEvent(ThingHappened, { batch: 50 })
  async applyMany(events: ThingHappened[], { manager, envelopes }: BatchDeliveryContext): Promise<void> {
    this.control.batchSizes.push(events.length);
    for (const event of events) this.control.recordAttempt('beta', event.payload.label);
    if (this.control.betaDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.control.betaDelayMs));
    const poisoned = events.find((event) => this.control.poison.beta.has(event.payload.label));
    if (poisoned) throw new Error(`beta cannot digest ${poisoned.payload.label}`);
    await manager.query(
      'INSERT INTO beta.effects (event_id, seq, label, batch_size) SELECT unnest($1::uuid[]), unnest($2::int[]), unnest($3::text[]), $4',
      [envelopes.map((envelope) => envelope.id), events.map((event) => event.payload.seq), events.map((event) => event.payload.label), events.length],
    );
  }

  @OnIntegrationEvent(ThingHappened, { delivery: 'best-effort' })
  async watch(event: ThingHappened, _context: BestEffortContext): Promise<void> {
    if (this.control.bestEffortDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.control.bestEffortDelayMs));
    this.control.bestEffortSeen.push(event.payload.seq);
  }
}

/** A plain CQRS event handler: sees relayed events after the durable subscribers took them. */
@EventsHandler(ThingHappened)
export class ThingObserver implements IEventHandler<ThingHappened> {
  constructor(@Inject(CONTROL) private readonly control: FixtureControl) {}

  handle(event: ThingHappened): void {
    this.control.observed.push(event.payload.label);
  }
}

export function consumerModule(schema: 'alpha' | 'beta', subscriber: typeof AlphaSubscriber | typeof BetaSubscriber): DynamicModule {
  return {
    module: class ConsumerModule {},
    imports: [
      MessagingModule.forModule(defineModule({ name: schema, schema, migrations: [effectsMigration(schema)] })),
    ],
    providers: [subscriber],
  };
}

