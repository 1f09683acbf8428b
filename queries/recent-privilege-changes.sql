-- Recent privilege changes: the latest role, password, membership, grant and setting changes on every
-- server, newest first, rolled-back ones included and marked (effective = false), with where each came from:
-- its session, client address and application.
-- @param since time = '7 days' : start of the range
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
-- @param max_rows int = 100 : at most this many changes
SELECT p.server, p.logged_at, p.actor, s.client_addr, s.application_name, p.session_id, p.action, p.role_name,
       p.attribute, p.value, p.granted_role, p.privileges, p.object_name, p.grantee, p.effective, p.statement
FROM privilege_changes p
LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
WHERE p.logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($until IS NULL OR p.logged_at < CAST($until AS TIMESTAMPTZ))
  AND ($server IS NULL OR p.server = $server)
ORDER BY p.logged_at DESC, p.seq DESC
LIMIT CAST($max_rows AS INTEGER);
