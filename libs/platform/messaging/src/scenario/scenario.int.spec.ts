import { eventually } from '@modulith/testing';
import { Inject, Injectable, Module } from '@nestjs/common';
import { CLOCK, type Clock } from '@modulith/core';
import { Database, defineModule } from '@modulith/database';
import { IntegrationEvent } from '../events/integration-event';
import { MessagingModule } from '../messaging.module';
import { Outbox } from '../outbox/outbox';
import { OnIntegrationEvent, type BatchDeliveryContext, type DeliveryContext } from '../subscribers/on-integration-event.decorator';
import type { MessagingConfig } from '../messaging.config';
import { deleteRedisKeys, redisTestPrefix, requireRedis } from '../testing';
import { Scenario } from './scenario';

class ChainStarted extends IntegrationEvent<{ label: string }> {
  static readonly type = 'chain.started';
  static readonly version = 1;
}
class ChainDerived extends IntegrationEvent<{ label: string; at: string }> {
  static readonly type = 'chain.derived';
  static readonly version = 1;
}
class Tick extends IntegrationEvent<{ label: string }> {
  static readonly type = 'chain.tick';
  static readonly version = 1;
}
class TickSummary extends IntegrationEvent<{ labels: string[] }> {
  static readonly type = 'chain.tick-summary';
  static readonly version = 1;
}

/** A gate the test opens; the derived event's handler waits at it. */
class Gate {
  opened = false;
  entered = 0;
  private open!: () => void;
  readonly passed = new Promise<void>((resolve) => (this.open = resolve));
  release(): void {
    this.opened = true;
    this.open();
  }
}
const GATE = Symbol('gate');
const handledDerived: string[] = [];

@Injectable()
class ChainHandlers {
  constructor(
    private readonly outbox: Outbox,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(GATE) private readonly gate: { current: Gate },
  ) {}

  // Derives an event under a correlation of its own: only its causation id (the handled event's
  // id, from the context) ties it to the stimulus.
  @OnIntegrationEvent(ChainStarted, { name: 'chain.derive' })
  async derive(event: ChainStarted, { manager }: DeliveryContext): Promise<void> {
    if (event.payload.label === 'poison') throw new Error('cannot derive from poison');
    const derived = new ChainDerived({ label: event.payload.label, at: this.clock.now().toISOString() });
    await this.outbox.append(manager, [derived], { correlationId: `elsewhere-${event.payload.label}` });
  }

  // A batch handler: its appends carry the correlation of its batch's first event and no
  // causation id, so a batch mixing two stimuli's events would credit the first with both.
  @OnIntegrationEvent(Tick, { name: 'chain.summarize', batch: 50 })
  async summarize(events: Tick[], { manager }: BatchDeliveryContext): Promise<void> {
    await this.outbox.append(manager, [new TickSummary({ labels: events.map((event) => event.payload.label) })]);
  }

  @OnIntegrationEvent(TickSummary, { name: 'chain.summary-sink' })
  async sinkSummary(): Promise<void> {
    // Handled: what settling waits for.
  }

  @OnIntegrationEvent(ChainDerived, { name: 'chain.record' })
  async record(event: ChainDerived): Promise<void> {
    const gate = this.gate.current;
    gate.entered += 1;
    await gate.passed;
    handledDerived.push(event.payload.label);
  }
}

const chain = defineModule({ name: 'chain', schema: 'chain' });
const gate = { current: new Gate() };
@Module({
  imports: [MessagingModule.forModule(chain)],
  providers: [ChainHandlers, { provide: GATE, useValue: gate }],
})
class ChainModule {}

// Above SCENARIO_TIMEOUT_MS (15 s by default): a wait that runs out fails with the scenario's own
// message (what is pending, and where) rather than Jest's. Booting takes a few seconds too.
jest.setTimeout(60_000);

const REDIS_URL = process.env['TEST_REDIS_URL'] ?? 'redis://127.0.0.1:6379';
const redisPrefix = redisTestPrefix('scenario');

