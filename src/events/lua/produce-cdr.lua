-- The CDR: stored, indexed, the live call state cleared (and the call out of its owner's index)
-- and the receipt queued, in one step. Idempotent on call_id (one CDR per call).
-- KEYS: stream, call hash, cdr hash, live set, time index, sub index, owned set of the writer,
--       owners zset, recording index entry of the call's recording file (written only with ARGV[12])
-- ARGV: event id, body, now ms, retention ms, call_id, record JSON, sub_id, queue, cutoff ms,
--       writer ('' = none; for a reaper: the dead owner), reap grace ms ('' = not a reaper's write),
--       recording ('1' = the call has a recording file: its index entry names the call, as long as the CDR lives),
--       then deliveries to other targets (lib.lua)
-- Returns 1 written, 0 already there, -1 refused by the reap guard.
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if reap_refused(KEYS[8], KEYS[2], ARGV[10], ARGV[11]) then return -1 end
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
if ARGV[12] == '1' then redis.call('SET', KEYS[9], ARGV[5], 'PX', ARGV[4]) end
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
queue_deliveries(KEYS[1], ARGV[3], 13)
return 1
