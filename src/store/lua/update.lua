-- update: changes one live binding; A and B changes keep the per-X uniqueness rules.
-- ARGV: pool, seq, newA ('' keep), newB ('' keep, '-' clear default B), newExp ('' keep), then
-- pairs (field index >= 7, value) of record fields to overwrite (16, the Huawei JSON, is merged).
-- -> {'OK', record, publishDue} | {'NOPOOL'} | {'NOSUBS'} | {'EXPIRED'} | {'CONFLICT', why}
local seq, na, nb, ne = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local m = redis.call('HMGET', META, 'p', 'd')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
local t = now()
local f = rec(seq)
if not live(f, t) then return {'NOSUBS'} end
local mode = f[1]
if na == f[2] then na = '' end
if nb == f[3] then nb = '' end
local a2 = (na ~= '') and na or f[2]
local b2 = f[3]
if nb == '-' then b2 = '' elseif nb ~= '' then b2 = nb end
if mode == 'AXB' then
  if a2 == b2 or b2 == '' then return {'CONFLICT', 'same'} end
  if na ~= '' and not claim(na, t, seq) then return {'CONFLICT', 'a'} end
  if nb ~= '' and not claim(nb, t, seq) then return {'CONFLICT', 'b'} end
elseif mode == 'AXE' then
  if na ~= '' and not claim(na, t, seq) then return {'CONFLICT', 'a'} end
end
if ne ~= '' and tonumber(ne) <= t then return {'EXPIRED'} end
-- all checks passed: write
-- drop the old entries before writing the new ones (a swap of A and B stays indexed)
if na ~= '' then unindex(f[2], seq) end
if nb ~= '' and mode == 'AXB' then unindex(f[3], seq) end
if na ~= '' then redis.call('HSET', NUMS, na, seq) end
if nb ~= '' and mode == 'AXB' then redis.call('HSET', NUMS, nb, seq) end
f[2] = a2
f[3] = b2
local publish = 0
if ne ~= '' then
  f[5] = ne
  redis.call('ZADD', EXPS, ne, seq)
  local d = tonumber(m[2])
  if not d or tonumber(ne) < d then
    redis.call('HSET', META, 'd', ne)
    publish = 1
  end
end
for i = 6, #ARGV, 2 do
  local k = tonumber(ARGV[i])
  if k == 16 then
    -- Huawei fields (JSON): the patch's keys replace the stored ones, null removes one
    local cur = (f[16] and f[16] ~= '') and cjson.decode(f[16]) or {}
    for key, v in pairs(cjson.decode(ARGV[i + 1])) do
      if v == cjson.null then cur[key] = nil else cur[key] = v end
    end
    f[16] = cjson.encode(cur)
  else
    f[k] = ARGV[i + 1]
  end
end
for i = 1, 16 do if f[i] == nil then f[i] = '' end end
local raw = join(f)
redis.call('HSET', RECS, seq, raw)
return {'OK', raw, publish}
