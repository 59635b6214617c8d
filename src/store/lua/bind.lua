-- bind: every invariant of a new binding on one X, atomically.
-- ARGV[1]: pool, mode, a, b, ext ('' = allocate for AXE), expiresAt, tail (record fields 7..),
-- joined by US in one argument (each argument costs the client more than the split costs here)
-- -> {'OK', seq, ext, now, publishDue(0|1)} | {'NOPOOL'} | {'EXPIRED'} | {'CONFLICT', why}
local pool, mode, a, b, ext, exp, tail = string.match(ARGV[1], '^([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31([^\31]*)\31?(.*)$')
exp = tonumber(exp)
local m = redis.call('HMGET', META, 'p', 'm', 'd', 'xl')
if m[1] ~= pool then return {'NOPOOL'} end
local t = now()
if exp <= t then return {'EXPIRED'} end
-- one mode per X at a time; AXN and AX own their X alone (the count is skipped in the common
-- case of another AXB / AXE binding on an X already in that mode)
if m[2] ~= mode or mode == 'AXN' or mode == 'AX' then
  local n = live_count(t)
  if n > 0 and m[2] ~= mode then return {'CONFLICT', 'mode'} end
  if n > 0 then return {'CONFLICT', 'busy'} end
end
if mode == 'AXB' then
  -- a number appears at most once per X among live AXB bindings, as A or B
  local h = redis.call('HMGET', NUMS, a, b)
  if not free(h[1], t) then return {'CONFLICT', 'a'} end
  if not free(h[2], t) then return {'CONFLICT', 'b'} end
elseif mode == 'AXE' then
  if not claim(a, t) then return {'CONFLICT', 'a'} end
  if ext ~= '' then
    if not claim('#' .. ext, t) then return {'CONFLICT', 'ext'} end
  else
    -- allocate: 3 digits (100-999) from a rotating cursor, none that a live extension begins
    -- with or that begins with a live one (a caller keying "12" would wait for a third digit if
    -- "123" existed too); once those are all taken, 4 digits (1000-9999), which then necessarily
    -- begin with a 3-digit one (the prompt collects up to 4 digits; '#' ends a shorter one)
    if live_count(t) >= 9900 then return {'CONFLICT', 'ext-full'} end
    local function unambiguous(cand)
      for k = 1, math.min(#cand - 1, 2) do
        if live_at('#' .. string.sub(cand, 1, k), t) then return false end
      end
      if #cand < 4 then
        for d = 0, 9 do
          if live_at('#' .. cand .. d, t) then return false end
        end
      end
      return true
    end
    -- the cursor is written only with a binding: a refused bind leaves X as it was
    local base = (tonumber(redis.call('HGET', META, 'e')) or 0) + 1
    for _, span in ipairs({{100, 900}, {1000, 9000}}) do
      for i = 0, span[2] - 1 do
        local cand = tostring(span[1] + (base + i) % span[2])
        if claim('#' .. cand, t) and unambiguous(cand) then
          ext = cand
          -- the cursor moves past what was taken, so the next allocation does not scan it again
          redis.call('HSET', META, 'e', base + i)
          break
        end
      end
      if ext ~= '' then break end
    end
    if ext == '' then return {'CONFLICT', 'ext-full'} end
  end
  -- xl: the longest extension X has had (never lowered); the prompt stops collecting at that
  -- many digits, so a caller keying a 3-digit extension is routed on the third digit
  if #ext > (tonumber(m[4]) or 0) then redis.call('HSET', META, 'xl', #ext) end
else
  claim(a, t)
end
local seq = tostring(redis.call('HINCRBY', META, 's', 1))
local r = mode .. SEP .. a .. SEP .. b .. SEP .. ext .. SEP .. exp .. SEP .. t
if tail ~= '' then r = r .. SEP .. tail end
redis.call('HSET', RECS, seq, r)
if mode == 'AXB' then
  redis.call('HSET', NUMS, a, seq, b, seq)
elseif mode == 'AXE' then
  redis.call('HSET', NUMS, a, seq, '#' .. ext, seq)
else
  redis.call('HSET', NUMS, a, seq)
end
redis.call('ZADD', EXPS, exp, seq)
if m[2] ~= mode then redis.call('HSET', META, 'm', mode) end
-- d is a lower bound of every expiry on X that the due index already holds (or is being told)
local d = tonumber(m[3])
local publish = 0
if not d or exp < d then
  redis.call('HSET', META, 'd', exp)
  publish = 1
end
return {'OK', seq, ext, t, publish}
