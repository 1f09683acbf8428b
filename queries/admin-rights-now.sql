-- Who holds superuser or admin-equivalent rights now, and since when. A right is a role attribute
-- (SUPERUSER, CREATEROLE, BYPASSRLS, REPLICATION) or membership of a role that confers admin power
-- (azure_pg_admin, pg_execute_server_program, pg_read/write_server_files, pg_read/write_all_data).
-- `since` is the last effective change in the trail that gave the right; NULL when the role already had it
-- before the trail began.
-- @param server text = null : one server, or NULL for all
WITH attribute_rights AS (
  SELECT server, rolname AS role_name, 'rolsuper' AS right_name FROM roles WHERE rolsuper
  UNION ALL SELECT server, rolname, 'rolcreaterole' FROM roles WHERE rolcreaterole
  UNION ALL SELECT server, rolname, 'rolbypassrls' FROM roles WHERE rolbypassrls
  UNION ALL SELECT server, rolname, 'rolreplication' FROM roles WHERE rolreplication
),
attribute_since AS (
  SELECT a.server, a.role_name, a.right_name,
         (SELECT max(c.logged_at) FROM privilege_changes c
          WHERE c.effective AND c.server = a.server AND c.role_name = a.role_name
            AND c.action = 'set-attribute' AND c.attribute = a.right_name AND c.value = 'true') AS since
  FROM attribute_rights a
),
membership_rights AS (
  SELECT server, member AS role_name, 'member of ' || role_name AS right_name, granted_at AS since
  FROM role_memberships
  WHERE role_name IN ('azure_pg_admin', 'pg_execute_server_program', 'pg_read_server_files',
                      'pg_write_server_files', 'pg_read_all_data', 'pg_write_all_data')
)
SELECT server, role_name, right_name, since
FROM (SELECT * FROM attribute_since UNION ALL SELECT * FROM membership_rights)
WHERE $server IS NULL OR server = $server
ORDER BY server, role_name, right_name;
