-- due-cas: moves X's entry in one due-index shard from `old` score to `new` (-1 = remove) only if
-- nobody lowered it meanwhile (a concurrent bind's ZADD LT wins). KEYS[1] due:{N}; ARGV: x, old, new
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not cur or tonumber(cur) ~= tonumber(ARGV[2]) then return 0 end
if tonumber(ARGV[3]) < 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
end
return 1
