-- An owner is alive: its heartbeat, on the Redis clock. KEYS: owners  ARGV: owner.  Returns the time.
local now = redis_now_ms()
redis.call('ZADD', KEYS[1], now, ARGV[1])
return now
