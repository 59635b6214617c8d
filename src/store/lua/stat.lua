-- stat: an X's owner, live binding count, due hint and area code (getPool, reconcile). Read-only.
-- -> {pool | '', city | '', live, due hint | '', areaCode | ''}
local m = redis.call('HMGET', META, 'p', 'c', 'd', 'ac')
return {m[1] or '', m[2] or '', live_count(now()), m[3] or '', m[4] or ''}
