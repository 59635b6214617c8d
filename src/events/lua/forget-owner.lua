-- An owner leaves: its heartbeat and (empty) index go, but only when it holds no call any more —
-- with ARGV[2] (grace ms) only while it is still silent past the grace (a reaper forgetting a
-- dead owner; a slow one that came back stays).
-- KEYS: owners, owned set  ARGV: owner, grace ('' = leaving itself)
-- Returns 1 removed, 0 kept (calls left, or no longer silent).
if ARGV[2] ~= '' then
  local seen = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if seen and tonumber(seen) > redis_now_ms() - tonumber(ARGV[2]) then return 0 end
end
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1
