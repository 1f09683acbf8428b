-- Privilege changes that did not take effect: logged by pgaudit but rolled back or aborted. Someone tried;
-- worth knowing who, even though the roles did not change.
-- @param since time = '30 days' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT server, logged_at, session_id, actor, action, role_name, attribute, value, granted_role, grantee, statement
FROM privilege_changes
WHERE NOT effective AND logged_at >= CAST($since AS TIMESTAMPTZ) AND ($server IS NULL OR server = $server)
ORDER BY logged_at, seq;
