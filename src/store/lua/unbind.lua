-- unbind: removes a live binding and its index entries.
-- ARGV: pool, seq -> {'OK', record} | {'NOPOOL'} | {'NOSUBS'}
local seq = ARGV[2]
local m = redis.call('HMGET', META, 'p')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
local f, raw = rec(seq)
if not f then return {'NOSUBS'} end
local t = now()
purge(seq, f)
if not live(f, t) then return {'NOSUBS'} end
return {'OK', raw}
