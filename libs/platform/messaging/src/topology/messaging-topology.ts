import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigurationError, ModulithError } from '@modulith/core';
import { Database } from '@modulith/database';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { describeFailure } from '../retries/failure';
import { queryRows, type Queryable } from '../sql/query-rows';
import { topologyProblems, type InstanceView, type TopologyProblem } from './topology-rules';

/** The relay was about to delete events that a durable subscriber elsewhere has not seen; the batch rolls back. */
export class TopologyError extends ModulithError {
  readonly code = 'MESSAGING_TOPOLOGY_UNSAFE';
}

/** What `/ready` shows about the instances sharing this database. */
export interface TopologyStatus {
  /** False when this process cannot run as configured without losing events (its relay is then paused). */
  readonly ok: boolean;
  readonly problems: readonly string[];
  /** This process's row in `messaging.instances`, when it registered. */
  readonly instance?: string;
}

/** What this process hosts; `MessagingRuntime` describes it once its subscribers are known. */
export type LocalInstance = Pick<InstanceView, 'relayEnabled' | 'modules' | 'durable' | 'bestEffort'> & {
  eventTypes: readonly string[];
  /** The name of a transport the app passed to `forRoot({ transport })`; else `EVENT_TRANSPORT`'s kind is used. */
  transport?: string;
};

interface InstanceRow {
  id: string;
  host: string;
  pid: number;
  transport: string;
  relay_enabled: boolean;
  modules: string[];
  durable: string[];
  best_effort: string[];
  age_ms: number;
}

// Serialises "check, then register" between processes starting side by side.
const REGISTRATION_LOCK = 0x6d6f6475; // 'modu'

/**
 * Lets the processes sharing a database see each other, so a topology that would delete events
 * some subscriber has not handled is refused (see `topologyProblems`). Each process registers
 * in `messaging.instances` at start-up (refusing to start, with the fix, while a problem
 * persists), refreshes its row every `MESSAGING_HEARTBEAT_INTERVAL_MS`, and removes it on
 * shutdown; rows not refreshed for `MESSAGING_INSTANCE_EXPIRY_MS` belong to dead processes.
 * Modules that host durable subscribers are also recorded for good in
 * `messaging.durable_modules`, so an in-process relay never deletes the events of a module
 * whose process is merely down. A problem that appears later (another process started)
 * is reported to listeners (the runtime pauses the relay) and by `status()` (`/ready`).
 */
