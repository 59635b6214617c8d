-- hw-page: one page of X's live bindings in SubsId order (Huawei AXE v2 cursor query). Read-only.
-- ARGV: pool, after (sequence; 0 = from the start), limit
-- -> {'OK', total live, more (0|1), seq, record, seq, record, …} | {'NOPOOL'}
local m = redis.call('HMGET', META, 'p')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
local t = now()
local after, limit = tonumber(ARGV[2]), tonumber(ARGV[3])
-- an X holds at most ~10 000 AXE bindings (4-digit extensions), so sorting them here is bounded
local ids = redis.call('ZRANGEBYSCORE', EXPS, '(' .. t, '+inf')
local seqs = {}
for _, id in ipairs(ids) do
  local n = tonumber(id)
  if n > after then seqs[#seqs + 1] = n end
end
table.sort(seqs)
local out = {'OK', #ids, (#seqs > limit) and 1 or 0}
for i = 1, math.min(limit, #seqs) do
  local s = tostring(seqs[i])
  out[#out + 1] = s
  out[#out + 1] = redis.call('HGET', RECS, s)
end
return out
