import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { Command, CommandBus, CqrsModule, Query, QueryBus } from '@nestjs/cqrs';
import { Test, type TestingModule } from '@nestjs/testing';
// eslint-disable-next-line no-restricted-syntax -- test tooling (@modulith/messaging/testing): SCENARIO_TIMEOUT_MS is a tests-only knob
import { CLOCK, envInt, ManualClock, runWithCorrelation, uuidv7 } from '@modulith/core';
import { Database, DatabaseModule } from '@modulith/database';
import { createTestDatabase, type TestDatabase } from '@modulith/testing';
import { databaseTestConfig } from '@modulith/database/testing';
import type { IntegrationEvent, IntegrationEventClass } from '../events/integration-event';
import type { MessagingConfig } from '../messaging.config';
import { MessagingModule } from '../messaging.module';
import { Outbox } from '../outbox/outbox';
import { OutboxSignals } from '../outbox/outbox-signals';
import { SubscriberRegistry } from '../subscribers/subscriber-registry';
import { messagingTestConfig } from '../messaging-test-config';
import { readSettlement, type Settlement } from './settlement';
import { Stimulus, type SettleOptions, type StimulusRuntime } from './stimulus';

/** Default bound of every scenario wait, in ms; `SCENARIO_TIMEOUT_MS` overrides it. */
export const DEFAULT_SCENARIO_TIMEOUT_MS = 15_000;

export interface ScenarioOptions {
  /** The modules under test, e.g. `[LedgerModule]`; add probe or stand-in modules here too. */
  modules: (Type | DynamicModule)[];
  /** Names the scenario's own test database (a fresh one per boot, dropped by `close`). */
  name?: string;
  /** Overrides of `messagingTestConfig()` (outbox retention stays on: settling reads relayed events). */
  messaging?: Partial<MessagingConfig>;
  /** Where the scenario's `ManualClock` (provided as `CLOCK`) starts; default 2026-01-01T00:00:00.000Z. */
  clock?: Date | string;
  /** Bound of each wait, in ms; default `SCENARIO_TIMEOUT_MS` from the environment, else 15,000. */
  timeoutMs?: number;
  /** Pause between two reads while waiting, in ms; default 20. */
  pollIntervalMs?: number;
}

/** Where an event given or sent by the scenario comes from: default, the first segment of its type (`ingestion.transfer-ingested` → `ingestion`). */
export interface PublishOptions {
  source?: string;
}

/**
 * Boots modules with the messaging platform against a fresh real PostgreSQL database, and
 * drives them as given / when / then, in the spirit of Spring Modulith's Scenario API:
 *
 * ```ts
 * const scenario = await Scenario.boot({ modules: [LedgerModule], name: 'ledger' });
 * await scenario.given.events(new TransferIngested({ ... }));
 * const { event } = await scenario.when.event(new TransferIngested({ ... }))
 *   .andWaitForEvent(BalanceChanged, (e) => e.payload.account === 'bob');
 * await scenario.close();
 * ```
 *
 * Every wait ends when the stimulus is settled: each event it caused (directly, or through
 * handlers that appended events of their own, followed by correlation and causation ids) was
 * handled by every durable subscriber booted here. Concurrent `when`s are queued: a stimulus
 * runs and settles only after the one before it settled (or failed), so no handler batch mixes
 * the events of two stimuli. A wait that lasts longer than the timeout
 * fails, listing what is still pending and where. Time: the app's `CLOCK` is `scenario.clock`
 * (modules that read it, and every envelope's `occurredAt`).
 */
export class Scenario {
  /** Runs, and settles, what the scenario starts from. */
  readonly given = {
    events: (...events: IntegrationEvent[]): Promise<void> => this.given.eventsFrom({}, ...events),
    eventsFrom: async (options: PublishOptions, ...events: IntegrationEvent[]): Promise<void> => {
      await this.stimulus(() => this.publish(events, options)).andWaitForSettled();
    },
    commands: async (...commands: Command<unknown>[]): Promise<void> => {
      for (const command of commands) await this.when.command(command).andWaitForSettled();
    },
  };

  /** The stimulus under test; nothing runs until one of its `andWait…` methods is called. */
  readonly when = {
    command: <R>(command: Command<R>): Stimulus<R> => this.stimulus(() => this.commands.execute(command)),
    event: (event: IntegrationEvent, options: PublishOptions = {}): Stimulus<void> => this.stimulus(() => this.publish([event], options)),
    events: (events: IntegrationEvent[], options: PublishOptions = {}): Stimulus<void> => this.stimulus(() => this.publish(events, options)),
    /** Anything else (an HTTP call, a service method): what it appends is caused by the stimulus. */
    action: <R>(action: () => Promise<R>): Stimulus<R> => this.stimulus(action),
  };

  readonly commands: CommandBus;
  readonly queries: QueryBus;
  readonly database: Database;
  private readonly runtime: StimulusRuntime;
  /** The end of the last stimulus turn queued (settled or failed): the next one starts after it. */
  private lastTurn: Promise<unknown> = Promise.resolve();

