-- First-time users: user names whose first session in the whole trail started within the range.
-- @param since time = '1 day' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT server, user_name, min(started_at) AS first_seen, count(*) AS sessions,
       list(DISTINCT client_addr ORDER BY client_addr) FILTER (WHERE client_addr IS NOT NULL) AS hosts
FROM sessions
WHERE user_name IS NOT NULL AND ($server IS NULL OR server = $server)
GROUP BY server, user_name
HAVING min(started_at) >= CAST($since AS TIMESTAMPTZ)
ORDER BY first_seen, server, user_name;
