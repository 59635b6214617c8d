-- pool: a pool's settings in one step (PUT /v1/pools), under the write guard.
-- KEYS[1] pool:{…} hash; ARGV: name, strict ('1' | '0'), ring JSON ('' = none) -> {'OK'}
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'strict', ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[1], 'ring', ARGV[3])
else
  redis.call('HDEL', KEYS[1], 'ring')
end
return {'OK'}
