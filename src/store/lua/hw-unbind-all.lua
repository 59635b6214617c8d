-- hw-unbind-all: removes every live binding on X of one mode (Huawei AXB unbind by relationNum alone).
-- ARGV: pool, mode -> {'OK', removed} | {'NOPOOL'}
-- Bounded by X's capacity (AXB: 5,000 pairs per X), so one script call is short.
local m = redis.call('HMGET', META, 'p', 'm')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
if m[2] ~= ARGV[2] then return {'OK', 0} end
local t = now()
local removed = 0
for _, id in ipairs(redis.call('ZRANGE', EXPS, 0, -1)) do
  local f = rec(id)
  if live(f, t) then removed = removed + 1 end
  purge(id, f)
end
return {'OK', removed}
