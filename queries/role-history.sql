-- One role's full history: its creation, attribute and password changes, renames, the memberships it was
-- given or lost, the privileges granted to or revoked from it, and its drop, in the order they happened, each with
-- where it came from (session, client address, application).
-- @param role text : the role name
-- @param server text = null : one server, or NULL for all
SELECT p.server, p.logged_at, p.actor, s.client_addr, s.application_name, p.session_id, p.action, p.role_name,
       p.attribute, p.value, p.granted_role, p.privileges, p.object_type, p.object_name, p.grantee, p.effective, p.statement
FROM privilege_changes p
LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
WHERE (p.role_name = $role OR p.grantee = $role OR p.granted_role = $role OR (p.action = 'rename-role' AND p.value = $role))
  AND ($server IS NULL OR p.server = $server)
ORDER BY p.logged_at, p.seq;
