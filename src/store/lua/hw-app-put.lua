-- hw-app-put: a Huawei application's settings in one step (PUT /v1/huawei/apps), under the write guard.
-- KEYS[1] hwapp:{appKey} hash; ARGV: secret, mode, pool, statusUrl ('' none), feeUrl ('' none), now
-- -> {'OK', created (1 | 0)}
local created = redis.call('HSETNX', KEYS[1], 'ct', ARGV[6])
redis.call('HSET', KEYS[1], 's', ARGV[1], 'm', ARGV[2], 'p', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'su', ARGV[4]) else redis.call('HDEL', KEYS[1], 'su') end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'fu', ARGV[5]) else redis.call('HDEL', KEYS[1], 'fu') end
return {'OK', created}
