import { Injectable, Module } from '@nestjs/common';
import { defineModule } from '@modulith/database';
import { MessagingModule } from '../messaging.module';
import { OnIntegrationEvent } from '../subscribers/on-integration-event.decorator';
import { ThingHappened } from '../test-support/fixture-events';
import { AlphaSubscriber, BetaSubscriber, consumerModule, ProducerModule } from '../test-support/fixture-modules';
import { declaredDurableModule, declaredDurableSubscribers } from './declared-subscriptions';

@Injectable()
class WatchOnly {
  @OnIntegrationEvent(ThingHappened, { delivery: 'best-effort' })
  watch(): void {
    // best effort: no inbox, not a durable subscriber
  }
}

@Module({ imports: [MessagingModule.forModule(defineModule({ name: 'watcher', schema: false }))], providers: [WatchOnly] })
class WatcherModule {}

class InheritedSubscriber extends AlphaSubscriber {}

@Module({ imports: [MessagingModule.forModule(defineModule({ name: 'heir', schema: 'heir' }))], providers: [{ provide: 'x', useClass: InheritedSubscriber }] })
class HeirModule {}

describe('declaredDurableModule: what a module declares, read without booting it', () => {
  it('names a module whose providers have a durable subscriber, by its messaging name', () => {
    expect(declaredDurableModule(consumerModule('alpha', AlphaSubscriber))).toBe('alpha');
    expect(declaredDurableModule(consumerModule('beta', BetaSubscriber))).toBe('beta');
    expect(declaredDurableModule(HeirModule)).toBe('heir');
  });

  it('ignores modules that only publish or only watch best effort', () => {
    expect(declaredDurableModule(ProducerModule)).toBeUndefined();
    expect(declaredDurableModule(WatcherModule)).toBeUndefined();
  });
});

describe('declaredDurableSubscribers: the names the registry will give, read without booting', () => {
  it('names each durable subscriber as the registry does (inherited methods under the subclass name)', () => {
    expect(declaredDurableSubscribers(consumerModule('alpha', AlphaSubscriber))).toEqual([{ subscriber: 'alpha.AlphaSubscriber.apply', eventType: ThingHappened.type }]);
    expect(declaredDurableSubscribers(HeirModule)).toEqual([{ subscriber: 'heir.InheritedSubscriber.apply', eventType: ThingHappened.type }]);
  });

  it('names none for modules that only publish or only watch best effort', () => {
    expect(declaredDurableSubscribers(ProducerModule)).toEqual([]);
    expect(declaredDurableSubscribers(WatcherModule)).toEqual([]);
  });
});
