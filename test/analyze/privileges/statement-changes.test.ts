import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeStatement, changesFromStatement, loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import { ParseError } from '../../../src/decode/log-record.js';
import { summarize } from './change-summary.js';

before(() => loadStatementParser());

/** Statements in the forms of PostgreSQL's reference pages → one summary line per change row. */
const documentationForms: [string, string[]][] = [
  ["CREATE ROLE jonathan LOGIN", [
    "create-role role=jonathan value=ROLE",
    "set-attribute role=jonathan attr=rolcanlogin value=true"
  ]],
  ["CREATE USER davide WITH PASSWORD 'jw8s0F4'", [
    "create-role role=davide value=USER",
    "set-password role=davide attr=has_password value=clear strength=len7"
  ]],
  ["CREATE ROLE miriam WITH LOGIN PASSWORD 'jw8s0F4' VALID UNTIL '2005-01-01'", [
    "create-role role=miriam value=ROLE",
    "set-attribute role=miriam attr=rolcanlogin value=true",
    "set-password role=miriam attr=has_password value=clear strength=len7",
    "set-attribute role=miriam attr=rolvaliduntil value=2005-01-01"
  ]],
  ["CREATE ROLE admin WITH CREATEDB CREATEROLE", [
    "create-role role=admin value=ROLE",
    "set-attribute role=admin attr=rolcreatedb value=true",
    "set-attribute role=admin attr=rolcreaterole value=true"
  ]],
  ["CREATE ROLE r1 SUPERUSER", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolsuper value=true"
  ]],
  ["CREATE ROLE r1 NOSUPERUSER", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolsuper value=false"
  ]],
  ["CREATE ROLE r1 CREATEDB", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolcreatedb value=true"
  ]],
  ["CREATE ROLE r1 NOCREATEDB", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolcreatedb value=false"
  ]],
  ["CREATE ROLE r1 CREATEROLE", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolcreaterole value=true"
  ]],
  ["CREATE ROLE r1 NOCREATEROLE", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolcreaterole value=false"
  ]],
  ["CREATE ROLE r1 INHERIT", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolinherit value=true"
  ]],
  ["CREATE ROLE r1 NOINHERIT", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolinherit value=false"
  ]],
  ["CREATE ROLE r1 LOGIN", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolcanlogin value=true"
  ]],
  ["CREATE ROLE r1 NOLOGIN", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolcanlogin value=false"
  ]],
  ["CREATE ROLE r1 REPLICATION", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolreplication value=true"
  ]],
  ["CREATE ROLE r1 NOREPLICATION", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolreplication value=false"
  ]],
  ["CREATE ROLE r1 BYPASSRLS", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolbypassrls value=true"
  ]],
  ["CREATE ROLE r1 NOBYPASSRLS", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolbypassrls value=false"
  ]],
  ["CREATE ROLE r1 CONNECTION LIMIT 5", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolconnlimit value=5"
  ]],
  ["CREATE ROLE r1 CONNECTION LIMIT -1", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolconnlimit value=-1"
  ]],
  ["CREATE ROLE r1 ENCRYPTED PASSWORD 'Secr3t!pass'", [
    "create-role role=r1 value=ROLE",
    "set-password role=r1 attr=has_password value=clear strength=len11"
  ]],
  ["CREATE ROLE r1 PASSWORD NULL", [
    "create-role role=r1 value=ROLE",
    "remove-password role=r1 attr=has_password value=null"
  ]],
  ["CREATE ROLE r1 PASSWORD ''", [
    "create-role role=r1 value=ROLE",
    "remove-password role=r1 attr=has_password value=empty"
  ]],
  ["CREATE ROLE r1 PASSWORD 'md5a3556571e93b0d20722ba62be61e8c2d'", [
    "create-role role=r1 value=ROLE",
    "set-password role=r1 attr=has_password value=md5"
  ]],
  ["CREATE ROLE r1 PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=:BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc='", [
    "create-role role=r1 value=ROLE",
    "set-password role=r1 attr=has_password value=scram-sha-256"
  ]],
  ["CREATE ROLE r1 VALID UNTIL 'infinity'", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolvaliduntil value=infinity"
  ]],
  ["CREATE ROLE r1 IN ROLE a, b", [
    "create-role role=r1 value=ROLE",
    "grant-role role=r1 granted=a grantee=r1 option=false",
    "grant-role role=r1 granted=b grantee=r1 option=false"
  ]],
  ["CREATE ROLE r1 IN GROUP a", [
    "create-role role=r1 value=ROLE",
    "grant-role role=r1 granted=a grantee=r1 option=false"
  ]],
  ["CREATE ROLE r1 ROLE m1, m2", [
    "create-role role=r1 value=ROLE",
    "grant-role role=m1 granted=r1 grantee=m1 option=false",
    "grant-role role=m2 granted=r1 grantee=m2 option=false"
  ]],
  ["CREATE ROLE r1 USER m1", [
    "create-role role=r1 value=ROLE",
    "grant-role role=m1 granted=r1 grantee=m1 option=false"
  ]],
  ["CREATE ROLE r1 ADMIN m1", [
    "create-role role=r1 value=ROLE",
    "grant-role role=m1 granted=r1 grantee=m1 option=true"
  ]],
  ["CREATE ROLE r1 SYSID 42", [
    "create-role role=r1 value=ROLE"
  ]],
  ["CREATE ROLE \"Mixed Case\" LOGIN", [
    "create-role role=Mixed Case value=ROLE",
    "set-attribute role=Mixed Case attr=rolcanlogin value=true"
  ]],
  ["CREATE ROLE \"with\"\"quote\"", [
    "create-role role=with\"quote value=ROLE"
  ]],
  ["CREATE USER u1", [
    "create-role role=u1 value=USER"
  ]],
  ["CREATE USER u1 NOLOGIN", [
    "create-role role=u1 value=USER",
    "set-attribute role=u1 attr=rolcanlogin value=false"
  ]],
  ["CREATE GROUP g1", [
    "create-role role=g1 value=GROUP"
  ]],
  ["CREATE GROUP g1 WITH USER a, b", [
    "create-role role=g1 value=GROUP",
    "grant-role role=a granted=g1 grantee=a option=false",
    "grant-role role=b granted=g1 grantee=b option=false"
  ]],
  ["CREATE ROLE r1 WITH SUPERUSER CREATEDB CREATEROLE INHERIT LOGIN REPLICATION BYPASSRLS CONNECTION LIMIT 10 PASSWORD 'Abc123!' VALID UNTIL '2030-01-01 00:00:00+00' IN ROLE a ROLE b ADMIN c", [
    "create-role role=r1 value=ROLE",
    "set-attribute role=r1 attr=rolsuper value=true",
    "set-attribute role=r1 attr=rolcreatedb value=true",
    "set-attribute role=r1 attr=rolcreaterole value=true",
    "set-attribute role=r1 attr=rolinherit value=true",
    "set-attribute role=r1 attr=rolcanlogin value=true",
    "set-attribute role=r1 attr=rolreplication value=true",
    "set-attribute role=r1 attr=rolbypassrls value=true",
    "set-attribute role=r1 attr=rolconnlimit value=10",
    "set-password role=r1 attr=has_password value=clear strength=len7",
    "set-attribute role=r1 attr=rolvaliduntil value=2030-01-01 00:00:00+00",
    "grant-role role=r1 granted=a grantee=r1 option=false",
    "grant-role role=b granted=r1 grantee=b option=false",
    "grant-role role=c granted=r1 grantee=c option=true"
  ]],
  ["ALTER ROLE davide WITH PASSWORD 'hu8jmn3'", [
    "set-password role=davide attr=has_password value=clear strength=len7"
  ]],
  ["ALTER ROLE davide WITH PASSWORD NULL", [
    "remove-password role=davide attr=has_password value=null"
  ]],
  ["ALTER ROLE chris VALID UNTIL 'May 4 12:00:00 2015 +1'", [
    "set-attribute role=chris attr=rolvaliduntil value=May 4 12:00:00 2015 +1"
  ]],
  ["ALTER ROLE fred VALID UNTIL 'infinity'", [
    "set-attribute role=fred attr=rolvaliduntil value=infinity"
  ]],
  ["ALTER ROLE miriam CREATEROLE CREATEDB", [
    "set-attribute role=miriam attr=rolcreaterole value=true",
    "set-attribute role=miriam attr=rolcreatedb value=true"
  ]],
  ["ALTER ROLE worker_bee SET maintenance_work_mem = 100000", [
    "set-parameter role=worker_bee attr=maintenance_work_mem value=100000 type=role"
  ]],
  ["ALTER ROLE fred IN DATABASE devel SET client_min_messages = DEBUG", [
    "set-parameter role=fred attr=client_min_messages value=debug type=role object=devel"
  ]],
  ["ALTER ROLE r1 RESET search_path", [
    "reset-parameter role=r1 attr=search_path type=role"
  ]],
  ["ALTER ROLE r1 IN DATABASE d RESET ALL", [
    "reset-parameter role=r1 attr=ALL type=role object=d"
  ]],
  ["ALTER ROLE ALL SET log_statement = 'all'", [
    "set-parameter role=ALL attr=log_statement value=all type=role"
  ]],
  ["ALTER ROLE r1 SET log_statement TO DEFAULT", [
    "set-parameter role=r1 attr=log_statement value=DEFAULT type=role"
  ]],
  ["ALTER ROLE CURRENT_USER SET pgaudit.log = 'none'", [
    "set-parameter role=CURRENT_USER attr=pgaudit.log value=none type=role"
  ]],
  ["ALTER USER SESSION_USER PASSWORD 'x'", [
    "set-password role=SESSION_USER attr=has_password value=clear strength=len1"
  ]],
  ["ALTER ROLE CURRENT_ROLE NOLOGIN", [
    "set-attribute role=CURRENT_ROLE attr=rolcanlogin value=false"
  ]],
  ["ALTER ROLE r1 RENAME TO r2", [
    "rename-role role=r1 value=r2"
  ]],
  ["ALTER USER u1 RENAME TO u2", [
    "rename-role role=u1 value=u2"
  ]],
  ["ALTER GROUP g1 RENAME TO g2", [
    "rename-role role=g1 value=g2"
  ]],
  ["ALTER GROUP staff ADD USER karl, john", [
    "grant-role role=karl granted=staff grantee=karl option=false",
    "grant-role role=john granted=staff grantee=john option=false"
  ]],
  ["ALTER GROUP workers DROP USER beth", [
    "revoke-role role=beth granted=workers grantee=beth"
  ]],
  ["ALTER ROLE r1 SUPERUSER", [
    "set-attribute role=r1 attr=rolsuper value=true"
  ]],
  ["ALTER ROLE r1 NOSUPERUSER", [
    "set-attribute role=r1 attr=rolsuper value=false"
  ]],
  ["ALTER ROLE r1 LOGIN", [
    "set-attribute role=r1 attr=rolcanlogin value=true"
  ]],
  ["ALTER ROLE r1 NOLOGIN", [
    "set-attribute role=r1 attr=rolcanlogin value=false"
  ]],
  ["ALTER ROLE r1 REPLICATION", [
    "set-attribute role=r1 attr=rolreplication value=true"
  ]],
  ["ALTER ROLE r1 BYPASSRLS", [
    "set-attribute role=r1 attr=rolbypassrls value=true"
  ]],
  ["ALTER ROLE r1 NOINHERIT", [
    "set-attribute role=r1 attr=rolinherit value=false"
  ]],
  ["ALTER ROLE r1 CONNECTION LIMIT 0", [
    "set-attribute role=r1 attr=rolconnlimit value=0"
  ]],
  ["ALTER ROLE r1 ENCRYPTED PASSWORD 'md5a3556571e93b0d20722ba62be61e8c2d'", [
    "set-password role=r1 attr=has_password value=md5"
  ]],
  ["ALTER USER r1 WITH NOCREATEDB NOCREATEROLE", [
    "set-attribute role=r1 attr=rolcreatedb value=false",
    "set-attribute role=r1 attr=rolcreaterole value=false"
  ]],
  ["DROP ROLE jonathan", [
    "drop-role role=jonathan"
  ]],
  ["DROP ROLE IF EXISTS a, b", [
    "drop-role role=a",
    "drop-role role=b"
  ]],
  ["DROP USER u1", [
    "drop-role role=u1"
  ]],
  ["DROP GROUP g1", [
    "drop-role role=g1"
  ]],
  ["GRANT admins TO joe", [
    "grant-role role=joe granted=admins grantee=joe option=false"
  ]],
  ["GRANT admins TO joe WITH ADMIN OPTION", [
    "grant-role role=joe granted=admins grantee=joe option=true"
  ]],
  ["GRANT admins, devs TO joe, ann", [
    "grant-role role=joe granted=admins grantee=joe option=false",
    "grant-role role=ann granted=admins grantee=ann option=false",
    "grant-role role=joe granted=devs grantee=joe option=false",
    "grant-role role=ann granted=devs grantee=ann option=false"
  ]],
  ["GRANT admins TO joe GRANTED BY postgres", [
    "grant-role role=joe granted=admins grantee=joe option=false grantor=postgres"
  ]],
  ["GRANT admins TO joe WITH ADMIN OPTION GRANTED BY CURRENT_USER", [
    "grant-role role=joe granted=admins grantee=joe option=true grantor=CURRENT_USER"
  ]],
  ["GRANT pg_read_all_data TO analyst", [
    "grant-role role=analyst granted=pg_read_all_data grantee=analyst option=false"
  ]],
  ["GRANT pg_signal_backend TO ops", [
    "grant-role role=ops granted=pg_signal_backend grantee=ops option=false"
  ]],
  ["REVOKE admins FROM joe", [
    "revoke-role role=joe granted=admins grantee=joe"
  ]],
  ["REVOKE admins FROM joe CASCADE", [
    "revoke-role role=joe granted=admins grantee=joe"
  ]],
  ["REVOKE ADMIN OPTION FOR admins FROM joe", [
    "revoke-admin-option role=joe granted=admins grantee=joe option=false"
  ]],
  ["REVOKE admins, devs FROM joe, ann GRANTED BY postgres", [
    "revoke-role role=joe granted=admins grantee=joe grantor=postgres",
    "revoke-role role=ann granted=admins grantee=ann grantor=postgres",
    "revoke-role role=joe granted=devs grantee=joe grantor=postgres",
    "revoke-role role=ann granted=devs grantee=ann grantor=postgres"
  ]],
  ["GRANT SELECT ON mytable TO PUBLIC", [
    "grant role=PUBLIC privs=SELECT type=table object=mytable grantee=PUBLIC option=false"
  ]],
  ["GRANT SELECT, UPDATE, INSERT ON mytable TO admin", [
    "grant role=admin privs=SELECT|UPDATE|INSERT type=table object=mytable grantee=admin option=false"
  ]],
  ["GRANT SELECT (col1), UPDATE (col1) ON mytable TO miriam_rw", [
    "grant role=miriam_rw privs=SELECT (col1)|UPDATE (col1) type=table object=mytable grantee=miriam_rw option=false"
  ]],
  ["GRANT ALL PRIVILEGES ON kinds TO manuel", [
    "grant role=manuel privs=ALL type=table object=kinds grantee=manuel option=false"
  ]],
  ["GRANT ALL ON TABLE s.t TO u WITH GRANT OPTION", [
    "grant role=u privs=ALL type=table object=s.t grantee=u option=true"
  ]],
  ["GRANT INSERT, DELETE, TRUNCATE, REFERENCES, TRIGGER ON t TO u", [
    "grant role=u privs=INSERT|DELETE|TRUNCATE|REFERENCES|TRIGGER type=table object=t grantee=u option=false"
  ]],
  ["GRANT MAINTAIN ON t TO u", [
    "grant role=u privs=MAINTAIN type=table object=t grantee=u option=false"
  ]],
  ["GRANT SELECT ON ALL TABLES IN SCHEMA public TO reader", [
    "grant role=reader privs=SELECT type=all tables in schema object=public grantee=reader option=false"
  ]],
  ["GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA s TO u", [
    "grant role=u privs=USAGE|SELECT type=all sequences in schema object=s grantee=u option=false"
  ]],
  ["GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA s TO u", [
    "grant role=u privs=EXECUTE type=all functions in schema object=s grantee=u option=false"
  ]],
  ["GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA s TO u", [
    "grant role=u privs=EXECUTE type=all procedures in schema object=s grantee=u option=false"
  ]],
  ["GRANT EXECUTE ON ALL ROUTINES IN SCHEMA s TO u", [
    "grant role=u privs=EXECUTE type=all routines in schema object=s grantee=u option=false"
  ]],
  ["GRANT USAGE ON SEQUENCE s.seq TO u", [
    "grant role=u privs=USAGE type=sequence object=s.seq grantee=u option=false"
  ]],
  ["GRANT CREATE, CONNECT, TEMPORARY ON DATABASE d TO u", [
    "grant role=u privs=CREATE|CONNECT|TEMPORARY type=database object=d grantee=u option=false"
  ]],
  ["GRANT TEMP ON DATABASE d TO u", [
    "grant role=u privs=TEMP type=database object=d grantee=u option=false"
  ]],
  ["GRANT ALL ON DATABASE d TO u", [
    "grant role=u privs=ALL type=database object=d grantee=u option=false"
  ]],
  ["GRANT USAGE ON DOMAIN dom TO u", [
    "grant role=u privs=USAGE type=domain object=dom grantee=u option=false"
  ]],
  ["GRANT USAGE ON FOREIGN DATA WRAPPER fdw TO u", [
    "grant role=u privs=USAGE type=foreign data wrapper object=fdw grantee=u option=false"
  ]],
  ["GRANT USAGE ON FOREIGN SERVER srv TO u", [
    "grant role=u privs=USAGE type=foreign server object=srv grantee=u option=false"
  ]],
  ["GRANT EXECUTE ON FUNCTION f(integer, text) TO u", [
    "grant role=u privs=EXECUTE type=function object=f(int4, text) grantee=u option=false"
  ]],
  ["GRANT EXECUTE ON FUNCTION s.f TO u", [
    "grant role=u privs=EXECUTE type=function object=s.f grantee=u option=false"
  ]],
  ["GRANT EXECUTE ON PROCEDURE p() TO u", [
    "grant role=u privs=EXECUTE type=procedure object=p() grantee=u option=false"
  ]],
  ["GRANT EXECUTE ON ROUTINE r(int) TO u", [
    "grant role=u privs=EXECUTE type=routine object=r(int4) grantee=u option=false"
  ]],
  ["GRANT USAGE ON LANGUAGE plpgsql TO u", [
    "grant role=u privs=USAGE type=language object=plpgsql grantee=u option=false"
  ]],
  ["GRANT SELECT, UPDATE ON LARGE OBJECT 1234 TO u", [
    "grant role=u privs=SELECT|UPDATE type=large object object=1234 grantee=u option=false"
  ]],
  ["GRANT SET, ALTER SYSTEM ON PARAMETER work_mem TO u", [
    "grant role=u privs=SET|ALTER SYSTEM type=parameter object=work_mem grantee=u option=false"
  ]],
  ["GRANT CREATE, USAGE ON SCHEMA s1, s2 TO u", [
    "grant role=u privs=CREATE|USAGE type=schema object=s1 grantee=u option=false",
    "grant role=u privs=CREATE|USAGE type=schema object=s2 grantee=u option=false"
  ]],
  ["GRANT CREATE ON TABLESPACE ts TO u", [
    "grant role=u privs=CREATE type=tablespace object=ts grantee=u option=false"
  ]],
  ["GRANT USAGE ON TYPE typ TO u", [
    "grant role=u privs=USAGE type=type object=typ grantee=u option=false"
  ]],
  ["GRANT SELECT ON t TO u GRANTED BY CURRENT_USER", [
    "grant role=u privs=SELECT type=table object=t grantee=u option=false grantor=CURRENT_USER"
  ]],
  ["GRANT SELECT ON t TO CURRENT_USER, SESSION_USER", [
    "grant role=CURRENT_USER privs=SELECT type=table object=t grantee=CURRENT_USER option=false",
    "grant role=SESSION_USER privs=SELECT type=table object=t grantee=SESSION_USER option=false"
  ]],
  ["GRANT SELECT ON TABLE a, b TO u", [
    "grant role=u privs=SELECT type=table object=a grantee=u option=false",
    "grant role=u privs=SELECT type=table object=b grantee=u option=false"
  ]],
  ["REVOKE INSERT ON films FROM PUBLIC", [
    "revoke role=PUBLIC privs=INSERT type=table object=films grantee=PUBLIC"
  ]],
  ["REVOKE ALL PRIVILEGES ON kinds FROM manuel", [
    "revoke role=manuel privs=ALL type=table object=kinds grantee=manuel"
  ]],
  ["REVOKE GRANT OPTION FOR SELECT ON t FROM u", [
    "revoke-grant-option role=u privs=SELECT type=table object=t grantee=u option=false"
  ]],
  ["REVOKE GRANT OPTION FOR ALL ON t FROM u CASCADE", [
    "revoke-grant-option role=u privs=ALL type=table object=t grantee=u option=false"
  ]],
  ["REVOKE UPDATE (col1) ON t FROM u", [
    "revoke role=u privs=UPDATE (col1) type=table object=t grantee=u"
  ]],
  ["REVOKE ALL ON ALL TABLES IN SCHEMA s FROM u", [
    "revoke role=u privs=ALL type=all tables in schema object=s grantee=u"
  ]],
  ["REVOKE CONNECT ON DATABASE d FROM PUBLIC", [
    "revoke role=PUBLIC privs=CONNECT type=database object=d grantee=PUBLIC"
  ]],
  ["REVOKE CREATE ON SCHEMA public FROM PUBLIC", [
    "revoke role=PUBLIC privs=CREATE type=schema object=public grantee=PUBLIC"
  ]],
  ["REVOKE EXECUTE ON FUNCTION f(int) FROM PUBLIC", [
    "revoke role=PUBLIC privs=EXECUTE type=function object=f(int4) grantee=PUBLIC"
  ]],
  ["REVOKE USAGE ON LANGUAGE sql FROM PUBLIC RESTRICT", [
    "revoke role=PUBLIC privs=USAGE type=language object=sql grantee=PUBLIC"
  ]],
  ["ALTER DEFAULT PRIVILEGES IN SCHEMA myschema GRANT SELECT ON TABLES TO PUBLIC", [
    "default-grant role=CURRENT_ROLE privs=SELECT type=tables object=myschema grantee=PUBLIC option=false"
  ]],
  ["ALTER DEFAULT PRIVILEGES IN SCHEMA myschema GRANT INSERT ON TABLES TO webuser", [
    "default-grant role=CURRENT_ROLE privs=INSERT type=tables object=myschema grantee=webuser option=false"
  ]],
  ["ALTER DEFAULT PRIVILEGES IN SCHEMA myschema REVOKE SELECT ON TABLES FROM PUBLIC", [
    "default-revoke role=CURRENT_ROLE privs=SELECT type=tables object=myschema grantee=PUBLIC"
  ]],
  ["ALTER DEFAULT PRIVILEGES FOR ROLE admin REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC", [
    "default-revoke role=admin privs=EXECUTE type=functions grantee=PUBLIC"
  ]],
  ["ALTER DEFAULT PRIVILEGES FOR ROLE a, b IN SCHEMA s1, s2 GRANT USAGE ON SEQUENCES TO u", [
    "default-grant role=a privs=USAGE type=sequences object=s1 grantee=u option=false",
    "default-grant role=a privs=USAGE type=sequences object=s2 grantee=u option=false",
    "default-grant role=b privs=USAGE type=sequences object=s1 grantee=u option=false",
    "default-grant role=b privs=USAGE type=sequences object=s2 grantee=u option=false"
  ]],
  ["ALTER DEFAULT PRIVILEGES GRANT USAGE ON TYPES TO u", [
    "default-grant role=CURRENT_ROLE privs=USAGE type=types grantee=u option=false"
  ]],
  ["ALTER DEFAULT PRIVILEGES GRANT CREATE ON SCHEMAS TO u WITH GRANT OPTION", [
    "default-grant role=CURRENT_ROLE privs=CREATE type=schemas grantee=u option=true"
  ]],
  ["ALTER DEFAULT PRIVILEGES REVOKE GRANT OPTION FOR SELECT ON TABLES FROM u", [
    "default-revoke-grant-option role=CURRENT_ROLE privs=SELECT type=tables grantee=u option=false"
  ]],
  ["ALTER DEFAULT PRIVILEGES FOR USER a GRANT EXECUTE ON ROUTINES TO u", [
    "default-grant role=a privs=EXECUTE type=functions grantee=u option=false"
  ]],
  ["REASSIGN OWNED BY doomed_role TO successor_role", [
    "reassign-owned role=doomed_role grantee=successor_role"
  ]],
  ["REASSIGN OWNED BY a, b TO CURRENT_USER", [
    "reassign-owned role=a grantee=CURRENT_USER",
    "reassign-owned role=b grantee=CURRENT_USER"
  ]],
  ["DROP OWNED BY doomed_role", [
    "drop-owned role=doomed_role"
  ]],
  ["DROP OWNED BY a, b CASCADE", [
    "drop-owned role=a",
    "drop-owned role=b"
  ]],
  ["SET ROLE paul", [
    "set-role value=paul type=session"
  ]],
  ["SET ROLE 'paul'", [
    "set-role value=paul type=session"
  ]],
  ["SET ROLE NONE", [
    "set-role value=none type=session"
  ]],
  ["SET LOCAL ROLE paul", [
    "set-role value=paul type=transaction"
  ]],
  ["SET SESSION ROLE paul", [
    "set-role value=paul type=session"
  ]],
  ["RESET ROLE", [
    "reset-role type=session"
  ]],
  ["SET SESSION AUTHORIZATION 'paul'", [
    "set-session-authorization value=paul type=session"
  ]],
  ["SET SESSION AUTHORIZATION DEFAULT", [
    "set-session-authorization value=DEFAULT type=session"
  ]],
  ["RESET SESSION AUTHORIZATION", [
    "set-session-authorization value=DEFAULT type=session"
  ]],
  ["SET pgaudit.log = 'none'", [
    "set-parameter attr=pgaudit.log value=none type=session"
  ]],
  ["SET pgaudit.log TO 'read, write'", [
    "set-parameter attr=pgaudit.log value=read, write type=session"
  ]],
  ["SET log_statement = 'none'", [
    "set-parameter attr=log_statement value=none type=session"
  ]],
  ["SET log_min_duration_statement = -1", [
    "set-parameter attr=log_min_duration_statement value=-1 type=session"
  ]],
  ["SET password_encryption = 'md5'", [
    "set-parameter attr=password_encryption value=md5 type=session"
  ]],
  ["SET LOCAL log_statement TO DEFAULT", [
    "set-parameter attr=log_statement value=DEFAULT type=transaction"
  ]],
  ["RESET pgaudit.log", [
    "reset-parameter attr=pgaudit.log type=session"
  ]],
  ["SET search_path = public", []],
  ["SET work_mem = '64MB'", []],
  ["SET session_replication_role = replica", [
    "set-parameter attr=session_replication_role value=replica type=session"
  ]],
  ["SET row_security = off", [
    "set-parameter attr=row_security value=off type=session"
  ]],
  ["ALTER SYSTEM SET pgaudit.log = 'none'", [
    "set-parameter attr=pgaudit.log value=none type=system"
  ]],
  ["ALTER SYSTEM SET log_connections = off", [
    "set-parameter attr=log_connections value=off type=system"
  ]],
  ["ALTER SYSTEM SET ssl = off", [
    "set-parameter attr=ssl value=off type=system"
  ]],
  ["ALTER SYSTEM SET ssl_min_protocol_version = 'TLSv1'", [
    "set-parameter attr=ssl_min_protocol_version value=TLSv1 type=system"
  ]],
  ["ALTER SYSTEM SET require_secure_transport = off", [
    "set-parameter attr=require_secure_transport value=off type=system"
  ]],
  ["ALTER SYSTEM SET password_encryption TO 'md5'", [
    "set-parameter attr=password_encryption value=md5 type=system"
  ]],
  ["ALTER SYSTEM SET wal_level = replica", [
    "set-parameter attr=wal_level value=replica type=system"
  ]],
  ["ALTER SYSTEM RESET log_statement", [
    "reset-parameter attr=log_statement type=system"
  ]],
  ["ALTER SYSTEM RESET ALL", [
    "reset-parameter attr=ALL type=system"
  ]],
  ["ALTER DATABASE d SET log_statement = 'none'", [
    "set-parameter attr=log_statement value=none type=database object=d"
  ]],
  ["ALTER DATABASE d SET pgaudit.log = 'none'", [
    "set-parameter attr=pgaudit.log value=none type=database object=d"
  ]],
  ["ALTER DATABASE d RESET log_statement", [
    "reset-parameter attr=log_statement type=database object=d"
  ]],
  ["ALTER DATABASE d SET search_path = s", []],
  ["CREATE EXTENSION pgaudit", [
    "create-extension type=extension object=pgaudit"
  ]],
  ["CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA ext", [
    "create-extension type=extension object=pgcrypto"
  ]],
  ["DROP EXTENSION pgaudit", [
    "drop-extension type=extension object=pgaudit"
  ]],
  ["DROP EXTENSION IF EXISTS a, b CASCADE", [
    "drop-extension type=extension object=a",
    "drop-extension type=extension object=b"
  ]],
  ["BEGIN; GRANT a TO b; COMMIT", [
    "grant-role role=b granted=a grantee=b option=false"
  ]],
  ["CREATE ROLE a; CREATE ROLE b; GRANT a TO b", [
    "create-role role=a value=ROLE",
    "create-role role=b value=ROLE",
    "grant-role role=b granted=a grantee=b option=false"
  ]],
  ["DO $$ BEGIN EXECUTE 'CREATE ROLE x LOGIN PASSWORD ''Hunter2!'''; END $$", [
    "create-role role=x value=ROLE",
    "set-attribute role=x attr=rolcanlogin value=true",
    "set-password role=x attr=has_password value=clear strength=len8"
  ]],
  ["DO $$ BEGIN CREATE ROLE y; GRANT y TO z; END $$", [
    "create-role role=y value=ROLE",
    "grant-role role=z granted=y grantee=z option=false"
  ]],
  ["DO $$ BEGIN EXECUTE 'CREATE ROLE ' || quote_ident(n); END $$", []],
  // Statements inside IF / ELSE / LOOP bodies: the idempotent provisioning scripts write them so.
  ["DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'x') THEN CREATE ROLE x NOLOGIN; END IF; END $$", [
    "create-role role=x value=ROLE",
    "set-attribute role=x attr=rolcanlogin value=false"
  ]],
  ["DO $$ BEGIN IF current_user = 'a' THEN NULL; ELSE ALTER ROLE q CREATEDB; END IF; END $$", [
    "set-attribute role=q attr=rolcreatedb value=true"
  ]],
  ["DO $$ BEGIN FOR i IN 1..2 LOOP GRANT a TO b; END LOOP; END $$", [
    "grant-role role=b granted=a grantee=b option=false"
  ]],
  ["DO LANGUAGE plpgsql $$ BEGIN EXECUTE 'ALTER ROLE q SUPERUSER'; END $$", [
    "set-attribute role=q attr=rolsuper value=true"
  ]],
  ["SELECT 1", []],
  ["CREATE TABLE t (id int)", []],
];

