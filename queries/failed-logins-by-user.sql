-- Failed logins by user: how often each user name failed to authenticate, from how many hosts, and
-- whether the role exists (a spray against names that do not exist looks different from a guessed password).
-- @param since time = '1 day' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT server, user_name, count(*) AS failures, count(DISTINCT client_addr) AS hosts,
       min(logged_at) AS first_failure, max(logged_at) AS last_failure, bool_or(role_exists) AS role_exists
FROM auth_failures
WHERE logged_at >= CAST($since AS TIMESTAMPTZ) AND ($server IS NULL OR server = $server)
GROUP BY server, user_name
ORDER BY failures DESC, server, user_name;
