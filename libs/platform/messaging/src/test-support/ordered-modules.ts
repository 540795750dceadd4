// A producer of keyed events and three subscribing modules (one single-event subscriber that
// holds a dead-lettered key, one batch subscriber, one single-event subscriber that releases it)
// for the ordered-delivery tests. Each subscriber records every event it applies, with its key,
// keySeq and transaction, in a table of its own without unique constraints: a duplicate shows up
// as a second row, an inversion as rows out of keySeq order (`n` is the order of application).
import { Inject, Injectable, Module, type DynamicModule, type Type } from '@nestjs/common';
import type { EntityManager, MigrationInterface, QueryRunner } from 'typeorm';
import { Database, defineModule } from '@modulith/database';
import type { EventEnvelope } from '../events/event-envelope';
import { MessagingModule } from '../messaging.module';
import { Outbox } from '../outbox/outbox';
import { OnIntegrationEvent, type BatchDeliveryContext, type DeliveryContext } from '../subscribers/on-integration-event.decorator';
import { eventName, Moved, Noted, ORDERED_CONTROL, ORDERED_SUBSCRIBERS, OrderedControl, type MovedPayload, type OrderedConsumer } from './ordered-events';

/** Publishes keyed events and records, in the same transaction, what it committed (`ordered_producer.sent`). */
@Injectable()
export class OrderedProducer {
  constructor(
    private readonly database: Database,
    private readonly outbox: Outbox,
  ) {}

  /** One transaction, one append: returns the envelopes, numbered per key. */
  async publish(moves: readonly MovedPayload[]): Promise<EventEnvelope[]> {
    return this.database.transaction((tx) => this.appendAndRecord(tx, moves));
  }

  /** Appends (taking numbers for the keys), records, then fails: the transaction rolls back. */
  async publishAndFail(moves: readonly MovedPayload[]): Promise<void> {
    await this.database.transaction(async (tx) => {
      await this.appendAndRecord(tx, moves);
      throw new Error('business rule failed after append');
    });
  }

  /** `count` unordered events nobody subscribes to, in transactions of at most 2,000. */
  async publishNoted(count: number): Promise<void> {
    for (let done = 0; done < count; done += 2000) {
      const size = Math.min(2000, count - done);
      await this.database.transaction((tx) => this.outbox.append(tx, Array.from({ length: size }, (_, index) => new Noted({ note: `n${done + index}` }))));
    }
  }

  private async appendAndRecord(tx: EntityManager, moves: readonly MovedPayload[]): Promise<EventEnvelope[]> {
    const envelopes = await this.outbox.append(tx, moves.map((move) => new Moved(move)));
    await tx.query(
      'INSERT INTO ordered_producer.sent (event_id, ordering_key, key_seq, label) SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::text[])',
      [
        envelopes.map((envelope) => envelope.id),
        envelopes.map((envelope) => envelope.orderingKey ?? null),
        envelopes.map((envelope) => envelope.keySeq ?? null),
        moves.map((move) => move.label),
      ],
    );
    return envelopes;
  }
}

@Module({
  imports: [
    MessagingModule.forModule(
      defineModule({
        name: 'ordered_producer',
        schema: 'ordered_producer',
        migrations: [
          class CreateSent implements MigrationInterface {
            readonly name = 'ordered-fixture-0001-sent';
            async up(runner: QueryRunner): Promise<void> {
              await runner.query('CREATE TABLE ordered_producer.sent (event_id uuid PRIMARY KEY, ordering_key text, key_seq bigint, label text NOT NULL)');
            }
            async down(): Promise<void> {
              // dropped with the database
            }
          },
        ],
      }),
    ),
  ],
  providers: [OrderedProducer],
  exports: [OrderedProducer],
})
export class OrderedProducerModule {}

/**
 * What every ordered subscriber does with a call: counts an attempt at each event, hangs (in
 * its transaction, after noting the backend pid) or fails when the control says so, else
 * records the events in the order it was given them.
 */
