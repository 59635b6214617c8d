-- Owners silent for longer than the grace, oldest first, at most ARGV[2].
-- KEYS: owners  ARGV: grace ms, max.  Returns [owner, last seen ms, ...].
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (redis_now_ms() - tonumber(ARGV[1])), 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[2]))
