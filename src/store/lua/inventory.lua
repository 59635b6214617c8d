-- inventory: addInventory for one X. ARGV: city
-- -> {'ADDED'} | {'EXISTING', city} | {'CONFLICT', pool}
local m = redis.call('HMGET', META, 'p', 'c')
if m[1] then return {'CONFLICT', m[1]} end
if m[2] then return {'EXISTING', m[2]} end
redis.call('HSET', META, 'c', ARGV[1])
return {'ADDED'}
