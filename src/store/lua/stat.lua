-- stat: an X's owner, live binding count and due hint (getPool, reconcile). Read-only.
-- -> {pool | '', city | '', live, due hint | ''}
local m = redis.call('HMGET', META, 'p', 'c', 'd')
return {m[1] or '', m[2] or '', live_count(now()), m[3] or ''}
