-- Delivered: drop the entries from the group's pending list and from the stream.
-- KEYS: stream  ARGV: group, entry id...  Returns how many were still pending.
local ids = {}
for i = 2, #ARGV do ids[#ids + 1] = ARGV[i] end
local n = redis.call('XACK', KEYS[1], ARGV[1], unpack(ids))
redis.call('XDEL', KEYS[1], unpack(ids))
return n
