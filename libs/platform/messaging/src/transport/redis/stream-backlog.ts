import type { Redis } from 'ioredis';
import { compareIds, record, streamPattern } from './stream-entries';

const FALLBACK_COUNT_LIMIT = 100_000;

/**
 * How many entries some consumer group has not finished with, over every stream under `prefix`:
 * per group, pending (read, not acknowledged) plus lag (not yet read). Entries removed from the
 * stream before a group read them are lost, not pending: they are not counted (Redis's own lag
 * would count them until the group's consumer settles them). Streams without groups
 * (broadcast only) count nothing: best-effort readers keep no state in Redis. Rejects while a
 * group this process consumes with is missing (a Redis that lost its data, before the consumer
 * made the group again): what that group will find is not known yet.
 */
export async function streamBacklog(redis: Redis, prefix: string, expected: readonly { stream: string; group: string }[] = []): Promise<number> {
  let total = 0;
  const found = new Set<string>();
  for (const key of await streamKeys(redis, prefix)) total += await keyBacklog(redis, key, found);
  const missing = expected.find(({ stream, group }) => !found.has(`${stream}\u0000${group}`));
  if (missing) throw new Error(`consumer group ${missing.group} of ${missing.stream} does not exist (yet)`);
  return total;
}

/** Entries delivered to each consumer group and not yet acknowledged, summed over the streams under `prefix`. */
export async function pendingByGroup(redis: Redis, prefix: string): Promise<Map<string, number>> {
  const pending = new Map<string, number>();
  for (const key of await streamKeys(redis, prefix)) {
    for (const fields of (await redis.call('XINFO', 'GROUPS', key)) as unknown[][]) {
      const group = record(fields);
      const name = String(group['name']);
      pending.set(name, (pending.get(name) ?? 0) + Number(group['pending'] ?? 0));
    }
  }
  return pending;
}

async function streamKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = (await redis.call('SCAN', cursor, 'MATCH', streamPattern(prefix), 'COUNT', 1000, 'TYPE', 'stream')) as [string, string[]];
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
}

async function keyBacklog(redis: Redis, key: string, found: Set<string>): Promise<number> {
  const groups = (await redis.call('XINFO', 'GROUPS', key)) as unknown[][];
  if (groups.length === 0) return 0;
  const stream = record((await redis.call('XINFO', 'STREAM', key)) as unknown[]);
  const firstId = (stream['first-entry'] as [string, unknown] | null)?.[0];
  let total = 0;
  for (const fields of groups) {
    const group = record(fields);
    found.add(`${key}\u0000${String(group['name'])}`);
    total += Number(group['pending'] ?? 0);
    const lastDelivered = String(group['last-delivered-id']);
    if (compareIds(lastDelivered, String(stream['last-generated-id'])) >= 0) {
      // At the stream's end: nothing to read, whatever Redis's lag says. Redis 7.0 replays a
      // group's reads from its append-only file (and replicas apply them) without the group's
      // read counter, so after a restart or failover the lag it reports can stay above zero for
      // good (redis/redis#12898, fixed in 7.2.4).
    } else if (firstId === undefined || compareIds(lastDelivered, firstId) < 0) {
      // Every entry still there follows the group's position; what was removed before it was read is lost.
      total += Number(stream['length']);
    } else if (typeof group['lag'] === 'number') {
      // Never more than the stream holds (the stale counter above only ever reads too low).
      total += Math.min(group['lag'], Number(stream['length']));
    } else {
      // Redis cannot always tell the lag (e.g. after deletions): count what follows the group's position.
      const after = (await redis.call('XRANGE', key, `(${String(group['last-delivered-id'])}`, '+', 'COUNT', FALLBACK_COUNT_LIMIT)) as unknown[];
      total += after.length;
    }
  }
  return total;
}
