// Each script reads Redis's own clock (TIME), so presence never depends on clocks of processes agreeing.
export const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

// A replica is alive while it serves (hosts set) or drains what it took before stopping (draining set).
const ALIVE = `local function alive(replica)
  local serving = redis.call('ZSCORE', KEYS[2], replica)
  local draining = redis.call('ZSCORE', KEYS[3], replica)
  return (serving and tonumber(serving) >= now) or (draining and tonumber(draining) >= now)
end`;

/**
 * Sends a request only while some replica of the module is live: one round trip, and a module
 * nobody hosts fails fast instead of queueing a call nobody will take. A stream holding its cap
 * of calls (queued or running) refuses the new one, rather than trimming calls already queued
 * (their callers would wait out their deadlines for calls nobody runs).
 * KEYS: requests stream, hosts set. ARGV: stream cap, request JSON, field name.
 * Returns the entry id, false when no replica is live, or 0 when the stream is full.
 */
export const SEND_CALL_SCRIPT = `${NOW}
if redis.call('ZCOUNT', KEYS[2], now, '+inf') == 0 then return false end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
return redis.call('XADD', KEYS[1], '*', ARGV[3], ARGV[2])`;

/**
 * A caller's look at one call in flight. KEYS: requests stream, hosts set, draining set. ARGV: group, entry id.
 * Returns {state, replica}:
 * - 'running': a live replica (serving, or draining before it stops) holds it;
 * - 'lost': the replica holding it lapsed; the entry is acknowledged and deleted here, so no
 *   other replica takes it over later (the caller re-sends a query, or fails a command);
 * - 'queued': not taken yet, and some replica is live;
 * - 'no-host': not taken and no replica is live: deleted, so it never runs after the caller gave up;
 * - 'done': acknowledged (its reply is on the way, or was lost) or trimmed away;
 * - 'gone': the stream or its group vanished (Redis lost its data).
 */
export const WATCH_CALL_SCRIPT = `${NOW}
${ALIVE}
local pending = redis.pcall('XPENDING', KEYS[1], ARGV[1], ARGV[2], ARGV[2], 1)
if type(pending) == 'table' and pending.err then return {'gone', ''} end
if #pending == 0 then
  if #redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2]) == 0 then return {'done', ''} end
  if redis.call('ZCOUNT', KEYS[2], now, '+inf') == 0 then
    redis.call('XDEL', KEYS[1], ARGV[2])
    return {'no-host', ''}
  end
  return {'queued', ''}
end
local replica = pending[1][2]
if alive(replica) then return {'running', replica} end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
return {'lost', replica}`;

/**
 * Takes over requests that replicas whose presence lapsed held for at least `min idle` ms (they
 * died between taking a call and replying, and the caller has not settled it yet).
 * KEYS: requests stream, hosts set, draining set. ARGV: group, this replica, min idle ms, count.
 * Returns the entries claimed ([id, fields]).
 */
export const CLAIM_LAPSED_SCRIPT = `${NOW}
${ALIVE}
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', ARGV[3], '-', '+', ARGV[4])
local ids = {}
for _, entry in ipairs(pending) do
  if entry[2] ~= ARGV[2] and not alive(entry[2]) then ids[#ids + 1] = entry[1] end
end
if #ids == 0 then return {} end
return redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], unpack(ids))`;

/**
 * Forgets the consumers that lapsed replicas left in the module's group (every restart or crash
 * leaves one, named by its process): those holding no call, idle for at least `min idle` ms, and
 * neither serving nor draining. One that was only paused makes itself again on its next read.
 * KEYS: requests stream, hosts set, draining set. ARGV: group, this replica, min idle ms.
 * Returns how many were forgotten.
 */
export const FORGET_LAPSED_CONSUMERS_SCRIPT = `${NOW}
${ALIVE}
local forgotten = 0
for _, fields in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for index = 1, #fields, 2 do info[fields[index]] = fields[index + 1] end
  local name = info['name']
  if name ~= ARGV[2] and tonumber(info['pending']) == 0 and tonumber(info['idle']) >= tonumber(ARGV[3]) and not alive(name) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], name)
    forgotten = forgotten + 1
  end
end
return forgotten`;

/**
 * Renews this replica's presence until now + ttl, in each module's hosts set (ARGV mode
 * `serve`: new calls may come to it) or draining set (`drain`: it finishes what it took, takes
 * nothing new), removing it from the other; `gone` removes it from both. Forgets replicas whose
 * presence lapsed. KEYS: pairs of (hosts set, draining set). ARGV: replica, ttl ms, mode.
 * Only a later run forgets, so each set also expires a ttl after its latest lapse: a lapsed
 * replica counts as absent anyway, and the sets of replicas that all died (none withdrew, none
 * renews) do not stay in Redis for ever.
 */
export const ANNOUNCE_SCRIPT = `${NOW}
for index = 1, #KEYS, 2 do
  local hosts, draining = KEYS[index], KEYS[index + 1]
  redis.call('ZREMRANGEBYSCORE', hosts, '-inf', '(' .. now)
  redis.call('ZREMRANGEBYSCORE', draining, '-inf', '(' .. now)
  redis.call('ZREM', hosts, ARGV[1])
  redis.call('ZREM', draining, ARGV[1])
  if ARGV[3] == 'serve' then redis.call('ZADD', hosts, now + tonumber(ARGV[2]), ARGV[1]) end
  if ARGV[3] == 'drain' then redis.call('ZADD', draining, now + tonumber(ARGV[2]), ARGV[1]) end
  for _, key in ipairs({hosts, draining}) do
    local latest = redis.call('ZREVRANGE', key, 0, 0, 'WITHSCORES')[2]
    if latest then redis.call('PEXPIRE', key, math.floor(tonumber(latest) + tonumber(ARGV[2]) - now)) end
  end
end
return now`;

/** Creates the module's group on its request stream (from its start), if missing. KEYS: stream. ARGV: group. */
export const CREATE_CALL_GROUP_SCRIPT = `
local ok = redis.pcall('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM')
if type(ok) == 'table' and ok.err and not string.find(ok.err, 'BUSYGROUP') then return redis.error_reply(ok.err) end
return 1`;
