-- First-time applications: application_name values first seen within the range (a new tool such as psql or
-- pgAdmin appearing on a production server), with who used them.
-- @param since time = '1 day' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT server, application_name, min(started_at) AS first_seen, count(*) AS sessions,
       list(DISTINCT user_name ORDER BY user_name) AS users
FROM sessions
WHERE application_name IS NOT NULL AND ($server IS NULL OR server = $server)
GROUP BY server, application_name
HAVING min(started_at) >= CAST($since AS TIMESTAMPTZ)
ORDER BY first_seen, server, application_name;
