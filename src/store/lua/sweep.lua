-- sweep: reclaims up to `limit` expired bindings of one X (bounded work per call) and returns
-- the X's next expiry so the caller can move its due-index entry.
-- ARGV: limit -> {removed, nextExpiry | -1}
local t = now()
local due = redis.call('ZRANGEBYSCORE', EXPS, '-inf', t, 'LIMIT', 0, tonumber(ARGV[1]))
for _, s in ipairs(due) do purge(s, rec(s)) end
local nx = redis.call('ZRANGE', EXPS, 0, 0, 'WITHSCORES')
if nx[1] then
  redis.call('HSET', META, 'd', nx[2])
  return {#due, tonumber(nx[2])}
end
-- nothing left: drop leftover index entries (possible only after a crash mid-update) and the hint
redis.call('UNLINK', NUMS, RECS)
if redis.call('EXISTS', META) == 1 then redis.call('HDEL', META, 'd', 'm') end
return {#due, -1}
