-- hw-callback: records the caller who reached an AXE binding's A through X as A's last caller
-- (Huawei's callback record, HUAWEI.md §3.3), read by lookup.lua when A calls X. Written after the
-- call was routed, not for a request: unguarded. One per binding (the latest replaces it); gone with
-- the binding (lib.lua purge). ARGV: pool, seq, caller, lifetime s (0: as long as the binding)
-- -> {'OK'} | {'NOSUBS'}
local m = redis.call('HMGET', META, 'p')
if m[1] ~= ARGV[1] then return {'NOSUBS'} end
local t = now()
local f = rec(ARGV[2])
if not live(f, t) or f[1] ~= 'AXE' then return {'NOSUBS'} end
local secs = tonumber(ARGV[4])
redis.call('HSET', NUMS, '@' .. ARGV[2], ARGV[3] .. SEP .. ((secs > 0) and (t + secs) or 0))
return {'OK'}