async function applyMoves(consumer: OrderedConsumer, control: OrderedControl, envelopes: readonly EventEnvelope[], manager: EntityManager): Promise<void> {
  const names = envelopes.map((envelope) => eventName(envelope.orderingKey ?? '-', envelope.keySeq));
  const outcomes = names.map((name) => control.attempt(consumer, name));
  if (outcomes.includes('hang')) {
    const [{ pid }] = (await manager.query('SELECT pg_backend_pid() AS pid')) as { pid: number }[];
    control.hungPids.push(pid);
    await new Promise<never>(() => undefined);
  }
  const failing = names.filter((_, index) => outcomes[index] === 'fail');
  if (failing.length > 0) throw new Error(`${consumer} refuses ${failing.join(', ')}`);
  await manager.query(
    `INSERT INTO "${ORDERED_SUBSCRIBERS[consumer].schema}".applied (subscriber, event_id, ordering_key, key_seq, label)
     SELECT $1, e.id, e.ordering_key, e.key_seq, e.label
       FROM unnest($2::uuid[], $3::text[], $4::bigint[], $5::text[]) WITH ORDINALITY AS e(id, ordering_key, key_seq, label, i)
      ORDER BY e.i`,
    [
      ORDERED_SUBSCRIBERS[consumer].subscriber,
      envelopes.map((envelope) => envelope.id),
      envelopes.map((envelope) => envelope.orderingKey ?? null),
      envelopes.map((envelope) => envelope.keySeq ?? null),
      envelopes.map((envelope) => (envelope.payload as MovedPayload).label),
    ],
  );
}

@Injectable()
export class SerialMovedSubscriber {
  constructor(@Inject(ORDERED_CONTROL) private readonly control: OrderedControl) {}

  @OnIntegrationEvent(Moved, { name: ORDERED_SUBSCRIBERS.serial.subscriber })
  async apply(_event: Moved, { manager, envelope }: DeliveryContext): Promise<void> {
    await applyMoves('serial', this.control, [envelope], manager);
  }
}

@Injectable()
export class BatchedMovedSubscriber {
  constructor(@Inject(ORDERED_CONTROL) private readonly control: OrderedControl) {}

  @OnIntegrationEvent(Moved, { name: ORDERED_SUBSCRIBERS.batched.subscriber, batch: 25 })
  async applyMany(_events: Moved[], { manager, envelopes }: BatchDeliveryContext): Promise<void> {
    await applyMoves('batched', this.control, envelopes, manager);
  }
}

@Injectable()
export class ReleasingMovedSubscriber {
  constructor(@Inject(ORDERED_CONTROL) private readonly control: OrderedControl) {}

  @OnIntegrationEvent(Moved, { name: ORDERED_SUBSCRIBERS.releasing.subscriber, deadLetteredKey: 'release' })
  async apply(_event: Moved, { manager, envelope }: DeliveryContext): Promise<void> {
    await applyMoves('releasing', this.control, [envelope], manager);
  }
}

const SUBSCRIBER_CLASSES: Record<OrderedConsumer, Type> = {
  serial: SerialMovedSubscriber,
  batched: BatchedMovedSubscriber,
  releasing: ReleasingMovedSubscriber,
};

function appliedMigration(schema: string): Type<MigrationInterface> {
  return class CreateApplied implements MigrationInterface {
    readonly name = 'ordered-fixture-0001-applied';
    async up(runner: QueryRunner): Promise<void> {
      await runner.query(`
        CREATE TABLE "${schema}".applied (
          n            bigserial   PRIMARY KEY,
          subscriber   text        NOT NULL,
          event_id     uuid        NOT NULL,
          ordering_key text,
          key_seq      bigint,
          label        text        NOT NULL,
          tx           bigint      NOT NULL DEFAULT txid_current(),
          applied_at   timestamptz NOT NULL DEFAULT clock_timestamp()
        )`);
    }
    async down(): Promise<void> {
      // dropped with the database
    }
  };
}

/** One subscribing module of the ordered fixtures. */
export function orderedConsumerModule(consumer: OrderedConsumer): DynamicModule {
  const { schema } = ORDERED_SUBSCRIBERS[consumer];
  return {
    module: class OrderedConsumerModule {},
    imports: [
      MessagingModule.forModule(defineModule({ name: schema, schema, migrations: [appliedMigration(schema)] })),
    ],
    providers: [SUBSCRIBER_CLASSES[consumer]],
  };
}

/** What a root module imports for the ordered fixtures: the control (global), the producer and the chosen consumers. */
export function orderedFixtureModules(control: OrderedControl, consumers: readonly OrderedConsumer[]): DynamicModule[] {
  const controlModule: DynamicModule = {
    global: true,
    module: class OrderedControlModule {},
    providers: [{ provide: ORDERED_CONTROL, useValue: control }],
    exports: [ORDERED_CONTROL],
  };
  return [controlModule, { module: OrderedProducerModule }, ...consumers.map(orderedConsumerModule)];
}
