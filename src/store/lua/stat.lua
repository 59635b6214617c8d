-- stat: an X's owner and live binding count (getPool). Read-only.
-- -> {pool | '', city | '', live}
local m = redis.call('HMGET', META, 'p', 'c')
return {m[1] or '', m[2] or '', live_count(now())}
