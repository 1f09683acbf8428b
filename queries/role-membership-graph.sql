-- The role membership graph: one edge per membership now in force, from the member to the role it belongs
-- to, with the admin option and who granted it.
-- @param server text = null : one server, or NULL for all
SELECT server, member, role_name, admin_option, grantor, granted_at
FROM role_memberships
WHERE $server IS NULL OR server = $server
ORDER BY server, role_name, member;
