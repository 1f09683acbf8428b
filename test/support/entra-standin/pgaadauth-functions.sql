-- Stand-ins for Azure Database for PostgreSQL - Flexible Server's Entra functions, for tests only (Azure's own
-- bodies are not public). Same names and signatures as documented; SECURITY DEFINER, and they run the statements
-- Azure documents: CREATE ROLE ... WITH LOGIN, then SECURITY LABEL FOR "pgaadauth" ON ROLE ... IS 'aadauth,...'.
-- Needs the pgaadauth label provider (pgaadauth_label.c) in shared_preload_libraries.
CREATE OR REPLACE FUNCTION public.pgaadauth_create_principal_with_oid(
  roleName text, objectId text, objectType text, isAdmin boolean, isMfa boolean
) RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
BEGIN
  IF objectType NOT IN ('user', 'group', 'service') THEN
    RAISE EXCEPTION 'objectType must be user, group or service, not %', objectType;
  END IF;
  EXECUTE format('CREATE ROLE %I WITH LOGIN', roleName);
  EXECUTE format('SECURITY LABEL FOR "pgaadauth" ON ROLE %I IS %L', roleName,
    'aadauth,oid=' || objectId || ',type=' || objectType || CASE WHEN isAdmin THEN ',admin' ELSE '' END);
  RETURN format('Created role for "%s"', roleName);
END
$fn$;

-- Azure looks the name up in the tenant; the stand-in makes a fixed object id from the name and says `user`.
CREATE OR REPLACE FUNCTION public.pgaadauth_create_principal(roleName text, isAdmin boolean, isMfa boolean)
RETURNS text LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $fn$
BEGIN
  RETURN public.pgaadauth_create_principal_with_oid(roleName, md5('entra:' || roleName)::uuid::text, 'user', isAdmin, isMfa);
END
$fn$;

-- Azure's role for the server admin and the Entra admins' members (customers never hold SUPERUSER).
CREATE ROLE azure_pg_admin NOLOGIN;
