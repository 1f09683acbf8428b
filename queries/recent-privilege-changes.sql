-- Recent privilege changes: the latest role, password, membership, grant and setting changes on every
-- server, newest first, rolled-back ones included and marked (effective = false).
-- @param since time = '7 days' : start of the range
-- @param until time = null : end of the range, NULL for now
-- @param server text = null : one server, or NULL for all
-- @param max_rows int = 100 : at most this many changes
SELECT server, logged_at, actor, action, role_name, attribute, value, granted_role, privileges, object_name,
       grantee, effective, statement
FROM privilege_changes
WHERE logged_at >= CAST($since AS TIMESTAMPTZ)
  AND ($until IS NULL OR logged_at < CAST($until AS TIMESTAMPTZ))
  AND ($server IS NULL OR server = $server)
ORDER BY logged_at DESC, seq DESC
LIMIT CAST($max_rows AS INTEGER);
