import { IntegrationEvent } from '../events/integration-event';
import { OnIntegrationEvent, SUBSCRIPTION_METADATA, type SubscriptionMetadata } from './on-integration-event.decorator';

class Pinged extends IntegrationEvent<{ at: string }> {
  static readonly type = 'test.pinged';
  static readonly version = 1;
}

describe('@OnIntegrationEvent', () => {
  it('records single, batch and best-effort subscriptions on the method', () => {
    class Subscriber {
      @OnIntegrationEvent(Pinged)
      async one(_event: Pinged): Promise<void> {
        // recorded, not called
      }

      @OnIntegrationEvent(Pinged, { batch: 100, name: 'pings', concurrency: 1 })
      async many(_events: Pinged[]): Promise<void> {
        // recorded, not called
      }

      @OnIntegrationEvent(Pinged, { delivery: 'best-effort' })
      watch(_event: Pinged): void {
        // recorded, not called
      }
    }
    const metadata = (method: keyof Subscriber): SubscriptionMetadata => Reflect.getMetadata(SUBSCRIPTION_METADATA, Subscriber.prototype[method]);
    expect(metadata('one')).toEqual({ eventClass: Pinged, mode: 'single', batch: 1, name: undefined, timeoutMs: undefined, deadLetteredKey: 'hold', concurrency: undefined });
    expect(metadata('many')).toEqual({ eventClass: Pinged, mode: 'batch', batch: 100, name: 'pings', timeoutMs: undefined, deadLetteredKey: 'hold', concurrency: 1 });
    expect(metadata('watch')).toMatchObject({ mode: 'best-effort' });
  });

  it('fails at declaration on a bad event class, batch size, concurrency, or a second subscription on one method', () => {
    class Untyped extends IntegrationEvent {}
    expect(() => OnIntegrationEvent(Untyped as never)).toThrow(/static readonly type/);
    expect(() => OnIntegrationEvent(Pinged, { batch: 0 })).toThrow(/batch must be a positive integer/);
    expect(() => OnIntegrationEvent(Pinged, { batch: 10, concurrency: 0 })).toThrow(/concurrency must be a positive integer/);
    expect(() => {
      class Twice {
        @OnIntegrationEvent(Pinged)
        @OnIntegrationEvent(Pinged)
        async handle(_event: Pinged): Promise<void> {
          // never registered
        }
      }
      return Twice;
    }).toThrow(/more than one @OnIntegrationEvent/);
  });

  it('checks the handler’s signature against the subscription at compile time', () => {
    // Compiled by `nx run platform-messaging:typecheck`; these lines must keep failing there.
    class Mistyped {
      // @ts-expect-error a batch handler takes an array of events
      @OnIntegrationEvent(Pinged, { batch: 10 })
      async many(_event: Pinged): Promise<void> {
        // never called
      }

      // @ts-expect-error the handler must take the subscribed event
      @OnIntegrationEvent(Pinged)
      async one(_event: string): Promise<void> {
        // never called
      }
    }
    expect(Mistyped).toBeDefined();
  });
});
