-- claim: addNumbers for one X. ARGV: pool, city, areaCode ('' = none given)
-- -> {'ADDED', previousInventoryCity | ''} | {'EXISTING', city, areaCode | ''} | {'CONFLICT', otherPool}
local m = redis.call('HMGET', META, 'p', 'c')
local ac = ARGV[3] or ''
if m[1] == ARGV[1] then
  -- adding a number again may give it an area code; the city stays
  if ac ~= '' then redis.call('HSET', META, 'ac', ac) end
  return {'EXISTING', m[2] or '', redis.call('HGET', META, 'ac') or ''}
end
if m[1] then return {'CONFLICT', m[1]} end
redis.call('HSET', META, 'p', ARGV[1], 'c', ARGV[2])
if ac ~= '' then redis.call('HSET', META, 'ac', ac) else redis.call('HDEL', META, 'ac') end
return {'ADDED', m[2] or ''}
