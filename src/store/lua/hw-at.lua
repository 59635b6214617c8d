-- hw-at: the live binding an index entry of X names: a number (its A, or B in AXB) or '#' ..
-- extension (AXE). Read-only. ARGV: pool, field -> {'OK', seq, record} | {'NOPOOL'} | {'NOSUBS'}
local m = redis.call('HMGET', META, 'p')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
local s, _, raw = live_at(ARGV[2], now())
if s then return {'OK', s, raw} end
return {'NOSUBS'}
