import { ModuleNotHostedError } from '@modulith/core';
import type { CallReply, CallRequest } from './call-wire';

/** Runs a request for a module hosted here and answers it (see `CallExecutor`). */
export type CallHandler = (request: CallRequest) => Promise<CallReply>;

/**
 * Carries remote commands and queries between processes. Callers `send`; processes that host a
 * module `serve` it. Chosen with the event transport: Redis request/reply, or none in process.
 */
export interface CallTransport {
  readonly name: string;
  /** This process's name as a serving replica (stamped on its replies, announced in its presence). */
  readonly replica: string;
  /**
   * Sends `request` to a live replica of `request.module` and resolves with its reply. Rejects
   * only with typed errors: `ModuleNotHostedError` (no live replica; nothing was executed),
   * `CallDeadlineExceededError` (no reply by `request.deadline`), `ReplicaLostError` (a command's
   * replica stopped while serving it: outcome unknown), `CallTransportError` (the broker is away).
   */
  send(request: Omit<CallRequest, 'replyTo'>): Promise<CallReply>;
  /** Serves `modules` (hosted here) with `handler`; called before `start`. */
  serve(modules: readonly string[], handler: CallHandler): void;
  start(): Promise<void>;
  /** Withdraws this process's presence, takes no new calls, lets calls in flight finish within `budgetMs`, then disconnects. */
  stop(budgetMs: number): Promise<void>;
}

/** Injection token of the call transport chosen for this process. */
export const CALL_TRANSPORT = Symbol('CALL_TRANSPORT');

/**
 * One process, no broker: a module that is not loaded here runs nowhere a call could reach, so
 * its calls fail at once with `ModuleNotHostedError`.
 */
export class InProcessCallTransport implements CallTransport {
  readonly name = 'in-process';
  readonly replica = 'in-process';

  send(request: Omit<CallRequest, 'replyTo'>): Promise<CallReply> {
    return Promise.reject(
      new ModuleNotHostedError(
        request.module,
        request.type,
        'with EVENT_TRANSPORT=inprocess it must be in this process’s MODULES (or set EVENT_TRANSPORT=redis and REDIS_URL to reach it in another process)',
      ),
    );
  }

  serve(): void {
    // Nothing to serve: every call of a hosted module is a plain bus call in this process.
  }

  async start(): Promise<void> {
    // no broker
  }

  async stop(): Promise<void> {
    // no broker
  }
}
