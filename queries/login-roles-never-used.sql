-- Login roles never used: roles that can log in but never opened a session in the whole trail (failed
-- attempts do not count as use). Candidates for removal, or accounts someone is keeping for later.
-- @param server text = null : one server, or NULL for all
SELECT r.server, r.rolname AS role_name, r.created_at, r.created_by, r.has_password, r.rolsuper
FROM roles r
WHERE r.rolcanlogin
  AND NOT EXISTS (SELECT 1 FROM sessions s WHERE s.server = r.server AND s.user_name = r.rolname)
  AND ($server IS NULL OR r.server = $server)
ORDER BY r.server, r.rolname;