describe('changesFromStatement on PostgreSQL documentation forms', () => {
  it('covers at least 150 statements', () => assert.ok(documentationForms.length >= 150));
  for (const [sql, expected] of documentationForms) {
    it(sql, () => assert.deepEqual(changesFromStatement(sql, { truncated: false }).map(summarize), expected));
  }
});

/** pgaudit's text when the statement held a password: cut after the first `password`, whatever it was part of. */
const truncatedForms: [string, string | undefined, string[]][] = [
  ['alter role x password <REDACTED>', 'ALTER ROLE', [
    'set-password role=x attr=has_password value=unknown truncated=true uncertain=rolsuper|rolinherit|rolcreaterole|rolcreatedb|rolcanlogin|rolreplication|rolconnlimit|rolvaliduntil|rolbypassrls|has_password|memberships',
  ]],
  ['create role y login password <REDACTED>', 'CREATE ROLE', [
    'create-role role=y value=ROLE truncated=true',
    'set-attribute role=y attr=rolcanlogin value=true truncated=true',
    'set-password role=y attr=has_password value=unknown truncated=true uncertain=rolsuper|rolinherit|rolcreaterole|rolcreatedb|rolreplication|rolconnlimit|rolvaliduntil|rolbypassrls|has_password|memberships',
  ]],
  ['CREATE USER y WITH SUPERUSER CONNECTION LIMIT 3 ENCRYPTED PASSWORD <REDACTED>', 'CREATE ROLE', [
    'create-role role=y value=USER truncated=true',
    'set-attribute role=y attr=rolsuper value=true truncated=true',
    'set-attribute role=y attr=rolconnlimit value=3 truncated=true',
    'set-password role=y attr=has_password value=unknown truncated=true uncertain=rolinherit|rolcreaterole|rolcreatedb|rolcanlogin|rolreplication|rolvaliduntil|rolbypassrls|has_password|memberships',
  ]],
  // A role named like the keyword: the name itself is cut; only the command is left.
  ['create role "password <REDACTED>', 'CREATE ROLE', [
    'create-role truncated=true',
    'set-password attr=has_password value=unknown truncated=true uncertain=rolsuper|rolinherit|rolcreaterole|rolcreatedb|rolcanlogin|rolreplication|rolconnlimit|rolvaliduntil|rolbypassrls|has_password|memberships',
  ]],
  ['alter role password <REDACTED>', 'ALTER ROLE', [
    'alter-role truncated=true',
    'set-password attr=has_password value=unknown truncated=true uncertain=rolsuper|rolinherit|rolcreaterole|rolcreatedb|rolcanlogin|rolreplication|rolconnlimit|rolvaliduntil|rolbypassrls|has_password|memberships',
  ]],
  // `IN ROLE password_admins …`: tokens are dropped until the rest parses.
  ['create role z nologin in role password <REDACTED>', 'CREATE ROLE', [
    'create-role role=z value=ROLE truncated=true',
    'set-attribute role=z attr=rolcanlogin value=false truncated=true',
    'set-password role=z attr=has_password value=unknown truncated=true uncertain=rolsuper|rolinherit|rolcreaterole|rolcreatedb|rolreplication|rolconnlimit|rolvaliduntil|rolbypassrls|has_password|memberships',
  ]],
  ['alter user "Quoted Name" with nosuperuser PASSWORD <REDACTED>', undefined, [
    'set-attribute role=Quoted Name attr=rolsuper value=false truncated=true',
    'set-password role=Quoted Name attr=has_password value=unknown truncated=true uncertain=rolinherit|rolcreaterole|rolcreatedb|rolcanlogin|rolreplication|rolconnlimit|rolvaliduntil|rolbypassrls|has_password|memberships',
  ]],
];

