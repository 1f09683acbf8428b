-- Azure control-plane changes to servers, one row per request: the Start, Accept and outcome records of one
-- operation (same correlation id, operation and resource) folded together, with who asked for what, from
-- where, and how it ended. A request whose outcome has not arrived (or was lost) ends in start or accept.
-- @param since time = '30 days' : start of the range (ISO time or a duration back from now)
-- @param server text = null : one server, or NULL for all
-- @param action text = null : one action (firewall-rule-write, configuration-write, server-write, admin-write, diagnostic-settings-delete...), or NULL for all
SELECT server, min(logged_at) AS started_at, max(logged_at) AS ended_at, action,
       arg_min(target, logged_at) AS target, -- the same name in any casing: the Activity Log may upper-case one record's id
       arg_max(status, {'rank': CASE status WHEN 'success' THEN 3 WHEN 'failure' THEN 3 WHEN 'accept' THEN 2 WHEN 'start' THEN 1 ELSE 0 END, 'at': logged_at}) AS status,
       max(requested_value) AS requested_value, max(caller) AS caller, max(caller_ip) AS caller_ip,
       max(caller_role) AS caller_role, correlation_id, operation, resource_id
FROM control_plane_events
WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($server IS NULL OR server = $server)
  AND ($action IS NULL OR action = $action)
GROUP BY server, coalesce(correlation_id, source || '#' || position), correlation_id, operation, resource_id, action
ORDER BY started_at, server, operation;
