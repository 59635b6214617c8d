-- find: QuerySubsId, the live binding on X where `number` is A or B. Read-only.
-- ARGV: pool, number ('' = X's only live binding) -> {'OK', seq} | {'NOPOOL'} | {'NOSUBS'}
local number = ARGV[2]
local m = redis.call('HMGET', META, 'p', 'm')
if m[1] ~= ARGV[1] then return {'NOPOOL'} end
local t = now()
if number == '' then
  -- no number given (Alibaba QuerySubsId sends only PhoneNoX): X's binding when it has one alone
  local ids = redis.call('ZRANGEBYSCORE', EXPS, '(' .. t, '+inf', 'LIMIT', 0, 2)
  if #ids == 1 then return {'OK', ids[1]} end
  return {'NOSUBS'}
end
local s = live_at(number, t)
if s then return {'OK', s} end
if m[2] == 'AXN' or m[2] == 'AX' or m[2] == 'AXE' then
  -- the default B of AXN / AXE bindings is not indexed (not unique): look through the live ones
  local ids = redis.call('ZRANGEBYSCORE', EXPS, '(' .. t, '+inf', 'LIMIT', 0, 1000)
  for _, id in ipairs(ids) do
    local f = rec(id)
    if f and (f[2] == number or f[3] == number) then return {'OK', id} end
  end
end
return {'NOSUBS'}
