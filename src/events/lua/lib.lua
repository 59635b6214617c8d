-- Shared by every events script (prepended by events/scripts.ts). Each script is one atomic step
-- on the `{events}` slot, so several xline instances never interleave half-done writes.

-- Heartbeats and the reaper's guard use the Redis server's clock, so instances whose clocks
-- disagree never see a live peer as silent.
local function redis_now_ms()
  local tm = redis.call('TIME')
  return tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000)
end

-- Deliveries to other targets produced with an event or CDR (events/delivery.ts): ARGV from
-- `first` on, four per delivery (id, type, target, body), queued whatever the webhook's queue flag.
local function queue_deliveries(stream, t, first)
  for i = first, #ARGV, 4 do
    redis.call('XADD', stream, '*', 'id', ARGV[i], 'type', ARGV[i + 1], 'body', ARGV[i + 3], 't', t, 'n', '0', 'to', ARGV[i + 2])
  end
end

-- A reaper's write goes through only while the call's owner is still silent past the grace (its
-- heartbeat is older, and not removed) and the call is still that owner's: a slow owner that
-- heartbeats again, or another reaper that already closed the call, refuses it (true).
-- grace '' = not a reaper's write: never refused.
local function reap_refused(owners_key, call_key, owner, grace)
  if grace == '' then return false end
  local seen = redis.call('ZSCORE', owners_key, owner)
  if not seen or tonumber(seen) > redis_now_ms() - tonumber(grace) then return true end
  if redis.call('HGET', call_key, 'owner') ~= owner then return true end
  return false
end
