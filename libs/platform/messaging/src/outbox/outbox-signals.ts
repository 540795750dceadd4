import { Injectable } from '@nestjs/common';
import type { DataSource, EntityManager, EntitySubscriberInterface, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';

/**
 * Tells the relay (and, through NOTIFY, other processes) that outbox rows were committed. An
 * append only marks its transaction; the signal fires after that transaction commits, because
 * a relay woken before the commit would find nothing and go back to sleep.
 */
@Injectable()
export class OutboxSignals implements EntitySubscriberInterface {
  private readonly pending = new WeakSet<QueryRunner>();
  private readonly listeners = new Set<() => void>();

  /** Hooks into the data source's transaction events; idempotent. */
  attach(dataSource: DataSource): void {
    const subscribers = dataSource.subscribers as EntitySubscriberInterface[];
    if (!subscribers.includes(this)) subscribers.push(this);
  }

  detach(dataSource: DataSource): void {
    const subscribers = dataSource.subscribers as EntitySubscriberInterface[];
    const index = subscribers.indexOf(this);
    if (index >= 0) subscribers.splice(index, 1);
  }

  /** Registers a callback run after each commit that carried outbox rows; returns its removal. */
  onCommitted(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called by the outbox after it wrote rows with `manager`. */
  appended(manager: EntityManager): void {
    const runner = manager.queryRunner;
    if (runner?.isTransactionActive) this.pending.add(runner);
    else this.emit(); // auto-committed already
  }

  /**
   * For transactions committed on the driver connection, which TypeORM does not see (a
   * subscriber's transaction, whose COMMIT must be checked for a silent ROLLBACK): events its
   * handler appended wake the relay like any other commit.
   */
  committed(runner: QueryRunner): void {
    if (!this.pending.has(runner)) return;
    this.pending.delete(runner);
    this.emit();
  }

  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    // A released savepoint also reports a commit: wait for the outermost one.
    if (runner.isTransactionActive || !this.pending.has(runner)) return;
    this.pending.delete(runner);
    this.emit();
  }

  afterTransactionRollback(event: TransactionRollbackEvent): void {
    if (!event.queryRunner.isTransactionActive) this.pending.delete(event.queryRunner);
  }

  private emit(): void {
    for (const listener of this.listeners) listener();
  }
}
