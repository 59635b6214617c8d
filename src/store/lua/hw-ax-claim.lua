-- hw-ax-claim: reserves one of an A's places in a Huawei AX app before its bind runs (Huawei: one
-- A holds at most `limit` X, HUAWEI.md §7), under the write guard. The bind itself runs on X's
-- keys, in another slot: the place is taken first (here, on A's slot) and confirmed or given back
-- once the bind answered (huawei-modes-store.ts), like BuySecretNo's reservation.
-- KEYS[1] axl:{A}:<appKey> hash: X → '0' (A's binding on X landed), 'p:' .. token → reserved until
-- (ms, Redis clock). ARGV: token, limit, reservation ms, then X numbers the caller found without a
-- live AX binding of A in this app (their places are dropped first).
-- -> {'OK'} | {'FULL', X, X, …} (the X whose places count; nothing written unless places were dropped)
local key = KEYS[1]
for i = 4, #ARGV do
  if redis.call('HGET', key, ARGV[i]) == '0' then redis.call('HDEL', key, ARGV[i]) end
end
local tm = redis.call('TIME')
local ms = tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
local all = redis.call('HGETALL', key)
local taken, bound, lapsed = 0, {}, {}
for i = 1, #all, 2 do
  local f, v = all[i], all[i + 1]
  if v == '0' then
    taken = taken + 1
    bound[#bound + 1] = f
  elseif tonumber(v) > ms then
    taken = taken + 1
  else
    -- a reservation whose bind never reported back (its instance stopped): not counted
    lapsed[#lapsed + 1] = f
  end
end
if taken >= tonumber(ARGV[2]) then return {'FULL', unpack(bound)} end
for _, f in ipairs(lapsed) do redis.call('HDEL', key, f) end
redis.call('HSET', key, 'p:' .. ARGV[1], ms + tonumber(ARGV[3]))
return {'OK'}
