-- Failed attempt: schedule the retry, or dead-letter when the schedule is exhausted. Settles the
-- entry only if it is still pending, so an entry two consumers held is never scheduled twice.
-- KEYS: stream, retry due, retry entries, dead at, dead entries
-- ARGV: group, entry id, event id, entry JSON, due ms ('-1' = dead-letter), now ms
-- Returns 0 (already settled), 1 (retry scheduled), 2 (dead-lettered).
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
