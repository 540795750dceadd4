import { Injectable, Logger } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { currentCorrelation, runWithCorrelation } from '@modulith/core';
import { IntegrationEvent, OnIntegrationEvent } from '@modulith/messaging';
import { HandlerLogging } from './handler-logging';
import { SubscriberCatalog, subscriptionOf } from './subscriber-catalog';

class ThingHappened extends IntegrationEvent<{ n: number }> {
  static readonly type = 'things.thing-happened';
  static readonly version = 1;
}

@Injectable()
class ThingHandlers {
  seen: number[] = [];

  @OnIntegrationEvent(ThingHappened, { batch: 10, name: 'counting.count-things' })
  count(events: ThingHappened[]): void {
    this.seen.push(...events.map((event) => event.payload.n));
  }

  @OnIntegrationEvent(ThingHappened, { delivery: 'best-effort' })
  echo(): void {
    // nothing
  }

  notASubscriber(): void {
    // nothing
  }
}

describe('SubscriberCatalog', () => {
  afterEach(() => jest.restoreAllMocks());

  it("reads the messaging platform's subscription metadata (fails here if the platform renames its key)", () => {
    expect(subscriptionOf(ThingHandlers.prototype.count)).toMatchObject({ eventClass: ThingHappened, mode: 'batch', name: 'counting.count-things' });
    expect(subscriptionOf(ThingHandlers.prototype.notASubscriber)).toBeUndefined();
  });

  it('lists each subscriber with its module, event, publishing module and delivery, and logs each call in the caller context', async () => {
    const module = await Test.createTestingModule({ imports: [DiscoveryModule], providers: [SubscriberCatalog, HandlerLogging, ThingHandlers] }).compile();
    await module.init();
    const { subscribers } = module.get(SubscriberCatalog);
    expect(subscribers.map(({ instance: _instance, ...info }) => info)).toEqual([
      { subscriber: 'counting.count-things', module: 'counting', eventType: 'things.thing-happened', source: 'things', delivery: 'durable', method: 'count' },
      expect.objectContaining({ method: 'echo', delivery: 'best-effort', eventType: 'things.thing-happened' }),
    ]);

    const handlers = module.get(ThingHandlers);
    const logged: { message: string; context: string; correlationId?: string }[] = [];
    jest.spyOn(Logger.prototype, 'debug').mockImplementation(function (this: Logger, message: unknown) {
      logged.push({ message: String(message), context: (this as unknown as { context: string }).context, correlationId: currentCorrelation()?.correlationId });
    });
    const event = Object.assign(Object.create(ThingHappened.prototype), { payload: { n: 7 } }) as ThingHappened;
    await runWithCorrelation({ correlationId: 'c-42' }, () => (handlers as unknown as { count(events: ThingHappened[]): Promise<void> }).count([event, event]));
    expect(handlers.seen).toEqual([7, 7]);
    expect(logged).toEqual([{ message: expect.stringMatching(/^handled 2 things.thing-happened \(counting.count-things\) in /), context: 'counting', correlationId: 'c-42' }]);
    await module.close();
  });
});
