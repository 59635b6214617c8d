-- Shared prelude, prepended to every per-X script (scripts.ts). KEYS of every per-X script:
--   KEYS[1] x:{X} meta hash, KEYS[2] b:{X} records, KEYS[3] n:{X} number index, KEYS[4] z:{X} expiries.
-- The number index also holds AXE callback records: '@' .. seq → last caller US expiry (hw-callback.lua).
-- A binding is live while TIME < expiresAt (second precision): it stops routing at its expiry second.
local META, RECS, NUMS, EXPS = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local SEP = '\31'

local function now()
  return tonumber(redis.call('TIME')[1])
end

local function split(s)
  local t, i = {}, 1
  for f in string.gmatch(s .. SEP, '([^\31]*)\31') do
    t[i] = f
    i = i + 1
  end
  return t
end

local function join(f)
  local n = #f
  while n > 0 and (f[n] == nil or f[n] == '') do n = n - 1 end
  local out = {}
  for i = 1, n do out[i] = f[i] or '' end
  return table.concat(out, SEP)
end

-- the fields of binding `seq`, or nil
local function rec(seq)
  local r = redis.call('HGET', RECS, seq)
  if r then return split(r), r end
  return nil
end

local function live(f, t)
  return f ~= nil and tonumber(f[5]) > t
end

-- A and expiresAt of a raw record without splitting it all (lookup's hot path)
local HEAD = '^[^\31]*\31([^\31]*)\31[^\31]*\31[^\31]*\31([^\31]*)'
local function head(raw)
  local a, exp = string.match(raw, HEAD)
  return a, tonumber(exp)
end

local function live_count(t)
  return redis.call('ZCOUNT', EXPS, '(' .. t, '+inf')
end

-- removes an index entry only if it still points at seq
local function unindex(field, seq)
  if field ~= '' and redis.call('HGET', NUMS, field) == seq then redis.call('HDEL', NUMS, field) end
end

-- removes binding seq and every index entry pointing at it
local function purge(seq, f)
  if f then
    unindex(f[2], seq)
    if f[1] == 'AXB' then unindex(f[3], seq) end
    if f[4] ~= '' then
      unindex('#' .. f[4], seq)
      redis.call('HDEL', NUMS, '@' .. seq)
    end
  end
  redis.call('HDEL', RECS, seq)
  redis.call('ZREM', EXPS, seq)
end

-- the live binding an index entry points at: seq, its A, raw record (nil when absent or expired)
local function live_at(field, t)
  local s = redis.call('HGET', NUMS, field)
  if not s then return nil end
  local raw = redis.call('HGET', RECS, s)
  if not raw then return nil end
  local a, exp = head(raw)
  if exp > t then return s, a, raw end
  return nil
end

-- true when an index entry holding seq `s` (or nothing) leaves its field free for a new binding;
-- an expired holder is purged on the way
local function free(s, t, except)
  if not s or s == except then return true end
  local f = rec(s)
  if live(f, t) then return false end
  purge(s, f)
  return true
end

local function claim(field, t, except)
  return free(redis.call('HGET', NUMS, field), t, except)
end

-- the one live binding of an exclusive X (AXN, AX): seq, raw
local function sole_live(t)
  local r = redis.call('ZRANGEBYSCORE', EXPS, '(' .. t, '+inf', 'LIMIT', 0, 1)
  if r[1] then return r[1], redis.call('HGET', RECS, r[1]) end
  return nil
end
