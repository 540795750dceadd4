import type { MessagingConfig } from './messaging.config';

/** Settings that make a test app react in milliseconds; pass to `MessagingModule.forRoot`. */
export function messagingTestConfig(overrides: Partial<MessagingConfig> = {}): Partial<MessagingConfig> {
  return {
    relayPollIntervalMs: 100,
    relayNotifyDebounceMs: 5,
    retryBaseDelayMs: 20,
    retryMaxDelayMs: 200,
    retryPollIntervalMs: 100,
    shutdownTimeoutMs: 10_000,
    // A retry leased by a process that died waits this plus a margin before another takes it.
    handlerTimeoutMs: 5000,
    // A log cursor held by a process that died is taken over after this.
    logLeaseMs: 2000,
    // Public messages and their results must be plain JSON even in process, as a remote call needs.
    callCheckInProcess: true,
    ...overrides,
  };
}
