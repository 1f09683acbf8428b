-- Failed logins by host: which client addresses fail to log in, how often, and against how many user names
-- (many names from one host is password spraying or user enumeration).
-- @param since time = '1 day' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT server, client_addr, count(*) AS failures, count(DISTINCT user_name) AS user_names,
       list(DISTINCT user_name ORDER BY user_name) AS users, min(logged_at) AS first_failure, max(logged_at) AS last_failure
FROM auth_failures
WHERE logged_at >= CAST($since AS TIMESTAMPTZ) AND ($server IS NULL OR server = $server)
GROUP BY server, client_addr
ORDER BY failures DESC, server, client_addr;
