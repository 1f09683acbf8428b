-- One server's SQL trail and its Azure control-plane changes on one timeline, oldest first: sessions,
-- pgaudit entries and failed logins from the server's logs, and Activity Log operations (firewall rules,
-- parameters, administrators, diagnostic settings, restarts) from Azure. `plane` says which side a row comes
-- from; `actor` is the database user or the Azure caller, `source_addr` the client address or the caller's IP.
-- @param server text : the server name, lowercase as in its resource id (e.g. pg-prod)
-- @param since time = '7 days' : start of the range (ISO time or a duration back from now)
-- @param until time = null : end of the range, NULL for now
SELECT logged_at, plane, kind, actor, source_addr, target, detail
FROM (
  SELECT started_at AS logged_at, 'sql' AS plane, 'session' AS kind, user_name AS actor, client_addr AS source_addr,
         database_name AS target,
         concat_ws(' ', application_name, CASE WHEN ssl THEN '(TLS)' WHEN NOT ssl THEN '(no TLS)' END) AS detail
  FROM sessions WHERE server = $server AND started_at IS NOT NULL
  UNION ALL
  SELECT logged_at, 'sql', class || ' ' || command, user_name, client_addr, object_name, statement
  FROM audit_events WHERE server = $server
  UNION ALL
  SELECT logged_at, 'sql', 'login failed', user_name, client_addr, database_name, reason
  FROM auth_failures WHERE server = $server
  UNION ALL
  SELECT logged_at, 'control', action || ' ' || coalesce(status, '?'), caller, caller_ip, target, requested_value
  FROM control_plane_events WHERE server = $server
) AS timeline
WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ))
ORDER BY logged_at, plane, kind;
