import { ConfigurationError } from '@modulith/core';
import { IntegrationEvent } from '../events/integration-event';
import { OBSERVATION_METADATA, OBSERVER_CLASS_METADATA, ObserveIntegrationEvent } from './observe-integration-event.decorator';

class Pinged extends IntegrationEvent<{ at: string }> {
  static readonly type = 'test.pinged';
  static readonly version = 1;
}

describe('@ObserveIntegrationEvent', () => {
  it('records the event class on the method and marks the class for discovery', () => {
    class Watcher {
      @ObserveIntegrationEvent(Pinged)
      see(_event: Pinged): void {
        // recorded, not called
      }

      other(): void {
        // not an observer
      }
    }
    expect(Reflect.getMetadata(OBSERVATION_METADATA, Watcher.prototype.see)).toBe(Pinged);
    expect(Reflect.getMetadata(OBSERVATION_METADATA, Watcher.prototype.other)).toBeUndefined();
    expect(Reflect.getMetadata(OBSERVER_CLASS_METADATA, Watcher)).toBe(true);
  });

  it('refuses a class that is not an integration event, naming it', () => {
    class NotAnEvent {}
    expect(() => ObserveIntegrationEvent(NotAnEvent as never)).toThrow(ConfigurationError);
    expect(() => ObserveIntegrationEvent(NotAnEvent as never)).toThrow('NotAnEvent is not an IntegrationEvent class');
  });
});
