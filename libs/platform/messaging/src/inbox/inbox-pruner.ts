import { Inject, Injectable, Logger } from '@nestjs/common';
import { Database } from '@modulith/database';
import { MESSAGING_CONFIG, type MessagingConfig } from '../messaging.config';
import { describeFailure } from '../retries/failure';
import { queryRows } from '../sql/query-rows';
import type { SubscriberDefinition } from '../subscribers/subscriber-definition';

const CHUNK = 10_000;
const HOUR_MS = 3_600_000;

/**
 * Keeps inboxes from growing forever. An event can only come back while it is in the outbox
 * or the retry table, so its inbox row is needed for a bounded time. Rows go once both the
 * event (its uuidv7 id carries its creation time) and the handling are older than the retention.
 */
@Injectable()
export class InboxPruner {
  private readonly logger = new Logger('Messaging:InboxPruner');
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;
  private subscribers: readonly SubscriberDefinition[] = [];

  constructor(
    private readonly database: Database,
    @Inject(MESSAGING_CONFIG) private readonly config: MessagingConfig,
  ) {}

  start(subscribers: readonly SubscriberDefinition[]): void {
    if (this.config.inboxRetentionHours === 0 || subscribers.length === 0 || this.timer) return;
    this.subscribers = subscribers;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.pruneOnce()
        .catch((error) => {
          this.logger.warn(`inbox pruning failed: ${describeFailure(error).message}`);
          return 0;
        })
        .finally(() => (this.running = undefined));
    }, this.config.inboxPruneIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Deletes expired inbox rows of every subscriber hosted here; returns how many. */
  async pruneOnce(now: number = Date.now()): Promise<number> {
    const cutoff = now - this.config.inboxRetentionHours * HOUR_MS;
    const idBound = uuidv7Floor(cutoff);
    let deleted = 0;
    for (const { schema, subscriber } of this.subscribers) {
      for (;;) {
        const rows = await queryRows<{ event_id: string }>(
          this.database.dataSource,
          `DELETE FROM "${schema}".inbox WHERE subscriber = $1 AND event_id = ANY (ARRAY(
             SELECT event_id FROM "${schema}".inbox
              WHERE subscriber = $1 AND event_id < $2 AND handled_at < to_timestamp($3 / 1000.0)
              LIMIT ${CHUNK} FOR UPDATE SKIP LOCKED))
           RETURNING event_id`,
          [subscriber, idBound, cutoff],
        );
        deleted += rows.length;
        if (rows.length < CHUNK) break;
      }
    }
    return deleted;
  }
}

/** The smallest UUIDv7 of the given millisecond: every id made before it sorts below. */
export function uuidv7Floor(ms: number): string {
  const hex = Math.max(0, Math.floor(ms)).toString(16).padStart(12, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7000-8000-000000000000`;
}
