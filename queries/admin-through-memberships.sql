-- Who can act as superuser or admin-equivalent, directly or through memberships: every role that holds a
-- powerful attribute (SUPERUSER, CREATEROLE, BYPASSRLS, REPLICATION) or is an admin-conferring role
-- (azure_pg_admin, pg_execute_server_program, pg_read/write_server_files, pg_read/write_all_data), and every
-- role that reaches one through a chain of memberships (a member can SET ROLE to it), with the chain.
-- @param server text = null : one server, or NULL for all
WITH RECURSIVE power AS (
  SELECT server, rolname AS power_role,
         concat_ws(', ', CASE WHEN rolsuper THEN 'SUPERUSER' END, CASE WHEN rolcreaterole THEN 'CREATEROLE' END,
                   CASE WHEN rolbypassrls THEN 'BYPASSRLS' END, CASE WHEN rolreplication THEN 'REPLICATION' END) AS power
  FROM roles WHERE rolsuper OR rolcreaterole OR rolbypassrls OR rolreplication
  UNION
  SELECT DISTINCT server, role_name, 'admin role ' || role_name FROM role_memberships
  WHERE role_name IN ('azure_pg_admin', 'pg_execute_server_program', 'pg_read_server_files',
                      'pg_write_server_files', 'pg_read_all_data', 'pg_write_all_data')
),
reach (server, role_name, power_role, power, chain, depth) AS (
  SELECT server, power_role, power_role, power, [power_role], 0 FROM power
  UNION ALL
  SELECT m.server, m.member, r.power_role, r.power, list_prepend(m.member, r.chain), r.depth + 1
  FROM reach r JOIN role_memberships m ON m.server = r.server AND m.role_name = r.role_name
  WHERE NOT list_contains(r.chain, m.member) AND r.depth < 20
)
SELECT server, role_name, power_role, power, depth AS hops, array_to_string(chain, ' → ') AS via
FROM reach
WHERE $server IS NULL OR server = $server
QUALIFY row_number() OVER (PARTITION BY server, role_name, power_role ORDER BY depth) = 1
ORDER BY server, role_name, depth, power_role;
