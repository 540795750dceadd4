import { NOW } from './call-scripts';

/**
 * Presence of event consumers: `<prefix>:event-consumers`, a sorted set of consumer names (one
 * per process, as in every consumer group) scored by when each one's presence lapses, in
 * Redis's time (ms): no two processes' clocks are ever compared. A process renews its name every
 * `REDIS_CONSUMER_HEARTBEAT_MS` from a timer of its own, so a handler that runs long does not
 * let it lapse, and marks it lapsed when it stops. A consumer whose presence lapsed is dead (or
 * stopped): any live consumer of its group takes its pending entries over at once (see
 * `CLAIM_FROM_LAPSED_SCRIPT`). A name not in the set (a process of a version that announces
 * nothing) is never judged by it: its entries wait for XAUTOCLAIM after `REDIS_CLAIM_IDLE_MS`.
 */
export function presenceKey(prefix: string): string {
  return `${prefix}:event-consumers`;
}

/** Which process instance last renewed each consumer name: two live ones sharing a name are a misconfiguration. */
export function presenceInstancesKey(prefix: string): string {
  return `${prefix}:event-consumer-instances`;
}

/**
 * Since when (Redis's time) each consumer's presence has been renewed without lapsing. A consumer
 * judges others dead only once it has been live a whole TTL itself: when Redis was frozen (or
 * this consumer paused) longer than the TTL, every presence lapsed by Redis's clock, and the
 * others get that long to renew before their entries are taken.
 */
export function presenceSinceKey(prefix: string): string {
  return `${prefix}:event-consumer-since`;
}

/**
 * Renews (`live`: lapses at now + ttl) or withdraws (`gone`: lapsed now) one consumer's presence,
 * and forgets names lapsed for longer than `forget ms` (their entries, if any are left, wait for
 * XAUTOCLAIM). Each renewal records which process instance made it (`presenceInstancesKey`): a
 * process that finds another instance's renewal since its own shares its name with a live
 * process. A withdrawal by an instance that is not the last renewer is ignored: the name's
 * other, live process still renews it. KEYS: presence set, instances hash. ARGV: consumer, ttl
 * ms, forget ms, mode, instance; KEYS[3], the since hash (`presenceSinceKey`), is restarted at a
 * renewal that finds the presence lapsed or absent. Returns {Redis's time, the instance that renewed the name
 * before this call (or '')}.
 *
 * Only a later run forgets lapsed names, so every run also sets the three keys to expire `ttl +
 * forget ms` after the latest lapse the set records (or after now, if later): by then that run
 * would have forgotten every name in them anyway, so the expiry never drops a presence or a
 * forget window still in force, while a deployment that stopped (nobody runs this again) leaves
 * nothing behind. A renewal puts the expiry at least `2 ttl + forget ms` ahead: a consumer whose
 * heartbeat is late lapses (after ttl) long before its keys could expire.
 */
export const ANNOUNCE_CONSUMER_SCRIPT = `${NOW}
local forgotten = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[3])), 'LIMIT', 0, 1000)
for _, name in ipairs(forgotten) do
  redis.call('ZREM', KEYS[1], name)
  redis.call('HDEL', KEYS[2], name)
  redis.call('HDEL', KEYS[3], name)
end
local previous = redis.call('HGET', KEYS[2], ARGV[1]) or ''
if ARGV[4] == 'live' then
  local lapses = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not lapses or tonumber(lapses) < now then redis.call('HSET', KEYS[3], ARGV[1], now) end
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[5])
elseif previous == '' or previous == ARGV[5] then
  redis.call('ZADD', KEYS[1], now - 1, ARGV[1])
end
local latest = redis.call('ZREVRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
local expires = math.floor(math.max(now, tonumber(latest or now)) + tonumber(ARGV[2]) + tonumber(ARGV[3]) - now)
for _, key in ipairs(KEYS) do redis.call('PEXPIRE', key, expires) end
return {now, previous}`;

/**
 * Takes over, for this consumer, up to `count` entries of the group pending with consumers
 * whose presence lapsed, in one atomic step: two live consumers never both take the same
 * entries, and an entry is taken only from a consumer that was lapsed when it was taken.
 * Entries deleted from the stream meanwhile leave the pending list without being returned.
 * Takes nothing unless this consumer has itself been live, without a lapse, for `ttl ms` (see
 * `presenceSinceKey`). KEYS: stream, presence set, since hash. ARGV: group, this consumer, count, ttl ms.
 * Returns {entries taken ([id, fields]), how many pending ids were no longer in the stream}.
 */
export const CLAIM_FROM_LAPSED_SCRIPT = `${NOW}
local mine, since = redis.call('ZSCORE', KEYS[2], ARGV[2]), redis.call('HGET', KEYS[3], ARGV[2])
if not mine or tonumber(mine) < now or not since or now - tonumber(since) < tonumber(ARGV[4]) then return {{}, 0} end
local summary = redis.call('XPENDING', KEYS[1], ARGV[1])
local taken, missing = {}, 0
if tonumber(summary[1]) == 0 or not summary[4] then return {taken, missing} end
local budget = tonumber(ARGV[3])
for _, holder in ipairs(summary[4]) do
  local name = holder[1]
  if budget <= 0 then break end
  if name ~= ARGV[2] then
    local lapses = redis.call('ZSCORE', KEYS[2], name)
    if lapses and tonumber(lapses) < now then
      local ids = {}
      for _, entry in ipairs(redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', budget, name)) do ids[#ids + 1] = entry[1] end
      if #ids > 0 then
        local got = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, unpack(ids))
        for _, entry in ipairs(got) do taken[#taken + 1] = entry end
        missing = missing + #ids - #got
        budget = budget - #ids
      end
    end
  end
end
return {taken, missing}`;

