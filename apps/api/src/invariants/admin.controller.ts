import { Controller, Get, Optional } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { isDrained, MessagingMetrics, type MessagingBacklog } from '@modulith/messaging/operator';
import { RedisStreamsTransport } from '@modulith/messaging/redis';
import { TRANSPORT } from '@modulith/messaging/transport';
import { InvariantsService, type InvariantReport } from './invariants.service';
import { NotFoundError } from '@modulith/core';

/**
 * `/admin/pipeline`: the backlog, whether it is drained (`isDrained`, the one meaning scripts and
 * tests wait for), plus what the Redis transport of this process found lost (totals since it started).
 */
export type PipelineState = MessagingBacklog & {
  drained: boolean;
  transportLost?: { events: number; streamsOrGroupsVanished: number; bestEffortEvents: number };
  streamsOverCap?: { stream: string; length: number; heldBy: string }[];
};

/** Operator endpoints; the `/admin` prefix puts them behind ADMIN_TOKEN (see @modulith/http). */
@Controller('admin')
export class AdminController {
  constructor(
    private readonly metrics: MessagingMetrics,
    private readonly moduleRef: ModuleRef,
    @Optional() private readonly invariants?: InvariantsService,
  ) {}

  /**
   * What waits in the outbox, the retry table and the broker, how many dead letters there are,
   * and, over Redis, what this process found lost: entries removed before a group handled them
   * are `transportLost`, never `transportPending` (re-drive them: `outbox redrive --since`).
   */
  @Get('pipeline')
  async pipeline(): Promise<PipelineState> {
    const counts = await this.metrics.backlog();
    const backlog = { ...counts, drained: isDrained(counts) };
    // The transport is provided inside the messaging module, not exported to this one.
    const transport: unknown = this.moduleRef.get(TRANSPORT, { strict: false });
    if (!(transport instanceof RedisStreamsTransport)) return backlog;
    const { lost, groupsLost, streamsLost, lostBestEffort, streamsOverCap } = transport.stats();
    return { ...backlog, transportLost: { events: lost, streamsOrGroupsVanished: groupsLost + streamsLost, bestEffortEvents: lostBestEffort }, streamsOverCap };
  }

  /** The invariant check; needs ingestion, ledger and analytics in this process, or EVENT_TRANSPORT=redis to reach them elsewhere. */
  @Get('invariants')
  check(): Promise<InvariantReport> {
    if (!this.invariants) {
      throw new NotFoundError('the invariant check needs the ingestion, ledger and analytics modules in this process, or EVENT_TRANSPORT=redis to query them where they run');
    }
    return this.invariants.check();
  }
}
