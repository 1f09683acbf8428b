-- Changes to audit, logging and TLS settings: ALTER SYSTEM, ALTER DATABASE/ROLE ... SET and session SETs of
-- pgaudit.*, log_*, ssl*, password_encryption and other parameters that blind auditing or weaken
-- authentication or transport security. A session that runs SET pgaudit.log = 'none' leaves no trail after it.
-- Each with where it came from (session, client address, application).
-- @param since time = '30 days' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT p.server, p.logged_at, p.session_id, s.client_addr, s.application_name, p.actor, p.action,
       p.object_type AS scope, p.object_name, p.role_name, p.attribute AS parameter, p.value, p.effective, p.statement
FROM privilege_changes p
LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
WHERE p.action IN ('set-parameter', 'reset-parameter')
  AND (p.attribute ILIKE 'pgaudit%' OR p.attribute ILIKE 'log\_%' ESCAPE '\' OR p.attribute ILIKE 'ssl%'
       OR p.attribute ILIKE 'password\_%' ESCAPE '\' OR p.attribute ILIKE 'auth%'
       OR lower(p.attribute) IN ('logging_collector', 'shared_preload_libraries', 'session_preload_libraries',
                                 'local_preload_libraries', 'require_secure_transport', 'session_replication_role', 'all'))
  AND p.logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($server IS NULL OR p.server = $server)
ORDER BY p.logged_at, p.seq;
