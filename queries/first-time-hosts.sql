-- First-time hosts: client addresses that first connected within the range (successful or failed), with the
-- users that came from them.
-- @param since time = '1 day' : start of the range
-- @param server text = null : one server, or NULL for all
WITH seen AS (
  SELECT server, client_addr, started_at AS seen_at, user_name, true AS connected FROM sessions WHERE client_addr IS NOT NULL
  UNION ALL
  SELECT server, client_addr, logged_at, user_name, false FROM auth_failures WHERE client_addr IS NOT NULL
)
SELECT server, client_addr, min(seen_at) AS first_seen, count(*) FILTER (WHERE connected) AS sessions,
       count(*) FILTER (WHERE NOT connected) AS failures, list(DISTINCT user_name ORDER BY user_name) AS users
FROM seen
WHERE $server IS NULL OR server = $server
GROUP BY server, client_addr
HAVING min(seen_at) >= CAST($since AS TIMESTAMPTZ)
ORDER BY first_seen, server, client_addr;
