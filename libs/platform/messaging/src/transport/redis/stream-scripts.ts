// Server-side scripts: each reads a stream's and its groups' positions and acts on them in one
// atomic step, so no consumer can move between the look and the act.

/** Shared Lua helpers: flat `[k, v, …]` replies as tables, and stream id order. */
const HELPERS = `
local function fields(flat)
  local t = {}
  for i = 1, #flat, 2 do t[flat[i]] = flat[i + 1] end
  return t
end
local function split(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return ms, seq
end
-- Ids have no leading zeros: a longer number is a larger one; equal lengths compare as text.
local function cmpnum(a, b)
  if #a ~= #b then return #a < #b and -1 or 1 end
  if a ~= b then return a < b and -1 or 1 end
  return 0
end
local function cmp(a, b)
  local ams, aseq = split(a)
  local bms, bseq = split(b)
  local c = cmpnum(ams, bms)
  if c ~= 0 then return c end
  return cmpnum(aseq, bseq)
end
-- The smallest id after \`id\`; \`id\` itself when its sequence is too large for Lua's numbers
-- (the caller then keeps one entry more than it could).
local function successor(id)
  local ms, seq = split(id)
  if #seq > 15 then return id end
  return ms .. '-' .. string.format('%d', tonumber(seq) + 1)
end
`;

/**
 * Trims a stream to about `cap` entries (ARGV[1]; 0 never trims), evicting at most ARGV[2] per
 * call, but never an entry some consumer group still needs: nothing at or after the oldest entry
 * a group holds pending, nor after its last-delivered id. Without groups (broadcast only) it
 * trims to the cap. Whole radix-tree nodes only (`~`). Returns `[evicted, length, slowest group
 * or false, entries ever added]` (the last tells a stream that was lost and made again).
 */
export const TRIM_SCRIPT = `${HELPERS}
local cap = tonumber(ARGV[1])
local s = fields(redis.call('XINFO', 'STREAM', KEYS[1]))
local added = tonumber(s['entries-added'])
local length = tonumber(s['length'])
if cap == 0 or length <= cap then return {0, length, false, added} end
local bound, holder = false, false
for _, flat in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local g = fields(flat)
  local need
  if tonumber(g['pending']) > 0 then
    need = redis.call('XPENDING', KEYS[1], g['name'])[2]
  else
    need = successor(g['last-delivered-id'])
  end
  if not bound or cmp(need, bound) < 0 then bound, holder = need, g['name'] end
end
local limit = math.min(length - cap, tonumber(ARGV[2]))
local evicted
if bound then
  evicted = redis.call('XTRIM', KEYS[1], 'MINID', '~', bound, 'LIMIT', limit)
else
  evicted = redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', cap, 'LIMIT', limit)
end
return {evicted, length - evicted, holder, added}
`;

/**
 * Creates group ARGV[1] at the stream's beginning (making the stream if needed). Entries removed
 * before the group existed were never its: they are counted as read (ENTRIESREAD), so Redis's lag
 * is right and the loss audit does not report them. Returns `[created 0|1, entries removed before]`.
 */
export const CREATE_GROUP_SCRIPT = `${HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'MKSTREAM', 'ENTRIESREAD', 0)
  return {1, 0}
end
for _, flat in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  if fields(flat)['name'] == ARGV[1] then return {0, 0} end
end
local s = fields(redis.call('XINFO', 'STREAM', KEYS[1]))
local removed = tonumber(s['entries-added']) - tonumber(s['length'])
redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[1], '0', 'ENTRIESREAD', removed)
return {1, removed}
`;

/**
 * Counts entries that were removed (trimmed, deleted) after group ARGV[1]'s last-delivered id
 * before it read them, which `XREADGROUP … >` skips without a word, and settles them: the
 * group's read counter is moved past them (XGROUP SETID … ENTRIESREAD), so its lag counts only
 * entries still there and the same loss is never counted twice. Exact for a trimmed prefix;
 * for holes (XDEL) ahead of the group when at most ARGV[2] entries are unread. Returns
 * `[lost, 'ok' | 'no-stream' | 'no-group' | 'unknown']` ('unknown': Redis has no read counter
 * for the group, e.g. while it reads across deleted entries). A group at the stream's end gets its
 * read counter set to the entries ever added, which Redis 7.0 can lose on a restart.
 */
export const AUDIT_GROUP_SCRIPT = `${HELPERS}
if redis.call('EXISTS', KEYS[1]) == 0 then return {0, 'no-stream'} end
local g = false
for _, flat in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local f = fields(flat)
  if f['name'] == ARGV[1] then g = f end
end
if not g then return {0, 'no-group'} end
local s = fields(redis.call('XINFO', 'STREAM', KEYS[1]))
local added = tonumber(s['entries-added'])
local length = tonumber(s['length'])
local first = s['first-entry'] and s['first-entry'][1] or false
local last = g['last-delivered-id']
local read = g['entries-read']
if last == s['last-generated-id'] then
  -- At the stream's end the group has read every entry ever added (nothing after it was ever
  -- there to be removed). Redis 7.0 loses the read counter when it replays reads from its AOF
  -- (redis/redis#12898): set it right, so its lag is right again.
  if tostring(read) ~= tostring(added) then
    redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], last, 'ENTRIESREAD', added)
  end
  return {0, 'ok'}
end
if not read then
  if last ~= '0-0' then return {0, 'unknown'} end
  read = 0
end
read = tonumber(read)
local lost = 0
if not first or cmp(last, first) < 0 then
  -- Everything after the group's position that is gone was removed before it read it.
  lost = (added - length) - read
elseif cmp(s['max-deleted-entry-id'], last) > 0 and added - read <= tonumber(ARGV[2]) then
  lost = (added - read) - #redis.call('XRANGE', KEYS[1], '(' .. last, '+', 'COUNT', tonumber(ARGV[2]))
end
if lost > 0 then
  redis.call('XGROUP', 'SETID', KEYS[1], ARGV[1], last, 'ENTRIESREAD', read + lost)
  return {lost, 'ok'}
end
return {0, 'ok'}
`;
