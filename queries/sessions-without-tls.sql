-- Sessions without TLS: connections the server logged as authorized without SSL, grouped by who and from
-- where. Sessions whose TLS state the logs cannot tell (ssl NULL) are not listed. Azure's own maintenance
-- user is left out by default.
-- @param since time = '7 days' : sessions started from this time on
-- @param exclude_user text = 'azuresu' : a user to leave out (NULL keeps everyone)
SELECT server, user_name, database_name, client_addr, application_name, count(*) AS sessions,
       min(started_at) AS first_started, max(started_at) AS last_started
FROM sessions
WHERE ssl = false AND started_at >= CAST($since AS TIMESTAMPTZ)
  AND ($exclude_user IS NULL OR user_name IS DISTINCT FROM $exclude_user)
GROUP BY ALL
ORDER BY sessions DESC, server, user_name, client_addr, application_name;
