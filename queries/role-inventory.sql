-- The role inventory, like pg_roles: every role each server has now as rebuilt from the trail, with who
-- created it and when its password last changed. NULL attributes: the role existed before the trail began.
-- `uncertain` names attributes a truncated statement may have changed. On Azure, `auth_kind` = 'entra' marks a
-- Microsoft Entra principal (`entra_type` user, group or service; `entra_oid` its object id; `entra_admin` may
-- manage other Entra principals; `entra_mfa` whether it was created requiring MFA).
-- @param server text = null : one server, or NULL for all
SELECT server, rolname, rolsuper, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolbypassrls,
       rolinherit, rolconnlimit, rolvaliduntil, has_password, created_at, created_by, password_changed_at, uncertain,
       auth_kind, entra_type, entra_oid, entra_admin, entra_mfa
FROM roles
WHERE $server IS NULL OR server = $server
ORDER BY server, rolname;
