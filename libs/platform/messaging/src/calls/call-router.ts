import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { DiscoveryService } from '@nestjs/core';
import { CommandBus, QueryBus } from '@nestjs/cqrs';
import { CallDeadlineExceededError, currentCallDeadline, currentCorrelation, publicCalls, uuidv7, type PublicCall } from '@modulith/core';
import { Database } from '@modulith/database';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { MessagingModuleRegistration } from '../subscribers/messaging-module-registration';
import { errorFromWire } from './call-errors';
import { CallExecutor } from './call-executor';
import { payloadOf } from './call-payload';
import { CallReceipts } from './call-receipts';
import { checkPublicHandlersInProcess } from './in-process-check';
import { CALL_TRANSPORT, type CallTransport } from './call-transport';
import { traceCallSend, traceCallServe } from '../tracing/call-tracing';
import { bindRemoteHandler } from './remote-handler';

const RECEIPT_PRUNE_INTERVAL_MS = 3_600_000;

/**
 * Makes every `@PublicQuery` / `@PublicCommand` reachable wherever its module runs. At start-up,
 * for each catalogued message whose module is not hosted here (no `MessagingModule.forModule`
 * registration for it in this process), binds a forwarding handler on the bus; messages of
 * hosted modules are left alone (a plain in-process bus call, no serialization, no hop). Modules
 * hosted here that own public messages are served over the call transport, and announced there.
 */
@Injectable()
export class CallRouter {
  private readonly logger = new Logger('Messaging:Calls');
  private started = false;
  private hosted = new Set<string>();
  private pruner?: NodeJS.Timeout;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly database: Database,
    @Inject(CALL_TRANSPORT) private readonly transport: CallTransport,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
    // Optional: an app without CqrsModule.forRoot() has no public calls to route.
    @Optional() private readonly queryBus?: QueryBus,
    @Optional() private readonly commandBus?: CommandBus,
  ) {}

  /** Modules registered with `MessagingModule.forModule` in this process. */
  get hostedModules(): readonly string[] {
    return [...this.hosted];
  }

  /** Binds forwarding handlers and starts serving (called by `MessagingRuntime`, first). */
  async start(): Promise<void> {
    this.hosted = this.discoverHostedModules();
    const { queryBus, commandBus } = this;
    if (!queryBus || !commandBus) return;
    const catalog = publicCalls();
    const remote = catalog.filter((call) => !this.hosted.has(call.module));
    const hostedCalls = catalog.filter((call) => this.hosted.has(call.module));
    const served = [...new Set(hostedCalls.map((call) => call.module))];
    if (this.config.callCheckInProcess) {
      const checked = checkPublicHandlersInProcess(this.discovery, hostedCalls);
      this.logger.log(`callCheckInProcess: ${checked} public handlers here check that messages and results are plain JSON`);
    }
    const send = (target: PublicCall, message: object): Promise<unknown> => this.send(target, message);
    const buses = this.everyBus(queryBus, commandBus);
    for (const call of remote) bindRemoteHandler(call, send, buses);
    if (remote.length === 0 && served.length === 0) return;
    const receipts = new CallReceipts(() => this.database.dataSource);
    const executor = new CallExecutor({
      queryBus,
      commandBus,
      receipts,
      replica: this.transport.replica,
      logger: this.logger,
    });
    this.transport.serve(served, (request) => traceCallServe(request, () => executor.execute(request)));
    await this.transport.start();
    this.started = true;
    if (catalog.some((call) => call.kind === 'command' && this.hosted.has(call.module))) this.pruneReceipts(receipts);
    this.logger.log(
      `${this.transport.name} calls: serving ${served.join(', ') || 'nothing'}; forwarding ${[...new Set(remote.map((call) => call.module))].join(', ') || 'nothing'}`,
    );
  }

  /** Withdraws this process's presence first, then lets calls in flight finish within the shutdown budget (called by `MessagingRuntime`). */
  async stop(): Promise<void> {
    clearInterval(this.pruner);
    if (this.started) await this.transport.stop(this.config.shutdownTimeoutMs);
    this.started = false;
  }

  private async send(call: PublicCall, message: object): Promise<unknown> {
    const payload = payloadOf(message, call);
    const now = Date.now();
    const deadline = Math.min(currentCallDeadline() ?? Number.POSITIVE_INFINITY, now + this.config.callTimeoutMs);
    const correlation = currentCorrelation();
    const request = {
      id: uuidv7(),
      kind: call.kind,
      module: call.module,
      type: call.type,
      payload,
      deadline,
      correlationId: correlation?.correlationId ?? uuidv7(),
      ...(correlation?.causationId ? { causationId: correlation.causationId } : {}),
    };
    if (deadline <= now) {
      throw new CallDeadlineExceededError(`${call.type}: the caller's deadline passed before the call was sent`, {
        module: call.module,
        messageType: call.type,
        deadline,
        requestId: request.id,
      });
    }
    const reply = await traceCallSend(request, (trace) => this.transport.send({ ...request, ...trace }));
    if (reply.ok) return reply.result;
    throw errorFromWire(reply.error, request);
  }

  /** Receipts only matter while a repeated delivery can still arrive; older ones go, now and every hour. */
  private pruneReceipts(receipts: CallReceipts): void {
    const prune = (): void =>
      void receipts.prune(this.config.callReceiptRetentionHours).catch((error: Error) => this.logger.warn(`could not prune call receipts: ${error.message}`));
    prune();
    this.pruner = setInterval(prune, RECEIPT_PRUNE_INTERVAL_MS);
    this.pruner.unref();
  }

  /**
   * The root's buses and any others: a module that imports a plain `CqrsModule` gets buses of its
   * own (Nest counts it a module apart from `CqrsModule.forRoot()`), and its handlers are explored
   * onto both, so a caller injecting that module's QueryBus must reach forwarding handlers too.
   */
  private everyBus(queryBus: QueryBus, commandBus: CommandBus): { queryBuses: QueryBus[]; commandBuses: CommandBus[] } {
    const instances = this.discovery.getProviders().map((wrapper) => wrapper.instance as unknown);
    return {
      queryBuses: [...new Set([queryBus, ...instances.filter((instance): instance is QueryBus => instance instanceof QueryBus)])],
      commandBuses: [...new Set([commandBus, ...instances.filter((instance): instance is CommandBus => instance instanceof CommandBus)])],
    };
  }

  private discoverHostedModules(): Set<string> {
    const modules = this.discovery
      .getProviders()
      .map((wrapper) => wrapper.instance as unknown)
      .filter((instance): instance is MessagingModuleRegistration => instance instanceof MessagingModuleRegistration)
      .map((registration) => registration.options.module);
    return new Set(modules);
  }
}
