// Lua scripts of the events module. Each one is a single atomic step on the `{events}` slot, so
// several xline instances never interleave half-done writes (produce, ack, retry, dead-letter).
import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

export type RedisLike = Redis | Cluster;

export interface LuaScript {
  lua: string;
  sha: string;
}

const script = (lua: string): LuaScript => ({ lua, sha: createHash('sha1').update(lua).digest('hex') });

/** EVALSHA, loading the script on NOSCRIPT (a restarted or failed-over Redis forgets scripts). */
export async function runScript(redis: RedisLike, s: LuaScript, keys: string[], args: Array<string | number>): Promise<unknown> {
  try {
    return await redis.evalsha(s.sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
      return redis.eval(s.lua, keys.length, ...keys, ...args);
    }
    throw err;
  }
}

// Heartbeats and the reaper's guard use the Redis server's clock, so instances whose clocks
// disagree never see a live peer as silent.
const REDIS_NOW_MS = `local tm = redis.call('TIME')
local redis_now = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)`;

/**
 * A reaper's write goes through only while the call's owner is still silent past the grace (its
 * heartbeat is older, and not removed) and the call is still that owner's: a slow owner that
 * heartbeats again, or another reaper that already closed the call, stops it (returns -1).
 * Needs: KEYS[OWNERS], KEYS[CALL]; ARGV[OWNER], ARGV[GRACE] ('' = not a reaper's write).
 */
const reapGuard = (owners: string, call: string, owner: string, grace: string) => `
if ${grace} ~= '' then
  ${REDIS_NOW_MS}
  local seen = redis.call('ZSCORE', ${owners}, ${owner})
  if not seen or tonumber(seen) > redis_now - tonumber(${grace}) then return -1 end
  if redis.call('HGET', ${call}, 'owner') ~= ${owner} then return -1 end
end`;

/**
 * One call event. Idempotent on (call_id, type): a second produce of the same event — a retry
 * after a timeout whose first write did land — writes nothing and returns 0. The first event of a
 * call records its owner (the producing pipeline's run) and puts the call in the owner's index;
 * every state event records its time (t:<type>), so a reaper can rebuild the CDR.
 * KEYS: stream, call hash, cdr hash, live set of the binding, owned set of the owner, owners zset
 * ARGV: event id, type, body, now ms, live ttl ms, new state ('' = unchanged), sub_id, call_id,
 *       queue ('1' when a webhook is configured), info JSON, owner ('' = none), event time ms,
 *       reap grace ms ('' = not a reaper's write)
 * Returns 1 written, 0 already there, -1 refused by the reap guard.
 */
export const PRODUCE_EVENT = script(`
local marker = 'ev:' .. ARGV[2]
${reapGuard('KEYS[6]', 'KEYS[2]', 'ARGV[11]', 'ARGV[13]')}
if redis.call('EXISTS', KEYS[3]) == 1 then
  -- the call is over (a recording-ready event arrives after the CDR): mark on the CDR
  if redis.call('HSETNX', KEYS[3], marker, '1') == 0 then return 0 end
else
  if redis.call('HSETNX', KEYS[2], marker, '1') == 0 then return 0 end
  if ARGV[11] ~= '' and redis.call('HSETNX', KEYS[2], 'owner', ARGV[11]) == 1 then
    redis.call('SADD', KEYS[5], ARGV[8])
    redis.call('PEXPIRE', KEYS[5], ARGV[5])
  end
  if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[2], 'state', ARGV[6], 'since', ARGV[4], 'info', ARGV[10], 't:' .. ARGV[2], ARGV[12])
  end
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  if ARGV[7] ~= '' then
    redis.call('SADD', KEYS[4], ARGV[8])
    redis.call('PEXPIRE', KEYS[4], ARGV[5])
  end
end
if ARGV[9] == '1' then
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'type', ARGV[2], 'body', ARGV[3], 't', ARGV[4], 'n', '0')
end
return 1
`);

/**
 * The CDR: stored, indexed, the live call state cleared (and the call out of its owner's index)
 * and the receipt queued, in one step. Idempotent on call_id (one CDR per call).
 * KEYS: stream, call hash, cdr hash, live set, time index, sub index, owned set of the writer,
 *       owners zset
 * ARGV: event id, body, now ms, retention ms, call_id, record JSON, sub_id, queue, cutoff ms,
 *       writer ('' = none; for a reaper: the dead owner), reap grace ms ('' = not a reaper's write)
 * Returns 1 written, 0 already there, -1 refused by the reap guard.
 */
export const PRODUCE_CDR = script(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
${reapGuard('KEYS[8]', 'KEYS[2]', 'ARGV[10]', 'ARGV[11]')}
redis.call('HSET', KEYS[3], 'r', ARGV[6], 't', ARGV[3])
-- keep the call's event markers so a late duplicate event is still recognised
local f = redis.call('HGETALL', KEYS[2])
local owner = false
for i = 1, #f, 2 do
  if string.sub(f[i], 1, 3) == 'ev:' then redis.call('HSET', KEYS[3], f[i], '1') end
  if f[i] == 'owner' then owner = f[i + 1] end
end
-- a call owned by another run (a spooled CDR replayed after a restart) leaves that run's index
-- to the reaper, which drops entries whose call is gone
if owner and owner == ARGV[10] then redis.call('SREM', KEYS[7], ARGV[5]) end
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('ZADD', KEYS[5], ARGV[3], ARGV[5])
if ARGV[7] ~= '' then
  redis.call('ZADD', KEYS[6], ARGV[3], ARGV[5])
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[9])
  redis.call('PEXPIRE', KEYS[6], ARGV[4])
  redis.call('SREM', KEYS[4], ARGV[5])
