import { ConfigurationError, envBool, envInt } from '@modulith/core';

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

export function callsConfigFromEnv(env: NodeJS.ProcessEnv): CallsConfig {
  const config: CallsConfig = {
    callTimeoutMs: envInt(env, 'CALL_TIMEOUT_MS', 10_000, 10, 3_600_000),
    callConcurrency: envInt(env, 'CALL_CONCURRENCY', 64, 1, 10_000),
    callHeartbeatMs: envInt(env, 'CALL_HEARTBEAT_MS', 1000, 20, 60_000),
    callHostTtlMs: envInt(env, 'CALL_HOST_TTL_MS', 3000, 50, 600_000),
    callStreamMaxLen: envInt(env, 'CALL_STREAM_MAXLEN', 100_000, 100, 100_000_000),
    callOverrunGraceMs: envInt(env, 'CALL_OVERRUN_GRACE_MS', 5000, 0, 3_600_000),
    callReceiptRetentionHours: envInt(env, 'CALL_RECEIPT_RETENTION_HOURS', 24, 1, 87_600),
    callCheckInProcess: envBool(env, 'CALL_CHECK_IN_PROCESS', false),
  };
  assertCallsConfig(config);
  return config;
}

/** A live replica must never look gone between two of its heartbeats. */
export function assertCallsConfig(config: CallsConfig): void {
  if (config.callHostTtlMs < 2 * config.callHeartbeatMs) {
    throw new ConfigurationError(`CALL_HOST_TTL_MS (${config.callHostTtlMs}) must be at least twice CALL_HEARTBEAT_MS (${config.callHeartbeatMs})`, {
      variable: 'CALL_HOST_TTL_MS',
    });
  }
}
