-- Changes to audit, logging and TLS settings: ALTER SYSTEM, ALTER DATABASE/ROLE ... SET and session SETs of
-- pgaudit.*, log_*, ssl*, password_encryption and other parameters that blind auditing or weaken
-- authentication or transport security. A session that runs SET pgaudit.log = 'none' leaves no trail after it.
-- @param since time = '30 days' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT server, logged_at, session_id, actor, action, object_type AS scope, object_name, role_name,
       attribute AS parameter, value, effective, statement
FROM privilege_changes
WHERE action IN ('set-parameter', 'reset-parameter')
  AND (attribute ILIKE 'pgaudit%' OR attribute ILIKE 'log\_%' ESCAPE '\' OR attribute ILIKE 'ssl%'
       OR attribute ILIKE 'password\_%' ESCAPE '\' OR attribute ILIKE 'auth%'
       OR lower(attribute) IN ('logging_collector', 'shared_preload_libraries', 'session_preload_libraries',
                               'local_preload_libraries', 'require_secure_transport', 'session_replication_role', 'all'))
  AND logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($server IS NULL OR server = $server)
ORDER BY logged_at, seq;
