-- Where one role came from: every client address it connected from or failed to log in from, with the
-- applications it used there, how many sessions and failures, and when it was first and last seen there.
-- @param role text : the role (user) name
-- @param server text = null : one server, or NULL for all
WITH seen AS (
  SELECT server, client_addr, started_at AS seen_at, application_name, true AS connected
  FROM sessions WHERE user_name = $role AND client_addr IS NOT NULL
  UNION ALL
  SELECT server, client_addr, logged_at, NULL, false
  FROM auth_failures WHERE user_name = $role AND client_addr IS NOT NULL
)
SELECT server, client_addr, count(*) FILTER (WHERE connected) AS sessions, count(*) FILTER (WHERE NOT connected) AS failures,
       list(DISTINCT application_name ORDER BY application_name) FILTER (WHERE application_name IS NOT NULL) AS applications,
       min(seen_at) AS first_seen, max(seen_at) AS last_seen
FROM seen
WHERE $server IS NULL OR server = $server
GROUP BY server, client_addr
ORDER BY last_seen DESC NULLS LAST, server, client_addr;
