import type { Logger } from '@nestjs/common';
import { CallDeadlineExceededError, ModuleNotHostedError, ReplicaLostError } from '@modulith/core';
import type { Redis } from 'ioredis';
import { decodeReply, encodeCall, type CallReply, type CallRequest } from '../../calls/call-wire';
import { CallTransportError } from '../../messaging.errors';
import { describeFailure } from '../../retries/failure';
import { CALL_FIELD, callKeys } from './call-keys';
import { SEND_CALL_SCRIPT, WATCH_CALL_SCRIPT } from './call-scripts';
import type { RedisClock } from './redis-clock';
import { bounded, resetOnTimeout, whenReady } from './redis-connection';
import { RedisLoop } from './redis-loop';

export interface CallClientOptions {
  /** Commands (send, watch); has its own command timeout. */
  publisher: Redis;
  /** A connection of its own: the reply loop blocks on it. */
  replies: Redis;
  keyPrefix: string;
  /** This process: its reply list is `<prefix>:call-replies:<replica>`. */
  replica: string;
  streamMaxLen: number;
  /** How often calls in flight are looked at (`CALL_HEARTBEAT_MS`). */
  heartbeatMs: number;
  commandTimeoutMs: number;
  /** Redis's clock: the deadline travels in its time, whatever this process's clock says. */
  clock: RedisClock;
  logger: Logger;
}

