import type { EventEnvelope } from '../events/event-envelope';
import { instantiateEvent, type IntegrationEvent, type IntegrationEventClass, type PayloadOf } from '../events/integration-event';
import type { DeadLetteredDelivery, Settlement } from './settlement';

/** What a stimulus caused, once every event it caused was handled by every durable subscriber booted. */
export interface ScenarioOutcome<R = unknown> {
  /** The correlation the stimulus ran under; every event it caused carries it or descends from one that does. */
  readonly correlationId: string;
  /** What the command (or action) returned. */
  readonly result: R;
  /** Every event the stimulus caused, in the order they were created. */
  readonly events: readonly EventEnvelope[];
  /** Deliveries that ended in the dead letters (empty unless `allowDeadLetters`). */
  readonly deadLettered: readonly DeadLetteredDelivery[];
  /** The caused events of one class, rebuilt as instances, in order. */
  eventsOf<E extends IntegrationEvent>(eventClass: IntegrationEventClass<E>): E[];
}

export interface SettleOptions {
  /** Accept deliveries that ended in the dead letters (default: fail at once, naming them). */
  allowDeadLetters?: boolean;
  /** Bound of this wait, in ms; default the scenario's (`SCENARIO_TIMEOUT_MS`, else 15,000). */
  timeoutMs?: number;
}

/** The scenario's side of a stimulus: how to settle a correlation, how long waits may take, and its one-at-a-time turns. */
export interface StimulusRuntime {
  readonly timeoutMs: number;
  readonly pollIntervalMs: number;
  settle(correlationId: string, options: SettleOptions): Promise<Settlement>;
  /** Runs `turn` once every turn queued before it has ended (resolved or rejected); resolves as `turn` does. */
  inTurn<T>(turn: () => Promise<T>): Promise<T>;
}

/**
 * A command, event or action to run under a correlation of its own, started by the first of the
 * `andWait…` methods called (nothing runs before; it runs once, later calls wait on the same
 * run, e.g. a short wait beside a long one). Each of them waits until the stimulus is settled:
 * every event it caused, and every event those caused in turn, handled by every durable
 * subscriber of the booted modules — bounded by the scenario's timeout.
 *
 * Stimuli of one scenario take turns: the first `andWait…` queues the run and its settling
 * behind any other stimulus's, so no handler batch ever mixes the events of two stimuli (a batch
 * handler's appends carry only its first event's correlation, which would credit one stimulus
 * with what another caused). The turn ends when that first wait ends, settled or failed.
 */
export class Stimulus<R = unknown> {
  /** The run's result, once the first wait's turn ran it (bounded by that wait's timeout). */
  private started?: Promise<R>;

  constructor(
    private readonly runtime: StimulusRuntime,
    readonly correlationId: string,
    private readonly run: () => Promise<R>,
  ) {}

  /** Runs the stimulus and waits until it is settled. Rejects with the stimulus's own error if it throws. */
  async andWaitForSettled(options: SettleOptions = {}): Promise<ScenarioOutcome<R>> {
    if (this.started) {
      // A later wait on the same run: it needs no turn of its own (the run is this stimulus's).
      const result = await this.started;
      return outcome(this.correlationId, result, await this.runtime.settle(this.correlationId, options));
    }
    let ran!: (result: Promise<R>) => void;
    this.started = new Promise<R>((resolve) => (ran = resolve));
    // Later waits see the run's failure through `started`; this one through its own turn.
    this.started.catch(() => undefined);
    return this.runtime.inTurn(async () => {
      // Through an async function: a run that throws at once rejects `started` rather than leaving it open.
      const running = this.bounded((async () => this.run())(), options.timeoutMs ?? this.runtime.timeoutMs);
      ran(running);
      const result = await running;
      return outcome(this.correlationId, result, await this.runtime.settle(this.correlationId, options));
    });
  }

  /**
   * Settles, then returns the first caused event of `eventClass` that `matching` accepts. Fails
   * at once (no waiting on) if there is none: once settled, nothing more is coming.
   */
  async andWaitForEvent<E extends IntegrationEvent>(
    eventClass: IntegrationEventClass<E>,
    matching: (event: E, envelope: EventEnvelope<PayloadOf<E>>) => boolean = () => true,
    options: SettleOptions = {},
  ): Promise<ScenarioOutcome<R> & { event: E; envelope: EventEnvelope<PayloadOf<E>> }> {
    const settled = await this.andWaitForSettled(options);
    for (const envelope of settled.events) {
      if (envelope.type !== eventClass.type) continue;
      const event = instantiateEvent(eventClass, envelope.payload as PayloadOf<E>);
      const typed = envelope as EventEnvelope<PayloadOf<E>>;
      if (matching(event, typed)) return { ...settled, event, envelope: typed };
    }
    const seen = settled.events.map((envelope) => `${envelope.type} ${JSON.stringify(envelope.payload)}`);
    throw new Error(
      `the stimulus settled without a matching ${eventClass.type}; it caused ${seen.length} event(s)` + (seen.length ? `:\n  ${seen.join('\n  ')}` : ''),
    );
  }

  /**
   * Settles, then reads `read` until `accept` takes its value (default: anything but undefined,
   * null, false and an empty array), bounded by the scenario's timeout. Polling after settling is
   * for state that best-effort subscribers change (they are outside "settled"); durable state is
   * final at the first read.
   */
  async andWaitForStateChange<S>(
    read: () => S | Promise<S>,
    accept: (state: S) => boolean = isPresent,
    options: SettleOptions = {},
  ): Promise<ScenarioOutcome<R> & { state: S }> {
    const settled = await this.andWaitForSettled(options);
    const deadline = Date.now() + this.runtime.timeoutMs;
    for (;;) {
      const state = await read();
      if (accept(state)) return { ...settled, state };
      if (Date.now() > deadline) {
        throw new Error(`the stimulus settled but the state was not accepted within ${this.runtime.timeoutMs} ms (SCENARIO_TIMEOUT_MS); last read: ${JSON.stringify(state)}`);
      }
      await new Promise((resolve) => setTimeout(resolve, this.runtime.pollIntervalMs));
    }
  }

  /**
   * The run, or a rejection once `timeoutMs` passed without it finishing. The run itself cannot be
   * stopped: it goes on in the background, and what it appends later is still this correlation's.
   */
  private bounded(running: Promise<R>, timeoutMs: number): Promise<R> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the stimulus itself did not finish within ${timeoutMs} ms (SCENARIO_TIMEOUT_MS); it must return once its own work is done`)),
        timeoutMs,
      );
    });
    return Promise.race([running, expired]).finally(() => clearTimeout(timer));
  }
}

function isPresent(state: unknown): boolean {
  return state !== undefined && state !== null && state !== false && !(Array.isArray(state) && state.length === 0);
}

function outcome<R>(correlationId: string, result: R, settlement: Settlement): ScenarioOutcome<R> {
  const { events, deadLettered } = settlement;
  return {
    correlationId,
    result,
    events,
    deadLettered,
    eventsOf: <E extends IntegrationEvent>(eventClass: IntegrationEventClass<E>) =>
      events.filter((envelope) => envelope.type === eventClass.type).map((envelope) => instantiateEvent(eventClass, envelope.payload as PayloadOf<E>)),
  };
}
