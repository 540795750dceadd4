import { Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import { ValidationError } from '@modulith/core';
import { OutboxRetention, type RetainedOutbox } from './outbox-retention';

/**
 * Admin HTTP endpoints for the outbox retention. Not mounted by the platform: the app adds it to
 * a module's controllers, behind whatever protects its admin routes.
 *
 * - `GET  /admin/outbox/retained` — how many delivered events are kept, and their time span.
 * - `POST /admin/outbox/redrive?since=<ISO>&until=<ISO>` — 202, puts kept events delivered in
 *   that window back into the outbox, to be published again.
 */
@Controller('admin/outbox')
export class OutboxController {
  constructor(private readonly retention: OutboxRetention) {}

  @Get('retained')
  retained(): Promise<RetainedOutbox> {
    return this.retention.retained();
  }

  @Post('redrive')
  @HttpCode(202)
  async redrive(@Query('since') since?: string, @Query('until') until?: string): Promise<{ since: string; redriven: number }> {
    const from = parseTime(since, 'since');
    if (!from) throw new ValidationError('since', 'is required (query parameter, ISO 8601)');
    const redriven = await this.retention.redriveFrom(from, parseTime(until, 'until'));
    return { since: from.toISOString(), redriven };
  }
}

function parseTime(value: string | undefined, field: string): Date | undefined {
  if (value === undefined || value === '') return undefined;
  const time = new Date(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(time.getTime())) throw new ValidationError(field, 'must be an ISO 8601 time');
  return time;
}
