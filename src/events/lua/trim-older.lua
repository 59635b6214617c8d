-- Retention: removes index entries (and, with a hash key, their entries) older than the cutoff,
-- at most ARGV[2] per call so Redis is never blocked for long.
-- KEYS: zset, hash ('' key allowed: only when ARGV[3] == '1')  ARGV: cutoff ms, max, with hash
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
if #ids == 0 then return 0 end
redis.call('ZREM', KEYS[1], unpack(ids))
if ARGV[3] == '1' then redis.call('HDEL', KEYS[2], unpack(ids)) end
return #ids
