-- Moves retries that are due back onto the stream (at most ARGV[2] per call).
-- KEYS: stream, retry due, retry entries  ARGV: now ms, max.  Returns how many moved.
local ids = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local j = redis.call('HGET', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
  redis.call('HDEL', KEYS[3], id)
  if j then
    local e = cjson.decode(j)
    redis.call('XADD', KEYS[1], '*', 'id', e.id, 'type', e.type, 'body', e.body, 't', e.t, 'n', e.n, 'to', e.to or '')
  end
end
return #ids
