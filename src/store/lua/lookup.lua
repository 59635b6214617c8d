-- lookup: the SIP question "caller C dialled X (extension E)?" in one round trip. Read-only.
-- ARGV[1]: caller, or caller US extension
-- -> {'none'} | {'stranger'} | {'need-extension', pool, longest extension or ''} | {'match', role, seq, record, pool, now[, callback]}
-- (now: Redis's clock, against which the route judges the record's own timers, e.g. AX's temporary callee;
-- callback: AXE, the caller is A: its binding's callback record, last caller US expiry, from hw-callback.lua)
local caller, ext = string.match(ARGV[1], '^([^\31]*)\31?(.*)$')
local m = redis.call('HMGET', META, 'p', 'm', 'xl')
local pool, mode = m[1], m[2]
if not pool or not mode then return {'none'} end
local t = now()
if mode == 'AXB' then
  local s, a, raw = live_at(caller, t)
  if s then return {'match', (a == caller) and 'A' or 'B', s, raw, pool, t} end
  if live_count(t) > 0 then return {'stranger'} end
  return {'none'}
elseif mode == 'AXE' then
  local s, _, raw = live_at(caller, t)
  if s then return {'match', 'A', s, raw, pool, t, redis.call('HGET', NUMS, '@' .. s) or ''} end
  if ext ~= '' then
    s, _, raw = live_at('#' .. ext, t)
    if s then return {'match', 'N', s, raw, pool, t} end
    return {'none'}
  end
  if live_count(t) > 0 then return {'need-extension', pool, m[3] or ''} end
  return {'none'}
else
  local s, raw = sole_live(t)
  if not s then return {'none'} end
  local a = head(raw)
  return {'match', (a == caller) and 'A' or 'N', s, raw, pool, t}
end
