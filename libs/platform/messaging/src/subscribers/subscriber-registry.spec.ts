import { Injectable, Module, type Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { ConfigurationError } from '@modulith/core';
import { defineModule, type ModuleDefinition } from '@modulith/database';
import { MessagingModule } from '../messaging.module';
import { ThingHappened } from '../test-support/fixture-events';
import { OnIntegrationEvent } from './on-integration-event.decorator';
import { SubscriberRegistry } from './subscriber-registry';

@Injectable()
class DurableWatcher {
  @OnIntegrationEvent(ThingHappened)
  async watch(): Promise<void> {
    // not called here
  }
}

@Injectable()
class BestEffortWatcher {
  @OnIntegrationEvent(ThingHappened, { delivery: 'best-effort' })
  watch(): void {
    // not called here
  }
}

async function definitionsOf(definition: ModuleDefinition, subscriber: Type): Promise<SubscriberRegistry['definitions']> {
  @Module({ imports: [MessagingModule.forModule(definition)], providers: [subscriber] })
  class SubscribingModule {}
  const moduleRef = await Test.createTestingModule({ imports: [DiscoveryModule, SubscribingModule], providers: [SubscriberRegistry] })
    // forModule's Outbox needs the platform's OutboxSignals; discovery does not.
    .useMocker(() => ({}))
    .compile();
  return moduleRef.get(SubscriberRegistry).definitions;
}

describe('SubscriberRegistry and a module without a schema', () => {
  it('takes its best-effort subscribers', async () => {
    const definitions = await definitionsOf(defineModule({ name: 'watcher', schema: false }), BestEffortWatcher);
    expect(definitions.map((definition) => [definition.module, definition.mode])).toEqual([['watcher', 'best-effort']]);
  });

  it('refuses a durable subscriber, which needs an inbox in the module’s schema, naming the module', async () => {
    const found = definitionsOf(defineModule({ name: 'watcher', schema: false }), DurableWatcher);
    await expect(found).rejects.toBeInstanceOf(ConfigurationError);
    await expect(definitionsOf(defineModule({ name: 'watcher', schema: false }), DurableWatcher)).rejects.toThrow(/module watcher has no schema/);
  });

  it('takes a durable subscriber of a module with a schema, whose inbox lives there', async () => {
    const definitions = await definitionsOf(defineModule({ name: 'keeper', schema: 'keeper' }), DurableWatcher);
    expect(definitions.map((definition) => [definition.module, definition.schema, definition.mode])).toEqual([['keeper', 'keeper', 'single']]);
  });
});
