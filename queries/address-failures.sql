-- Failed logins from one client address: which user names it tried, how often, why they failed, and whether
-- the role exists.
-- @param client_addr text : the client address, e.g. 198.51.100.23
-- @param server text = null : one server, or NULL for all
SELECT server, user_name, count(*) AS failures, list(DISTINCT reason ORDER BY reason) AS reasons,
       bool_or(role_exists) AS role_exists, min(logged_at) AS first_failure, max(logged_at) AS last_failure
FROM auth_failures
WHERE client_addr = $client_addr AND ($server IS NULL OR server = $server)
GROUP BY server, user_name
ORDER BY failures DESC, server, user_name;