@Injectable()
export class MessagingTopology {
  private readonly logger = new Logger('Messaging:Topology');
  private self?: InstanceView;
  private eventTypes: readonly string[] = [];
  private problems: TopologyProblem[] = [];
  private readonly listeners = new Set<(status: TopologyStatus) => void>();
  private timer?: NodeJS.Timeout;
  private beat?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly database: Database,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  /**
   * Registers this process. Rejects with a `ConfigurationError` naming the fix when it cannot run
   * beside the live instances; waits first (up to the expiry) while an instance involved looks
   * dead (missed a heartbeat), since a crashed process's row outlives it.
   */
  async start(local: LocalInstance): Promise<void> {
    if (!this.config.registerInstance) return;
    const { transport = this.config.eventTransport, ...hosted } = local;
    const self: InstanceView = { id: randomUUID(), host: hostname(), pid: process.pid, transport, ...hosted };
    this.eventTypes = local.eventTypes;
    const deadline = Date.now() + this.config.instanceExpiryMs + this.config.heartbeatIntervalMs;
    for (;;) {
      const { problems, suspect } = await this.database.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [REGISTRATION_LOCK]);
        const others = await this.liveInstances(tx, self.id);
        const found = topologyProblems(self, others.map(toView), await this.knownModules(tx));
        if (found.length === 0) await this.register(tx, self);
        const involved = new Set(found.flatMap((problem) => problem.instances));
        return { problems: found, suspect: others.some((row) => involved.has(row.id) && row.age_ms > this.config.heartbeatIntervalMs * 1.5) };
      });
      if (problems.length === 0) break;
      if (!suspect || Date.now() > deadline) {
        throw new ConfigurationError(`refusing to start: ${problems.map((problem) => problem.message).join('; ')}`, {
          rules: problems.map((problem) => problem.rule),
        });
      }
      this.logger.warn(`waiting for instances that missed their heartbeat to expire: ${problems.map((problem) => problem.message).join('; ')}`);
      await new Promise((resolve) => setTimeout(resolve, this.config.heartbeatIntervalMs));
    }
    this.self = self;
    this.schedule();
  }

  status(): TopologyStatus {
    return { ok: this.problems.length === 0, problems: this.problems.map((problem) => problem.message), instance: this.self?.id };
  }

  /** Called with the new status whenever the set of problems changes. */
  onChange(listener: (status: TopologyStatus) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Throws a `TopologyError` unless this process may delete relayed events now: called by the
   * in-process transport for every batch, inside the relay's transaction, so a module first
   * registered after this check only misses events committed before it registered.
   */
  async assertMayDelete(): Promise<void> {
    const self = this.self;
    if (!self) return;
    const blocking = this.problems.filter((problem) => problem.rule !== 'durable-not-relayed');
    if (blocking.length > 0) throw new TopologyError(blocking.map((problem) => problem.message).join('; '), { instance: self.id });
    const missing = await queryRows<{ module: string }>(
      this.database.dataSource,
      'SELECT module FROM messaging.durable_modules WHERE NOT (module = ANY($1::text[])) ORDER BY module LIMIT 20',
      [self.modules],
    );
    if (missing.length > 0) {
      this.wake();
      const modules = missing.map((row) => row.module).join(', ');
      throw new TopologyError(
        `durable subscribers of ${modules} do not run in this process: with the in-process transport this relay would delete their events unseen (batch rolled back)`,
        { instance: self.id, modules },
      );
    }
  }

  /** Stops the heartbeat and removes this process's row (bounded by the heartbeat interval). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    const self = this.self;
    this.self = undefined;
    if (!self) return;
    await this.beat?.catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.config.heartbeatIntervalMs)));
    const removal = this.database.dataSource
      .query('DELETE FROM messaging.instances WHERE id = $1', [self.id])
      .catch((error: unknown) => this.logger.warn(`could not remove instance ${self.id}; it expires on its own: ${describeFailure(error).message}`));
    await Promise.race([removal, bound]).finally(() => clearTimeout(timer));
  }

  private wake(): void {
    if (this.stopped || !this.self) return;
    clearTimeout(this.timer);
    this.schedule(0);
  }

  private schedule(delayMs = this.config.heartbeatIntervalMs): void {
    this.timer = setTimeout(() => {
      this.beat = this.heartbeat()
        .catch((error: unknown) => this.logger.warn(`heartbeat failed: ${describeFailure(error).message}`))
        .finally(() => {
          if (!this.stopped && this.self) this.schedule();
        });
    }, delayMs);
    this.timer.unref();
  }

  private async heartbeat(): Promise<void> {
    const self = this.self;
    if (!self) return;
    const { others, known } = await this.database.transaction(async (tx) => {
      const refreshed = await queryRows(tx, 'UPDATE messaging.instances SET heartbeat_at = now() WHERE id = $1 RETURNING id', [self.id]);
      // Expired (a long pause, a database outage) and removed by another process: come back.
      if (refreshed.length === 0) await this.register(tx, self);
      else await this.recordModules(tx, self);
      return { others: await this.liveInstances(tx, self.id), known: await this.knownModules(tx) };
    });
    const problems = topologyProblems(self, others.map(toView), known);
    const before = this.problems.map((problem) => problem.message).join('\n');
    this.problems = problems;
    if (problems.map((problem) => problem.message).join('\n') === before) return;
    if (problems.length > 0) this.logger.error(`messaging topology unsafe: ${problems.map((problem) => problem.message).join('; ')}`);
    else this.logger.log('messaging topology safe again');
    for (const listener of this.listeners) listener(this.status());
  }

  private async register(tx: Queryable, self: InstanceView): Promise<void> {
    await tx.query(
      `INSERT INTO messaging.instances (id, host, pid, transport, relay_enabled, modules, durable, best_effort)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
      [self.id, self.host, self.pid, self.transport, self.relayEnabled, self.modules, self.durable, self.bestEffort],
    );
    await this.recordModules(tx, self);
  }

  private async recordModules(tx: Queryable, self: InstanceView): Promise<void> {
    if (self.modules.length === 0) return;
    await tx.query(
      `INSERT INTO messaging.durable_modules (module, subscribers, event_types, last_host)
       SELECT module, $2, $3, $4 FROM unnest($1::text[]) AS module
       ON CONFLICT (module) DO UPDATE SET subscribers = excluded.subscribers, event_types = excluded.event_types,
                                          last_seen_at = now(), last_host = excluded.last_host`,
      [self.modules, self.durable, this.eventTypes, `${self.host}:${self.pid}`],
    );
  }

  /** Live rows other than ours; expired rows, and rows of dead processes on this host, are removed first. */
  private async liveInstances(tx: Queryable, selfId: string): Promise<InstanceRow[]> {
    await tx.query(`DELETE FROM messaging.instances WHERE heartbeat_at < now() - make_interval(secs => $1::double precision / 1000)`, [
      this.config.instanceExpiryMs,
    ]);
    const rows = await queryRows<InstanceRow>(
      tx,
      `SELECT id, host, pid, transport, relay_enabled, modules, durable, best_effort,
              (extract(epoch FROM now() - heartbeat_at) * 1000)::float8 AS age_ms
         FROM messaging.instances WHERE id <> $1 ORDER BY started_at`,
      [selfId],
    );
    const dead = rows.filter((row) => row.host === hostname() && row.pid !== process.pid && !processAlive(row.pid));
    if (dead.length > 0) await tx.query('DELETE FROM messaging.instances WHERE id = ANY($1::uuid[])', [dead.map((row) => row.id)]);
    return rows.filter((row) => !dead.includes(row));
  }

  /** Modules with durable subscribers: recorded by any process on this database, or declared by this app. */
  private async knownModules(tx: Queryable): Promise<string[]> {
    const recorded = (await queryRows<{ module: string }>(tx, 'SELECT module FROM messaging.durable_modules ORDER BY module')).map((row) => row.module);
    return [...new Set([...recorded, ...this.config.declaredDurableModules])].sort();
  }
}

function toView(row: InstanceRow): InstanceView {
  return {
    id: row.id,
    host: row.host,
    pid: row.pid,
    transport: row.transport,
    relayEnabled: row.relay_enabled,
    modules: row.modules,
    durable: row.durable,
    bestEffort: row.best_effort,
  };
}

/** Whether a process of this host still runs (signal 0 only checks). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
