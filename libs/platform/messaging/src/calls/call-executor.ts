import type { Logger } from '@nestjs/common';
import type { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CallDeadlineExceededError, publicCallByType, runWithCorrelation, withCallDeadlineAt, type PublicCall } from '@modulith/core';
import { withTransactionHook } from '@modulith/database';
import { describeFailure } from '../retries/failure';
import { errorToWire } from './call-errors';
import { assertPlainResult, CallPayloadError, messageOf } from './call-payload';
import { AlreadyApplied, type CallReceipts } from './call-receipts';
import type { CallReply, CallRequest } from './call-wire';

export interface CallExecutorOptions {
  queryBus: QueryBus;
  commandBus: CommandBus;
  receipts: CallReceipts;
  /** This process's name as a serving replica, stamped on each reply. */
  replica: string;
  logger: Logger;
}

/**
 * The serving side of a remote call, whatever the transport: rebuilds the message as an
 * instance of its class, runs it on this process's own bus (the handler is hosted here) under
 * the caller's correlation id and deadline, and turns the outcome into a reply. A command runs
 * in an idempotency scope: its first `Database.transaction` also inserts the receipt keyed by
 * the request id, so a second delivery replies with the stored result instead of applying it
 * again. A result that is not plain JSON is refused here, loudly (`CallPayloadError`).
 */
export class CallExecutor {
  private readonly warnedUnguarded = new Set<string>();

  constructor(private readonly options: CallExecutorOptions) {}

  async execute(request: CallRequest): Promise<CallReply> {
    const { replica, logger } = this.options;
    const call = publicCallByType(request.type);
    try {
      if (!call || call.module !== request.module) {
        throw new CallPayloadError(`no public ${request.kind} "${request.type}" of module ${request.module} is known in this process`, {
          module: request.module,
          messageType: request.type,
        });
      }
      const message = messageOf(call, request.payload);
      const run = (): Promise<unknown> =>
        withCallDeadlineAt(request.deadline, () => (call.kind === 'query' ? this.options.queryBus.execute(message) : this.options.commandBus.execute(message)));
      const result = await runWithCorrelation({ correlationId: request.correlationId, causationId: request.id }, () =>
        call.kind === 'command' ? this.command(call, request, run) : run(),
      );
      assertPlainResult(result, call);
      return { id: request.id, replica, ok: true, ...(result === undefined ? {} : { result }) };
    } catch (error) {
      if (error instanceof CallPayloadError) logger.error(`${error.message} (request ${request.id})`);
      return { id: request.id, replica, ok: false, error: errorToWire(error) };
    }
  }

  private async command(call: PublicCall, request: CallRequest, run: () => Promise<unknown>): Promise<unknown> {
    const { receipts, logger } = this.options;
    const hook = receipts.hook(call.module, request.id, request.deadline);
    const scope = withTransactionHook(hook, run);
    try {
      const result = await scope.result;
      if (!scope.hookRan()) this.warnUnguarded(call);
      else await receipts.record(call.module, request.id, result, hook.stored).catch((error) => logger.warn(`could not record the result of ${request.type} ${request.id}: ${describeFailure(error).message}`));
      return result;
    } catch (error) {
      if (!isAlreadyApplied(error)) throw error;
      logger.log(`${request.type} ${request.id} was delivered again: applied once, the stored result is the reply`);
      const stored = await receipts.result(call.module, request.id, request.deadline);
      if (stored) return stored.result;
      throw new CallDeadlineExceededError(`${request.type} ${request.id} was applied, but its result was not recorded before the deadline`, {
        module: call.module,
        messageType: request.type,
        requestId: request.id,
      });
    }
  }

  private warnUnguarded(call: PublicCall): void {
    if (this.warnedUnguarded.has(call.type)) return;
    this.warnedUnguarded.add(call.type);
    this.options.logger.warn(
      `remote command ${call.type} started no Database.transaction: a repeated delivery would run it again ` +
        '(a remotely callable command does its writes in one Database.transaction)',
    );
  }
}

function isAlreadyApplied(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth += 1) {
    if (cause instanceof AlreadyApplied) return true;
  }
  return false;
}