interface Pending {
  request: CallRequest;
  entryId: string;
  sentAt: number;
  resolve(reply: CallReply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const BLOCK_MS = 2000;
const REPLIES_PER_READ = 100;

/**
 * The calling side of Redis request/reply. `send` appends the request to the module's stream
 * (only while a replica is live, else `ModuleNotHostedError` at once) and waits for the reply on
 * this process's list, read by one blocking loop (`BLMPOP`) that settles calls by request id.
 * Every call ends by its deadline (`CallDeadlineExceededError`). Once per heartbeat, calls in
 * flight for longer than a heartbeat are looked at in Redis: one whose replica lapsed is settled
 * there (acknowledged, so no one runs it later) and re-sent if it is a query, or failed with
 * `ReplicaLostError` if it is a command (never re-sent blindly); one still queued when no replica
 * is left is deleted and failed with `ModuleNotHostedError`.
 */
export class CallClient extends RedisLoop {
  private readonly pending = new Map<string, Pending>();
  private watcher?: NodeJS.Timeout;
  private watching = false;
  private readonly replyKey: string;
  /** Queries re-sent after their replica was lost. */
  readonly counts = { resent: 0, lostReplies: 0 };

  constructor(private readonly options: CallClientOptions) {
    super();
    this.replyKey = callKeys.replies(options.keyPrefix, options.replica);
  }

  override start(): void {
    if (this.running) return;
    super.start();
    this.watcher = setInterval(() => void this.watch(), this.options.heartbeatMs);
    this.watcher.unref();
  }

  /** Ends the reply loop; calls still waiting fail with `CallDeadlineExceededError` (this process is stopping). */
  async stop(): Promise<void> {
    clearInterval(this.watcher);
    if (!(await this.end(() => this.options.replies.disconnect()))) return;
    for (const call of [...this.pending.values()]) {
      this.settle(call.request.id)?.reject(this.deadlineError(call.request, 'the calling process is shutting down'));
    }
  }

  async send(request: CallRequest): Promise<CallReply> {
    if (!this.running) throw new CallTransportError('remote calls are not started in this process', { module: request.module, messageType: request.type });
    return new Promise<CallReply>((resolve, reject) => {
      const timer = setTimeout(() => this.settle(request.id)?.reject(this.deadlineError(request, 'no reply by the deadline')), Math.max(0, request.deadline - Date.now()));
      timer.unref();
      this.pending.set(request.id, { request, entryId: '', sentAt: Date.now(), resolve, reject, timer });
      this.enqueue(request).catch((error: Error) => this.settle(request.id)?.reject(error));
    });
  }

  /** Appends the request; the pending call learns its entry id, or fails typed. */
  private async enqueue(request: CallRequest): Promise<void> {
    const { publisher, keyPrefix, streamMaxLen, clock } = this.options;
    let entryId: unknown;
    try {
      const keys = [callKeys.requests(keyPrefix, request.module), callKeys.hosts(keyPrefix, request.module)];
      const wire = encodeCall({ ...request, deadline: clock.toRedis(request.deadline) });
      entryId = await resetOnTimeout(publisher, publisher.call('EVAL', SEND_CALL_SCRIPT, 2, ...keys, streamMaxLen, wire, CALL_FIELD));
    } catch (error) {
      throw new CallTransportError(`${request.type} could not be sent to module ${request.module}: Redis did not take it (${describeFailure(error).message})`, {
        module: request.module,
        messageType: request.type,
        requestId: request.id,
      });
    }
    if (entryId === null) throw new ModuleNotHostedError(request.module, request.type);
    if (entryId === 0) {
      throw new CallTransportError(`${request.type} was refused: module ${request.module} already has ${streamMaxLen} calls queued or running (callStreamMaxLen); it was not sent`, {
        module: request.module,
        messageType: request.type,
        requestId: request.id,
      });
    }
    const call = this.pending.get(request.id);
    if (call) {
      call.entryId = String(entryId);
      call.sentAt = Date.now();
    }
  }

  private settle(id: string): Pending | undefined {
    const call = this.pending.get(id);
    if (!call) return undefined;
    clearTimeout(call.timer);
    this.pending.delete(id);
    return call;
  }

  /** Takes the replies waiting on this process's list, up to a hundred at once (blocks while there are none). */
  protected override async warmUp(): Promise<void> {
    await whenReady(this.options.replies, this.options.commandTimeoutMs);
  }

  protected async step(): Promise<void> {
    const { replies, commandTimeoutMs } = this.options;
    const reply = (await bounded(
      replies,
      replies.call('BLMPOP', BLOCK_MS / 1000, 1, this.replyKey, 'LEFT', 'COUNT', REPLIES_PER_READ),
      BLOCK_MS + commandTimeoutMs,
      'BLMPOP of the call replies',
    )) as [string, string[]] | null;
    for (const json of reply?.[1] ?? []) this.deliver(json);
  }

  protected failed(error: unknown, delayMs: number, report: boolean): void {
    if (report) this.options.logger.warn(`could not read call replies (${describeFailure(error).message}); calls in flight end by their deadlines; next try in ${delayMs} ms`);
  }

  protected override recovered(): void {
    this.options.logger.log('call replies are read again');
  }

  private deliver(json: string): void {
    const reply = decodeReply(json);
    if (!reply) {
      this.options.logger.warn(`ignored a malformed call reply on ${this.replyKey}`);
      return;
    }
    // A reply to a call that already ended (deadline, re-sent query answered twice) is dropped.
    this.settle(reply.id)?.resolve(reply);
  }

  /** Once per heartbeat: looks at calls in flight for longer than a heartbeat (one round trip for all). */
  private async watch(): Promise<void> {
    if (this.watching || !this.running) return;
    const { publisher, keyPrefix, heartbeatMs, logger } = this.options;
    const due = [...this.pending.values()].filter((call) => call.entryId !== '' && Date.now() - call.sentAt >= heartbeatMs);
    if (due.length === 0) return;
    this.watching = true;
    try {
      const pipeline = publisher.pipeline();
      for (const { request, entryId } of due) {
        const keys = [callKeys.requests(keyPrefix, request.module), callKeys.hosts(keyPrefix, request.module), callKeys.draining(keyPrefix, request.module)];
        pipeline.call('EVAL', WATCH_CALL_SCRIPT, 3, ...keys, request.module, entryId);
      }
      const results = (await resetOnTimeout(publisher, pipeline.exec())) ?? [];
      due.forEach((call, index) => {
        const [error, state] = results[index] ?? [new Error('no answer'), undefined];
        if (!error) this.apply(call, state as [string, string]);
      });
    } catch (error) {
      logger.debug(`could not look at calls in flight: ${describeFailure(error).message}`);
    } finally {
      this.watching = false;
    }
  }

  private apply(call: Pending, [state, replica]: [string, string]): void {
    const { request } = call;
    if (!this.pending.has(request.id)) return;
    const context = { module: request.module, messageType: request.type, requestId: request.id, replica };
    if (state === 'no-host') {
      this.settle(request.id)?.reject(new ModuleNotHostedError(request.module, request.type, 'its last replica stopped before taking this call (it was not executed)'));
    } else if ((state === 'lost' || state === 'gone') && request.kind === 'query') {
      this.counts.resent += 1;
      this.options.logger.warn(`replica ${replica || '(unknown)'} of ${request.module} was lost while serving ${request.type} ${request.id}: sent again`);
      call.entryId = '';
      this.enqueue(request).catch((error: Error) => this.settle(request.id)?.reject(error));
    } else if (state === 'lost') {
      this.settle(request.id)?.reject(
        new ReplicaLostError(`replica ${replica} of module ${request.module} stopped while serving ${request.type} ${request.id}: the command may or may not have been applied`, context),
      );
    }
  }

  private deadlineError(request: CallRequest, why: string): CallDeadlineExceededError {
    return new CallDeadlineExceededError(`${request.type} to module ${request.module}: ${why} (deadline ${new Date(request.deadline).toISOString()})`, {
      module: request.module,
      messageType: request.type,
      requestId: request.id,
      deadline: request.deadline,
    });
  }
}
