-- Re-sends dead letters: back onto the stream with a fresh retry schedule.
-- KEYS: stream, dead at, dead entries  ARGV: write by (epoch ms, '' = no deadline), max, id...
-- (no ids: the oldest `max`). Returns the ids re-queued; {'LATE'}, having done nothing, when Redis
-- runs it after the ops request's deadline (store/deadline.ts: that request answered 503).
if ARGV[1] ~= '' then
  if redis_now_ms() > tonumber(ARGV[1]) then return {'LATE'} end
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
    redis.call('XADD', KEYS[1], '*', 'id', e.id, 'type', e.type, 'body', e.body, 't', e.t, 'n', '0', 'to', e.to or '')
    done[#done + 1] = id
  end
end
return done