end
redis.call('DEL', KEYS[2])
if ARGV[8] == '1' then
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'type', 'cdr', 'body', ARGV[2], 't', ARGV[3], 'n', '0')
end
return 1
`);

/**
 * An owner is alive: its heartbeat, on the Redis clock. KEYS: owners  ARGV: owner.  Returns the time.
 */
export const HEARTBEAT = script(`
${REDIS_NOW_MS}
redis.call('ZADD', KEYS[1], redis_now, ARGV[1])
return redis_now
`);

/**
 * Owners silent for longer than the grace, oldest first, at most ARGV[2].
 * KEYS: owners  ARGV: grace ms, max.  Returns [owner, last seen ms, ...].
 */
export const SILENT_OWNERS = script(`
${REDIS_NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (redis_now - tonumber(ARGV[1])), 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
`);

/**
 * An owner leaves: its heartbeat and (empty) index go, but only when it holds no call any more —
 * with ARGV[2] (grace ms) only while it is still silent past the grace (a reaper forgetting a
 * dead owner; a slow one that came back stays). KEYS: owners, owned set  ARGV: owner, grace ('' = leaving itself)
 * Returns 1 removed, 0 kept (calls left, or no longer silent).
 */
export const FORGET_OWNER = script(`
if ARGV[2] ~= '' then
  ${REDIS_NOW_MS}
  local seen = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if seen and tonumber(seen) > redis_now - tonumber(ARGV[2]) then return 0 end
end
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
`);

/**
 * Delivered: drop the entries from the group's pending list and from the stream.
 * KEYS: stream  ARGV: group, entry id...  Returns how many were still pending.
 */
export const ACK_DELIVERED = script(`
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
return n
`);

/**
 * Failed attempt: schedule the retry, or dead-letter when the schedule is exhausted. Settles the
 * entry only if it is still pending, so an entry two consumers held is never scheduled twice.
 * KEYS: stream, retry due, retry entries, dead at, dead entries
 * ARGV: group, entry id, event id, entry JSON, due ms ('-1' = dead-letter), now ms
 * Returns 0 (already settled), 1 (retry scheduled), 2 (dead-lettered).
 */
export const SETTLE_FAILED = script(`
local n = redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
redis.call('XDEL', KEYS[1], ARGV[2])
if n == 0 then return 0 end
if ARGV[5] ~= '-1' then
  redis.call('HSET', KEYS[3], ARGV[3], ARGV[4])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[3])
  return 1
end
redis.call('HSET', KEYS[5], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[3])
return 2
`);

/**
 * Moves retries that are due back onto the stream (at most ARGV[2] per call).
 * KEYS: stream, retry due, retry entries  ARGV: now ms, max.  Returns how many moved.
 */
export const MOVE_DUE_RETRIES = script(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local j = redis.call('HGET', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  if j then
    local e = cjson.decode(j)
    redis.call('XADD', KEYS[1], '*', 'id', e.id, 'type', e.type, 'body', e.body, 't', e.t, 'n', e.n)
  end
end
return #ids
`);

/**
 * Re-sends dead letters: back onto the stream with a fresh retry schedule.
 * KEYS: stream, dead at, dead entries  ARGV: write by (epoch ms, '' = no deadline), max, id...
 * (no ids: the oldest `max`). Returns the ids re-queued; {'LATE'}, having done nothing, when Redis
 * runs it after the ops request's deadline (store/deadline.ts: that request answered 503).
 */
export const RESEND_DEAD = script(`
if ARGV[1] ~= '' then
  ${REDIS_NOW_MS}
  if redis_now > tonumber(ARGV[1]) then return {'LATE'} end
end
table.remove(ARGV, 1)
local ids = {}
if #ARGV > 1 then
  for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
else
  ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1)
end
local done = {}
for _, id in ipairs(ids) do
  local j = redis.call('HGET', KEYS[3], id)
  if j then
    local e = cjson.decode(j)
    redis.call('HDEL', KEYS[3], id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('XADD', KEYS[1], '*', 'id', e.id, 'type', e.type, 'body', e.body, 't', e.t, 'n', '0')
    done[#done + 1] = id
  end
end
return done
`);

/**
 * Retention: removes index entries (and, with a hash key, their entries) older than the cutoff,
 * at most ARGV[2] per call so Redis is never blocked for long.
 * KEYS: zset, hash ('' key allowed: only when ARGV[3] == '1')  ARGV: cutoff ms, max, with hash
 */
export const TRIM_OLDER = script(`
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(ids))
if ARGV[3] == '1' then redis.call('HDEL', KEYS[2], unpack(ids)) end
return #ids
`);
