import { optionError, type IntOptionRule } from '@modulith/core';

/** Settings of remote commands and queries (see "Commands and queries across processes" in the README). */
export interface CallsConfig {
  /** Default deadline of a remote call, in ms, when no `withCallDeadline` scope sets one (`CALL_TIMEOUT_MS`). */
  callTimeoutMs: number;
  /** Remote calls this process executes at once, over every module it serves (`CALL_CONCURRENCY`). */
  callConcurrency: number;
  /**
   * How often a serving process renews its presence, reclaims calls of lapsed replicas, and a
   * caller checks on its calls in flight, in ms (`CALL_HEARTBEAT_MS`).
   */
  callHeartbeatMs: number;
  /** A replica whose presence was not renewed for this long is gone (`CALL_HOST_TTL_MS`): its calls are re-sent (queries) or fail (commands). */
  callHostTtlMs: number;
  /**
   * Calls a module's request stream holds at most, queued or running (`CALL_STREAM_MAXLEN`);
   * handled entries are deleted at once, so only a backlog reaches it, and a call sent then is
   * refused with `CallTransportError` (503) instead of pushing out calls already queued.
   */
  callStreamMaxLen: number;
  /**
   * A call still running this long past its deadline, in ms, is logged as an error and gives its
   * slot of `CALL_CONCURRENCY` to the next call (`CALL_OVERRUN_GRACE_MS`); at most that many such
   * calls are abandoned at once, then the replica takes no more until one returns.
   */
  callOverrunGraceMs: number;
  /** Idempotency receipts of remote commands are kept this long, in hours (`CALL_RECEIPT_RETENTION_HOURS`). */
  callReceiptRetentionHours: number;
  /**
   * Tests: hosted handlers of public messages check in process that message and result are plain
   * JSON, as a remote call would (`CALL_CHECK_IN_PROCESS`; default off, on in `messagingTestConfig`).
   */
  callCheckInProcess: boolean;
}

/** Defaults and bounds of the remote-call settings; `resolveMessagingConfig` applies them. */
export const CALLS_INT_RULES = {
  callTimeoutMs: { default: 10_000, min: 10, max: 3_600_000 },
  callConcurrency: { default: 64, min: 1, max: 10_000 },
  callHeartbeatMs: { default: 1000, min: 20, max: 60_000 },
  callHostTtlMs: { default: 3000, min: 50, max: 600_000 },
  callStreamMaxLen: { default: 100_000, min: 100, max: 100_000_000 },
  callOverrunGraceMs: { default: 5000, min: 0, max: 3_600_000 },
  callReceiptRetentionHours: { default: 24, min: 1, max: 87_600 },
} satisfies Record<string, IntOptionRule>;

/** A live replica must never look gone between two of its heartbeats. */
export function assertCallsConfig(owner: string, config: CallsConfig): void {
  if (config.callHostTtlMs < 2 * config.callHeartbeatMs) {
    throw optionError(owner, 'callHostTtlMs', `(${config.callHostTtlMs}) must be at least twice callHeartbeatMs (${config.callHeartbeatMs})`);
  }
}
