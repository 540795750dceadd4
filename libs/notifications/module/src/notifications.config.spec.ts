import { ConfigurationError } from '@modulith/core';
import { resolveNotificationsConfig } from './notifications.config';
import { NotificationsModule } from './notifications.module';

describe('notifications options (defaults in the module)', () => {
  it('defaults every limit, keeps what is given', () => {
    expect(resolveNotificationsConfig()).toEqual({
      queueSize: 1000,
      maxBufferedBytes: 1024 * 1024,
      maxSubscriptions: 1000,
      maxPendingCommands: 16,
      snapshotTimeoutMs: 5000,
      snapshotBufferSize: 10_000,
      snapshotConcurrency: 8,
    });
    expect(resolveNotificationsConfig({ queueSize: 5 }).queueSize).toBe(5);
  });

  it('forRoot refuses a bad limit where the app is composed, naming the option', () => {
    expect(() => NotificationsModule.forRoot({ maxBufferedBytes: 10 })).toThrow(ConfigurationError);
    expect(() => NotificationsModule.forRoot({ maxBufferedBytes: 10 })).toThrow('NotificationsModule option maxBufferedBytes must be an integer between 1024');
  });

  it('reads no environment variable: an explicit limit wins over a variable holding garbage', () => {
    const saved = process.env['NOTIFY_QUEUE_SIZE'];
    process.env['NOTIFY_QUEUE_SIZE'] = 'garbage';
    try {
      expect(() => NotificationsModule.forRoot({ queueSize: 3 })).not.toThrow();
      expect(resolveNotificationsConfig({ queueSize: 3 }).queueSize).toBe(3);
    } finally {
      if (saved === undefined) delete process.env['NOTIFY_QUEUE_SIZE'];
      else process.env['NOTIFY_QUEUE_SIZE'] = saved;
    }
  });
});
