-- release: back to inventory, refused while X has live bindings. ARGV: pool
-- -> {'OK', city} | {'NOPOOL'} | {'BUSY'}
local m = redis.call('HMGET', META, 'p', 'c')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
if live_count(now()) > 0 then return {'BUSY'} end
redis.call('HDEL', META, 'p', 'm', 'd')
-- expired bindings not swept yet go now (UNLINK frees big values off the main thread)
redis.call('UNLINK', RECS, NUMS, EXPS)
return {'OK', m[2] or ''}
