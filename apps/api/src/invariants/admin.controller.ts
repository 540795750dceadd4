import { Controller, Get, Optional } from '@nestjs/common';
import { MessagingMetrics, type MessagingBacklog } from '@modulith/messaging';
import { InvariantsService, type InvariantReport } from './invariants.service';
import { NotFoundError } from '@modulith/core';

/** Operator endpoints; the `/admin` prefix puts them behind ADMIN_TOKEN (see @modulith/http). */
@Controller('admin')
export class AdminController {
  constructor(
    private readonly metrics: MessagingMetrics,
    @Optional() private readonly invariants?: InvariantsService,
  ) {}

  /** What waits in the outbox and the retry table, and how many dead letters there are. */
  @Get('pipeline')
  pipeline(): Promise<MessagingBacklog> {
    return this.metrics.backlog();
  }

  /** The invariant check; needs ingestion, ledger and analytics in this process. */
  @Get('invariants')
  check(): Promise<InvariantReport> {
    if (!this.invariants) {
      throw new NotFoundError('the invariant check needs the ingestion, ledger and analytics modules in this process');
    }
    return this.invariants.check();
  }
}
