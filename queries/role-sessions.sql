-- One role's sessions: every connection it opened (or that was attributed to it), with where from, with
-- which application, how it authenticated and whether TLS was on.
-- @param role text : the role (user) name
-- @param server text = null : one server, or NULL for all
-- @param since time = '3650 days' : sessions started from this time on
SELECT server, session_id, started_at, ended_at, database_name, client_addr, application_name, auth_method,
       ssl, ssl_protocol
FROM sessions
WHERE user_name = $role AND ($server IS NULL OR server = $server)
  AND (started_at IS NULL OR started_at >= CAST($since AS TIMESTAMPTZ))
ORDER BY started_at DESC NULLS LAST;
