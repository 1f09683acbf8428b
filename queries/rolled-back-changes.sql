-- Privilege changes that did not take effect: logged by pgaudit but rolled back or aborted. Someone tried;
-- worth knowing who and from where, even though the roles did not change.
-- @param since time = '30 days' : start of the range
-- @param server text = null : one server, or NULL for all
SELECT p.server, p.logged_at, p.session_id, s.client_addr, s.application_name, p.actor, p.action, p.role_name,
       p.attribute, p.value, p.granted_role, p.grantee, p.statement
FROM privilege_changes p
LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
WHERE NOT p.effective AND p.logged_at >= CAST($since AS TIMESTAMPTZ) AND ($server IS NULL OR p.server = $server)
ORDER BY p.logged_at, p.seq;
