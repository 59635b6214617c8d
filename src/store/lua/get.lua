-- get: a live binding by its sequence. Read-only.
-- ARGV: pool, seq -> {'OK', record} | {'NOPOOL'} | {'NOSUBS'}
local m = redis.call('HMGET', META, 'p')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
local f, raw = rec(ARGV[2])
if not live(f, now()) then return {'NOSUBS'} end
return {'OK', raw}
