// A keyed event, an unkeyed one, and the knobs of the ordered-delivery fixtures (issue 13).
import { IntegrationEvent } from '../events/integration-event';

export interface MovedPayload {
  /** The ordering key. */
  key: string;
  /** Free text naming where the event came from (worker, round), for failure messages. */
  label: string;
}

/** Ordered per `key`: every durable subscriber must see one key's events in `keySeq` order. */
export class Moved extends IntegrationEvent<MovedPayload> {
  static readonly type = 'fixture.moved';
  static readonly version = 1;
  static orderingKey(payload: MovedPayload): string {
    return payload.key;
  }
}

/** Unordered, and no subscriber wants it: bulk traffic through the outbox and the relay. */
export class Noted extends IntegrationEvent<{ note: string }> {
  static readonly type = 'fixture.noted';
  static readonly version = 1;
}

/** The subscribing modules of the ordered fixtures, one subscriber each. */
export type OrderedConsumer = 'serial' | 'batched' | 'releasing';

/** Each consumer's subscriber name (pinned in its decorator) and schema. */
export const ORDERED_SUBSCRIBERS: Record<OrderedConsumer, { subscriber: string; schema: string }> = {
  serial: { subscriber: 'ordered.serial', schema: 'ordered_serial' },
  batched: { subscriber: 'ordered.batched', schema: 'ordered_batched' },
  releasing: { subscriber: 'ordered.releasing', schema: 'ordered_releasing' },
};

/** Names one event of one key: `<key>#<keySeq>`. */
export function eventName(key: string, keySeq: number | undefined): string {
  return `${key}#${keySeq}`;
}

/** Knobs a test turns on running apps (share one object between apps so they agree). */
export class OrderedControl {
  /** Per consumer: events (`key#keySeq`) whose attempts fail, with how many more do (Infinity: until removed). */
  readonly poison: Record<OrderedConsumer, Map<string, number>> = { serial: new Map(), batched: new Map(), releasing: new Map() };
  /** Per consumer: events whose next attempt never returns (once each; the handler timeout ends it). */
  readonly hang: Record<OrderedConsumer, Set<string>> = { serial: new Set(), batched: new Set(), releasing: new Set() };
  /** Backend pids of the transactions of attempts that hung. */
  readonly hungPids: number[] = [];
  /** Handler calls that saw each event, per consumer: `<consumer>|key#keySeq` → count. */
  readonly attempts = new Map<string, number>();

  attemptsOf(consumer: OrderedConsumer, event: string): number {
    return this.attempts.get(`${consumer}|${event}`) ?? 0;
  }

  /** Counts an attempt at `event` and says what it does: hang (spending the hang), fail (spending one failure) or apply. */
  attempt(consumer: OrderedConsumer, event: string): 'hang' | 'fail' | 'apply' {
    this.attempts.set(`${consumer}|${event}`, this.attemptsOf(consumer, event) + 1);
    if (this.hang[consumer].delete(event)) return 'hang';
    const left = this.poison[consumer].get(event);
    if (left === undefined || left <= 0) return 'apply';
    this.poison[consumer].set(event, left - 1);
    return 'fail';
  }
}

/** Injection token of the OrderedControl an app was started with. */
export const ORDERED_CONTROL = Symbol('OrderedControl');
