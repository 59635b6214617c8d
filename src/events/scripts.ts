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

/**
 * One call event. Idempotent on (call_id, type): a second produce of the same event — a retry
 * after a timeout whose first write did land — writes nothing and returns 0.
 * KEYS: stream, call hash, cdr hash, live set of the binding
 * ARGV: event id, type, body, now ms, live ttl ms, new state ('' = unchanged), sub_id, call_id,
 *       queue ('1' when a webhook is configured), info JSON
 */
export const PRODUCE_EVENT = script(`
local marker = 'ev:' .. ARGV[2]
if redis.call('EXISTS', KEYS[3]) == 1 then
  -- the call is over (a recording-ready event arrives after the CDR): mark on the CDR
  if redis.call('HSETNX', KEYS[3], marker, '1') == 0 then return 0 end
else
  if redis.call('HSETNX', KEYS[2], marker, '1') == 0 then return 0 end
  if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[2], 'state', ARGV[6], 'since', ARGV[4], 'info', ARGV[10])
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
 * The CDR: stored, indexed, the live call state cleared and the receipt queued, in one step.
 * Idempotent on call_id (one CDR per call).
 * KEYS: stream, call hash, cdr hash, live set, time index, sub index
 * ARGV: event id, body, now ms, retention ms, call_id, record JSON, sub_id, queue, cutoff ms
 */
export const PRODUCE_CDR = script(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('HSET', KEYS[3], 'r', ARGV[6], 't', ARGV[3])
-- keep the call's event markers so a late duplicate event is still recognised
local f = redis.call('HGETALL', KEYS[2])
for i = 1, #f, 2 do
  if string.sub(f[i], 1, 3) == 'ev:' then redis.call('HSET', KEYS[3], f[i], '1') end
end
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
 * KEYS: stream, dead at, dead entries  ARGV: max, id... (no ids: the oldest `max`).
 * Returns the ids re-queued.
 */
export const RESEND_DEAD = script(`
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
