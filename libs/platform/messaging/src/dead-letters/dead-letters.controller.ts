import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ValidationError } from '@modulith/core';
import { DeadLetters, type DeadLetter, type ReplayedDeadLetter } from './dead-letters';

/**
 * Admin HTTP endpoints for the dead-letter store. Not mounted by the platform: the app adds it
 * to a module's controllers, behind whatever protects its admin routes.
 *
 * - `GET  /admin/dead-letters?subscriber=&limit=&before=` — newest first; `nextBefore` pages on.
 * - `POST /admin/dead-letters/:id/replay` — 202, hands one back to its subscriber.
 * - `POST /admin/dead-letters/replay?subscriber=` — 202, hands back all of a subscriber's.
 */
@Controller('admin/dead-letters')
export class DeadLettersController {
  constructor(private readonly deadLetters: DeadLetters) {}

  @Get()
  async list(
    @Query('subscriber') subscriber?: string,
    @Query('limit') limit?: string,
    @Query('before') before?: string,
  ): Promise<{ items: DeadLetter[]; nextBefore: string | null }> {
    const size = limit === undefined ? 100 : parseLimit(limit);
    const items = await this.deadLetters.list({ subscriber: checkedSubscriber(subscriber) || undefined, limit: size, before: before || undefined });
    return { items, nextBefore: items.length === size ? items[items.length - 1].id : null };
  }

  @Post('replay')
  @HttpCode(202)
  async replayAll(@Query('subscriber') subscriber?: string): Promise<{ subscriber: string; replayed: number }> {
    if (!subscriber) throw new ValidationError('subscriber', 'is required (query parameter)');
    return { subscriber, replayed: await this.deadLetters.replayAll(checkedSubscriber(subscriber) as string) };
  }

  @Post(':id/replay')
  @HttpCode(202)
  replay(@Param('id') id: string): Promise<ReplayedDeadLetter> {
    return this.deadLetters.replay(id);
  }
}

function parseLimit(value: string): number {
  if (!/^\d+$/.test(value)) throw new ValidationError('limit', 'must be an integer from 1 to 1000');
  return Number(value);
}

/** Subscriber names are plain tokens; anything else (a NUL byte, say) is a client error, not a query. */
function checkedSubscriber(subscriber: string | undefined): string | undefined {
  if (subscriber && !/^[A-Za-z0-9._:-]{1,200}$/.test(subscriber)) {
    throw new ValidationError('subscriber', 'must be a subscriber name (letters, digits and -_.:)');
  }
  return subscriber;
}
