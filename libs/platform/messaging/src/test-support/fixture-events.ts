// Events and the control object shared by this library's integration tests and crash child.
import { IntegrationEvent } from '../events/integration-event';

export interface ThingPayload {
  seq: number;
  label: string;
}

export class ThingHappened extends IntegrationEvent<ThingPayload> {
  static readonly type = 'test.thing-happened';
  static readonly version = 1;
}

/** Published by nobody's subscriber: checks that subscribers only get their own types. */
export class NothingHappened extends IntegrationEvent<{ note: string }> {
  static readonly type = 'test.nothing-happened';
  static readonly version = 1;
}

/** Knobs a test turns on a running app. */
export class FixtureControl {
  /** Labels whose events make the named subscriber throw. */
  readonly poison = { alpha: new Set<string>(), beta: new Set<string>() };
  /** What alpha throws for a poisoned label, if not its own plain Error. */
  alphaError?: (label: string) => Error;
  /** Labels whose events make alpha never return. */
  readonly hang = new Set<string>();
  /** Labels for which alpha runs a failing statement and swallows its error. */
  readonly swallow = new Set<string>();
  /** Attempt times per subscriber and label (ms since epoch). */
  readonly attempts = new Map<string, number[]>();
  /** Sizes of the batches the batch subscriber was called with. */
  readonly batchSizes: number[] = [];
  /** Extra time each beta batch takes, to catch it in flight. */
  betaDelayMs = 0;
  readonly bestEffortSeen: number[] = [];
  /** Labels seen by an @ObserveIntegrationEvent observer. */
  readonly observed: string[] = [];
  bestEffortDelayMs = 0;

  recordAttempt(subscriber: string, label: string): void {
    const key = `${subscriber}:${label}`;
    this.attempts.set(key, [...(this.attempts.get(key) ?? []), Date.now()]);
  }
}

/** Injection token of the FixtureControl an app was started with. */
export const CONTROL = Symbol('FixtureControl');

export function payloads(from: number, count: number, label = (seq: number) => `t${seq}`): ThingPayload[] {
  return Array.from({ length: count }, (_, index) => ({ seq: from + index, label: label(from + index) }));
}