  private constructor(
    /** The booted Nest context: `scenario.app.get(...)` for anything else. */
    readonly app: TestingModule,
    /** The app's clock (`CLOCK`): set or advance it between steps. */
    readonly clock: ManualClock,
    private readonly testDb: TestDatabase,
    timeoutMs: number,
    pollIntervalMs: number,
  ) {
    this.commands = app.get(CommandBus);
    this.queries = app.get(QueryBus);
    this.database = app.get(Database);
    this.runtime = {
      timeoutMs,
      pollIntervalMs,
      settle: (correlationId, options) => this.settle(correlationId, options),
      inTurn: (turn) => this.inTurn(turn),
    };
  }

  /** Boots `options.modules` on a fresh database; close it with `close()` (e.g. in `afterAll`). */
  static async boot(options: ScenarioOptions): Promise<Scenario> {
    // eslint-disable-next-line no-restricted-properties -- test tooling: tests on a slow machine lengthen every wait at once
    const timeoutMs = options.timeoutMs ?? envInt(process.env, 'SCENARIO_TIMEOUT_MS', DEFAULT_SCENARIO_TIMEOUT_MS, 1);
    const clock = new ManualClock(options.clock);
    const testDb = await createTestDatabase(options.name ?? 'scenario');
    try {
      const app = await Test.createTestingModule({
        imports: [
          clockModule(clock),
          CqrsModule.forRoot(),
          DatabaseModule.forRoot(databaseTestConfig(testDb.url)),
          MessagingModule.forRoot(messagingTestConfig({ ...options.messaging, outboxRetentionHours: 24 })),
          ...options.modules,
        ],
      }).compile();
      await app.init();
      return new Scenario(app, clock, testDb, timeoutMs, options.pollIntervalMs ?? 20);
    } catch (error) {
      await testDb.drop();
      throw error;
    }
  }

  /** Runs a query on the app's query bus. */
  query<R>(query: Query<R>): Promise<R> {
    return this.queries.execute(query);
  }

  /** What the correlation caused so far and who still owes it a delivery, read now, without waiting. */
  inspect(correlationId: string): Promise<Settlement> {
    return readSettlement(this.database, correlationId, this.durableSubscribers());
  }

  /** Stops the app and drops its database. */
  async close(): Promise<void> {
    try {
      await this.app.close();
    } finally {
      await this.testDb.drop();
    }
  }

  private stimulus<R>(work: () => Promise<R>): Stimulus<R> {
    const correlationId = uuidv7();
    // No causation: the stimulus starts the chain.
    return new Stimulus(this.runtime, correlationId, () => runWithCorrelation({ correlationId }, work));
  }

  /**
   * Queues `turn` behind every stimulus turn queued before it. Each turn is bounded (the run and
   * its settling by the timeout), so the queue always moves on.
   */
  private inTurn<T>(turn: () => Promise<T>): Promise<T> {
    const result = this.lastTurn.then(turn);
    this.lastTurn = result.catch(() => undefined);
    return result;
  }

  /** Appends events as their source modules would, one transaction, under the current correlation. */
  private async publish(events: IntegrationEvent[], { source }: PublishOptions): Promise<void> {
    const signals = this.app.get(OutboxSignals, { strict: false });
    const bySource = new Map<string, IntegrationEvent[]>();
    for (const event of events) {
      const from = source ?? sourceOf(event);
      bySource.set(from, [...(bySource.get(from) ?? []), event]);
    }
    await this.database.transaction(async (tx) => {
      for (const [from, group] of bySource) await new Outbox(from, signals, this.clock).append(tx, group);
    });
  }

  private durableSubscribers() {
    return this.app.get(SubscriberRegistry, { strict: false }).definitions.filter((definition) => definition.mode !== 'best-effort');
  }

  private async settle(correlationId: string, { allowDeadLetters = false, timeoutMs = this.runtime.timeoutMs }: SettleOptions): Promise<Settlement> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const settlement = await this.inspect(correlationId);
      if (settlement.deadLettered.length > 0 && !allowDeadLetters) {
        const lines = settlement.deadLettered.map((dead) => `${dead.eventType} ${dead.eventId} by ${dead.subscriber}: ${dead.error}`);
        throw new Error(`the stimulus caused ${lines.length} dead letter(s) (pass { allowDeadLetters: true } to expect them):\n  ${lines.join('\n  ')}`);
      }
      if (settlement.pending.length === 0) return settlement;
      if (Date.now() >= deadline) {
        const lines = settlement.pending.map(
          (pending) => `${pending.eventType} ${pending.eventId} (caused by ${pending.causationId ?? 'the stimulus'}) for ${pending.subscriber ?? 'the relay'}: ${pending.state}`,
        );
        throw new Error(
          `the stimulus did not settle within ${timeoutMs} ms (SCENARIO_TIMEOUT_MS); ${lines.length} delivery(ies) still pending:\n  ${lines.join('\n  ')}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, this.runtime.pollIntervalMs));
    }
  }
}

function sourceOf(event: IntegrationEvent): string {
  const type = (event.constructor as IntegrationEventClass).type;
  const dot = type.indexOf('.');
  return dot > 0 ? type.slice(0, dot) : 'scenario';
}

@Module({})
class ScenarioClockModule {}

/** Provides `CLOCK` to every module of the scenario. */
function clockModule(clock: ManualClock): DynamicModule {
  return { module: ScenarioClockModule, global: true, providers: [{ provide: CLOCK, useValue: clock }], exports: [CLOCK] };
}