// Settling reads the database only (outbox, relayed events, inboxes, retries, dead letters), so
// it means the same whichever transport carries the events.
describe.each<[string, Partial<MessagingConfig>]>([
  ['in-process transport', {}],
  ['Redis Streams', { eventTransport: 'redis', redisUrl: REDIS_URL, redisKeyPrefix: redisPrefix }],
])('Scenario (messaging platform, real PostgreSQL, %s)', (_transport, messaging) => {
  let scenario: Scenario;

  beforeAll(async () => {
    if (messaging.eventTransport === 'redis') await requireRedis(REDIS_URL);
    handledDerived.length = 0;
    scenario = await Scenario.boot({
      modules: [ChainModule],
      name: 'scenario',
      clock: '2026-05-01T12:00:00.000Z',
      messaging: { handlerMaxAttempts: 2, ...messaging },
    });
  });

  beforeEach(() => {
    gate.current = new Gate();
  });

  afterAll(async () => {
    gate.current.release();
    await scenario?.close();
    if (messaging.eventTransport === 'redis') await deleteRedisKeys(REDIS_URL, redisPrefix);
  });

  it('given a handler that derives an event, then the stimulus is not settled until the derived event is handled too', async () => {
    const stimulus = scenario.when.event(new ChainStarted({ label: 'one' }));
    const inspect = jest.spyOn(scenario, 'inspect');
    let settled = false;
    const settling = stimulus.andWaitForSettled().then((outcome) => {
      settled = true;
      return outcome;
    });

    // The derived event reached its handler, so the started event's inbox row has committed.
    await eventually(() => gate.current.entered > 0, { message: 'the derived event to reach its handler' });
    // Let the scenario read the state at least once after that (a read starting now sees the
    // started event handled); a "settled" that ignored causation would return from that read.
    const reads = inspect.mock.calls.length;
    await eventually(() => settled || inspect.mock.calls.length >= reads + 2, { message: 'two more reads of the settlement' });
    expect(settled).toBe(false);
    const { pending } = await scenario.inspect(stimulus.correlationId);
    expect(pending).toEqual([expect.objectContaining({ eventType: 'chain.derived', subscriber: 'chain.record', state: 'relayed, not handled yet' })]);

    gate.current.release();
    const outcome = await settling;
    expect(handledDerived).toEqual(['one']);
    expect(outcome.events.map((envelope) => envelope.type)).toEqual(['chain.started', 'chain.derived']);
    expect(outcome.events[1].causationId).toBe(outcome.events[0].id);
    expect(outcome.events[1].correlationId).toBe('elsewhere-one');
    inspect.mockRestore();
  });

  it('when waiting for an event, then it returns the matching one, read with the scenario clock', async () => {
    gate.current.release();
    scenario.clock.advance(90 * 60_000);
    const { event, envelope } = await scenario.when
      .events([new ChainStarted({ label: 'two' }), new ChainStarted({ label: 'three' })])
      .andWaitForEvent(ChainDerived, (derived) => derived.payload.label === 'three');
    expect(event).toBeInstanceOf(ChainDerived);
    expect(event.payload).toEqual({ label: 'three', at: '2026-05-01T13:30:00.000Z' });
    expect(envelope.source).toBe('chain');
    // The module's Outbox stamps envelopes with the app's CLOCK too.
    expect(envelope.occurredAt).toBe('2026-05-01T13:30:00.000Z');
  });

  it('when no caused event matches, then the wait fails at once, naming what was caused', async () => {
    gate.current.release();
    await expect(scenario.when.event(new ChainStarted({ label: 'four' })).andWaitForEvent(ChainDerived, (derived) => derived.payload.label === 'five')).rejects.toThrow(
      /settled without a matching chain\.derived; it caused 2 event\(s\):\n {2}chain\.started \{"label":"four"\}\n {2}chain\.derived/,
    );
  });

  it('when the stimulus does not settle in time, then the error lists what is pending and where', async () => {
    const stimulus = scenario.when.event(new ChainStarted({ label: 'stuck' }));
    const settling = stimulus.andWaitForSettled();
    await eventually(() => gate.current.entered > 0, { message: 'the derived event to reach its handler' });

    // The same run, waited on for no time at all: the derived event is held at the gate.
    await expect(stimulus.andWaitForSettled({ timeoutMs: 0 })).rejects.toThrow(
      /did not settle within 0 ms \(SCENARIO_TIMEOUT_MS\); 1 delivery\(ies\) still pending:\n {2}chain\.derived \S+ \(caused by \S+\) for chain\.record: relayed, not handled yet$/,
    );
    gate.current.release();
    expect((await settling).events).toHaveLength(2);
  });

  it('when a caused event is dead-lettered, then the wait fails naming it, unless dead letters are expected', async () => {
    gate.current.release();
    await expect(scenario.when.event(new ChainStarted({ label: 'poison' })).andWaitForSettled()).rejects.toThrow(
      /caused 1 dead letter\(s\) .*:\n {2}chain\.started \S+ by chain\.derive: cannot derive from poison/,
    );
    const outcome = await scenario.when.event(new ChainStarted({ label: 'poison' })).andWaitForSettled({ allowDeadLetters: true });
    expect(outcome.deadLettered).toEqual([expect.objectContaining({ subscriber: 'chain.derive', error: 'cannot derive from poison' })]);
  });

  it('given events, then they are settled before the stimulus runs, and state changes are awaited after', async () => {
    gate.current.release();
    await scenario.given.events(new ChainStarted({ label: 'given' }));
    expect(handledDerived).toContain('given');
    const { state } = await scenario.when.action(async () => 'nothing published').andWaitForStateChange(
      async () => (await scenario.app.get(Database).dataSource.query('SELECT count(*)::int AS n FROM chain.inbox'))[0].n as number,
      (count) => count > 0,
    );
    expect(state).toBeGreaterThan(0);
  });

  it('when two stimuli are awaited at once, then they take turns: the second runs only after the first', async () => {
    const steps: string[] = [];
    let releaseFirst!: () => void;
    const firstHeld = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = scenario.when.action(async () => {
      steps.push('first runs');
      await firstHeld;
      steps.push('first finished');
    });
    const second = scenario.when.action(async () => void steps.push('second runs'));
    const both = Promise.all([first.andWaitForSettled(), second.andWaitForSettled()]);
    await eventually(() => steps.length > 0, { message: 'the first stimulus to run' });
    // Give the second every chance to start beside the first (it would, were they not queued).
    await new Promise((resolve) => setImmediate(resolve));
    expect(steps).toEqual(['first runs']);
    releaseFirst();
    await both;
    expect(steps).toEqual(['first runs', 'first finished', 'second runs']);
  });

  it('when two stimuli feed one batch handler at once, then each is credited with the summary of its own event', async () => {
    gate.current.release();
    const [a, b] = await Promise.all(
      ['A', 'B'].map((label) =>
        scenario.when.event(new Tick({ label })).andWaitForEvent(TickSummary, (summary) => summary.payload.labels.includes(label)),
      ),
    );
    expect(a.event.payload.labels).toEqual(['A']);
    expect(b.event.payload.labels).toEqual(['B']);
  });

  it('when the stimulus itself never finishes, then the wait fails after the timeout, and the next stimulus still runs', async () => {
    gate.current.release();
    const never = scenario.when.action(() => new Promise<void>(() => undefined));
    await expect(never.andWaitForSettled({ timeoutMs: 200 })).rejects.toThrow(/the stimulus itself did not finish within 200 ms \(SCENARIO_TIMEOUT_MS\)/);
    // A later wait on the same run fails the same way, instead of waiting for ever.
    await expect(never.andWaitForSettled()).rejects.toThrow(/did not finish within 200 ms/);
    await expect(scenario.when.action(async () => 'after').andWaitForSettled()).resolves.toEqual(expect.objectContaining({ result: 'after' }));
  });
});