describe('changesFromStatement on pgaudit-truncated text', () => {
  for (const [sql, command, expected] of truncatedForms) {
    it(sql, () => assert.deepEqual(changesFromStatement(sql, { truncated: true, command }).map(summarize), expected));
  }
});

describe('changesFromStatement safety', () => {
  it('reports a statement that does not parse as a ParseError without the offending token', () => {
    assert.throws(
      () => changesFromStatement("alter role x passwrd 'Hunter2!'", { truncated: false }),
      (e: unknown) => e instanceof ParseError && !e.message.includes('Hunter2'),
    );
  });
  it('never puts a password literal in a change', () => {
    const rows = changesFromStatement("create role a password 'S3cret-Value!'", { truncated: false });
    assert.ok(!JSON.stringify(rows).includes('S3cret-Value'));
    assert.deepEqual(rows[1]?.passwordStrength, {
      length: 13, hasLower: true, hasUpper: true, hasDigit: true, hasSpecial: true, isMd5Hash: false, isScramVerifier: false,
    });
  });
  it('returns transaction control in order with the changes', () => {
    const ops = analyzeStatement('begin; grant a to b; savepoint s1; rollback to s1; commit', { truncated: false });
    assert.deepEqual(ops.map((e) => (e.kind === 'transaction' ? e.tx.op : e.change.action)), ['begin', 'grant-role', 'savepoint', 'rollback-to', 'commit']);
  });
  it('returns the cached result for the same text', () => {
    const a = analyzeStatement('grant a to b', { truncated: false });
    assert.equal(analyzeStatement('grant a to b', { truncated: false }), a);
  });
});
