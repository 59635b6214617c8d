-- One call event. Idempotent on (call_id, type): a second produce of the same event — a retry
-- after a timeout whose first write did land — writes nothing and returns 0. The first event of a
-- call records its owner (the producing pipeline's run) and puts the call in the owner's index;
-- every state event records its time (t:<type>), so a reaper can rebuild the CDR.
-- KEYS: stream, call hash, cdr hash, live set of the binding, owned set of the owner, owners zset
-- ARGV: event id, type, body, now ms, live ttl ms, new state ('' = unchanged), sub_id, call_id,
--       queue ('1' when a webhook is configured), info JSON, owner ('' = none), event time ms,
--       reap grace ms ('' = not a reaper's write), deliveries to send if the call is reaped (JSON,
--       '' = none: kept in the call hash as hwlost), then deliveries to other targets (lib.lua)
-- Returns 1 written, 0 already there, -1 refused by the reap guard.
local marker = 'ev:' .. ARGV[2]
if reap_refused(KEYS[6], KEYS[2], ARGV[11], ARGV[13]) then return -1 end
if redis.call('EXISTS', KEYS[3]) == 1 then
  -- the call is over (a recording-ready event arrives after the CDR): mark on the CDR
  if redis.call('HSETNX', KEYS[3], marker, '1') == 0 then return 0 end
else
  if redis.call('HSETNX', KEYS[2], marker, '1') == 0 then return 0 end
  if ARGV[11] ~= '' and redis.call('HSETNX', KEYS[2], 'owner', ARGV[11]) == 1 then
    redis.call('SADD', KEYS[5], ARGV[8])
    redis.call('PEXPIRE', KEYS[5], ARGV[5])
  end
  if ARGV[6] ~= '' then
    redis.call('HSET', KEYS[2], 'state', ARGV[6], 'since', ARGV[4], 'info', ARGV[10], 't:' .. ARGV[2], ARGV[12])
  end
  if ARGV[14] ~= '' then redis.call('HSET', KEYS[2], 'hwlost', ARGV[14]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[5])
  if ARGV[7] ~= '' then
    redis.call('SADD', KEYS[4], ARGV[8])
    redis.call('PEXPIRE', KEYS[4], ARGV[5])
  end
end
if ARGV[9] == '1' then
  redis.call('XADD', KEYS[1], '*', 'id', ARGV[1], 'type', ARGV[2], 'body', ARGV[3], 't', ARGV[4], 'n', '0')
end
queue_deliveries(KEYS[1], ARGV[4], 15)
return 1
