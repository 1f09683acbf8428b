-- One role's full history: its creation, attribute and password changes, renames, the memberships it was
-- given or lost, the privileges granted to or revoked from it, and its drop, in the order they happened.
-- @param role text : the role name
-- @param server text = null : one server, or NULL for all
SELECT server, logged_at, actor, action, role_name, attribute, value, granted_role, privileges,
       object_type, object_name, grantee, effective, statement
FROM privilege_changes
WHERE (role_name = $role OR grantee = $role OR granted_role = $role OR (action = 'rename-role' AND value = $role))
  AND ($server IS NULL OR server = $server)
ORDER BY logged_at, seq;
