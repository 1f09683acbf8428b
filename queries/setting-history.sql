-- One setting's history: every change to a server parameter in SQL (SET, ALTER SYSTEM, ALTER DATABASE/ROLE
-- ... SET, RESET) with where it came from, and every write of it on the Azure control plane, oldest first.
-- @param parameter text : the parameter name, e.g. pgaudit.log or password_encryption
-- @param server text = null : one server, or NULL for all
SELECT * FROM (
  SELECT p.server, p.logged_at, 'sql' AS plane, p.action, p.object_type AS scope, p.role_name, p.value, p.effective,
         p.actor, p.session_id, s.client_addr, s.application_name, p.statement
  FROM privilege_changes p
  LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
  WHERE p.action IN ('set-parameter', 'reset-parameter') AND lower(p.attribute) = lower($parameter)
  UNION ALL
  SELECT server, logged_at, 'control', action, 'server', NULL, requested_value, status = 'success', caller, NULL, caller_ip,
         NULL, operation
  FROM control_plane_events
  WHERE action = 'configuration-write' AND lower(target) = lower($parameter)
) h
WHERE $server IS NULL OR server = $server
ORDER BY logged_at, plane;
