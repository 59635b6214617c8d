-- Write guard (deadline.ts), run before anything is written by a script that writes for a
-- request: ARGV[1] is the last moment (epoch ms) it may write, because the request answers an
-- error soon after. Later than that by Redis's own clock, the script writes nothing and answers
-- {'LATE'}. ARGV[1] is taken off, so the script's own arguments still start at ARGV[1].
do
  local by = tonumber(table.remove(ARGV, 1))
  local tm = redis.call('TIME')
  if tonumber(tm[1]) * 1000 + math.floor(tonumber(tm[2]) / 1000) > by then return {'LATE'} end
end
