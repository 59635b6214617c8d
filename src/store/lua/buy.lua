-- buy: moves one inventory X of `city` into a pool. ARGV: pool, city -> {'OK'} | {'STALE'}
local m = redis.call('HMGET', META, 'p', 'c')
if m[1] or m[2] ~= ARGV[2] then return {'STALE'} end
redis.call('HSET', META, 'p', ARGV[1])
return {'OK'}
