-- Password spray sources: client hosts that failed to log in as several different user names within the
-- range (one password tried against many accounts, or user enumeration), most user names first.
-- @param since time = '7 days' : start of the range
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
-- @param min_users int = 3 : at least this many different user names
SELECT server, client_addr, count(DISTINCT user_name) AS user_names, count(*) AS failures,
       list(DISTINCT user_name ORDER BY user_name) AS users, min(logged_at) AS first_failure, max(logged_at) AS last_failure
FROM auth_failures
WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ))
  AND ($server IS NULL OR server = $server)
GROUP BY server, client_addr
HAVING count(DISTINCT user_name) >= CAST($min_users AS INTEGER)
ORDER BY user_names DESC, failures DESC;
