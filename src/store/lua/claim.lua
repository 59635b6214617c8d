-- claim: addNumbers for one X. ARGV: pool, city
-- -> {'ADDED', previousInventoryCity | ''} | {'EXISTING'} | {'CONFLICT', otherPool}
local m = redis.call('HMGET', META, 'p', 'c')
if m[1] == ARGV[1] then return {'EXISTING'} end
if m[1] then return {'CONFLICT', m[1]} end
redis.call('HSET', META, 'p', ARGV[1], 'c', ARGV[2])
return {'ADDED', m[2] or ''}
