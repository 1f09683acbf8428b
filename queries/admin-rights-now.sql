-- Who holds superuser or admin-equivalent rights now, and since when. A right is a role attribute
-- (SUPERUSER, CREATEROLE, BYPASSRLS, REPLICATION), membership of a role that confers admin power
-- (azure_pg_admin, pg_execute_server_program, pg_read/write_server_files, pg_read/write_all_data), and on Azure:
-- `entra_admin` (a pgaadauth label with `admin`: the Entra principal may create, map and drop other Entra
-- principals), being an Entra administrator of the server set on the control plane (portal or ARM), and being
-- the server admin (the `administratorLogin` of the server's latest write on the control plane, or `server_admin`).
-- `since` is the last effective change in the trail that gave the right; NULL when the role already had it
-- before the trail began. `auth_kind` and `entra_type` tell Entra principals (user, group, service) from roles
-- PostgreSQL authenticates; `managed_by` is `azure` for Azure's own role (azuresu), which customers cannot use.
-- @param server text = null : one server, or NULL for all
-- @param server_admin text = null : the server admin login, where the control-plane trail lacks the server's creation
WITH attribute_rights AS (
  SELECT server, rolname AS role_name, 'rolsuper' AS right_name FROM roles WHERE rolsuper
  UNION ALL SELECT server, rolname, 'rolcreaterole' FROM roles WHERE rolcreaterole
  UNION ALL SELECT server, rolname, 'rolbypassrls' FROM roles WHERE rolbypassrls
  UNION ALL SELECT server, rolname, 'rolreplication' FROM roles WHERE rolreplication
  UNION ALL SELECT server, rolname, 'entra_admin' FROM roles WHERE entra_admin
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
),
-- The latest successful write of each Entra administrator (its object id is the target), unless deleted since.
control_plane_admins AS (
  SELECT server, split_part(requested_value, ' (', 1) AS role_name, 'entra administrator of the server' AS right_name, logged_at AS since
  FROM control_plane_events w
  WHERE action = 'admin-write' AND status = 'success' AND requested_value IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM control_plane_events d WHERE d.server = w.server AND d.target = w.target
                    AND d.action = 'admin-delete' AND d.status = 'success' AND d.logged_at > w.logged_at)
  QUALIFY row_number() OVER (PARTITION BY server, target ORDER BY logged_at DESC) = 1
),
server_admins AS (
  SELECT server, regexp_extract(requested_value, 'administratorLogin=([^,]+)', 1) AS role_name, 'server admin' AS right_name, logged_at AS since
  FROM control_plane_events
  WHERE action = 'server-write' AND status = 'success' AND regexp_matches(requested_value, 'administratorLogin=')
  QUALIFY row_number() OVER (PARTITION BY server ORDER BY logged_at DESC) = 1
  UNION
  SELECT DISTINCT server, rolname, 'server admin', NULL::TIMESTAMPTZ FROM roles WHERE rolname = $server_admin
)
SELECT h.server, h.role_name, h.right_name, h.since, r.auth_kind, r.entra_type,
       CASE WHEN h.role_name = 'azuresu' THEN 'azure' END AS managed_by
FROM (SELECT * FROM attribute_since UNION ALL SELECT * FROM membership_rights UNION ALL SELECT * FROM control_plane_admins
      UNION ALL SELECT * FROM server_admins) h
LEFT JOIN roles r ON r.server = h.server AND r.rolname = h.role_name
WHERE $server IS NULL OR h.server = $server
ORDER BY h.server, h.role_name, h.right_name;
