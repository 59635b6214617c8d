-- hw-list: a page of the live bindings on X (Huawei AXB query by relationNum). Read-only.
-- ARGV: pool, mode, a ('' any), b ('' any), offset, limit
-- -> {'OK', total, seq, record, seq, record, …} | {'NOPOOL'}
-- Without a or b the page follows the expiry index (expiry, then SubsId sequence as text).
local pool, mode, a, b = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local offset, limit = tonumber(ARGV[5]), tonumber(ARGV[6])
local m = redis.call('HMGET', META, 'p', 'm')
if m[1] ~= pool then return {'NOPOOL'} end
if m[2] ~= mode then return {'OK', 0} end
local t = now()
if a == '' and b == '' then
  local out = {'OK', live_count(t)}
  local ids = redis.call('ZRANGEBYSCORE', EXPS, '(' .. t, '+inf', 'LIMIT', offset, limit)
  for _, id in ipairs(ids) do
    local raw = redis.call('HGET', RECS, id)
    if raw then
      out[#out + 1] = id
      out[#out + 1] = raw
    end
  end
  return out
end
-- A and/or B given: the one binding whose A (and B) they are
local s, _, raw = live_at(a ~= '' and a or b, t)
if not s then return {'OK', 0} end
local f = split(raw)
if (a ~= '' and f[2] ~= a) or (b ~= '' and f[3] ~= b) then return {'OK', 0} end
if offset > 0 then return {'OK', 1} end
return {'OK', 1, s, raw}
