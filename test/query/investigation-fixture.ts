/**
 * A small store for the saved-query tests: two servers, an intruder (mallory) who creates a superuser
 * backdoor at the weekend, grants to PUBLIC, silences pgaudit and fails to make alice superuser (rolled
 * back), a password spray from one host, and Azure's maintenance user. On the control plane mallory opens
 * the firewall to the internet first, fails to turn TLS enforcement off, and later deletes a diagnostic
 * setting. Rows go in with plain INSERTs into the real schema (openDatabase runs the migrations). "Now" for these rows is FIXTURE_NOW.
 */
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';

/** A Tuesday. */
export const FIXTURE_NOW = new Date('2026-11-24T12:00:00Z');

const PC_COLUMNS =
  'server, logged_at, session_id, actor, acting_role, action, role_name, attribute, value, granted_role, privileges, object_type, object_name, grantee, statement, effective, password_strength, seq';

export const FIXTURE_SQL = `
INSERT INTO roles (server, rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, rolvaliduntil, rolbypassrls, has_password, created_at, created_by, password_changed_at) VALUES
  ('pg-prod', 'postgres',  true,  true, false, false, true,  false, -1, NULL, false, true,  NULL, NULL, NULL),
  ('pg-prod', 'mallory',   false, true, true,  false, true,  false, -1, NULL, false, true,  '2026-10-01 09:00:00+00', 'postgres', '2026-11-01 08:30:00+00'),
  ('pg-prod', 'backdoor',  true,  true, false, false, true,  false, -1, NULL, false, true,  '2026-11-21 03:12:00.123+00', 'mallory', '2026-11-21 03:12:00.123+00'),
  ('pg-prod', 'alice',     false, true, false, false, true,  false, -1, NULL, false, true,  NULL, NULL, '2026-06-01 10:00:00+00'),
  ('pg-prod', 'reporting', false, true, false, false, true,  false, -1, NULL, false, true,  NULL, NULL, NULL),
  ('pg-prod', 'app_ro',    false, true, false, false, false, false, -1, NULL, false, false, NULL, NULL, NULL),
  ('pg-dev',  'dev_admin', true,  true, false, false, true,  false, -1, NULL, false, true,  NULL, NULL, '2026-11-20 14:00:00+00');

INSERT INTO role_memberships VALUES
  ('pg-prod', 'azure_pg_admin', 'alice', false, 'mallory', '2026-11-23 10:00:00+00'),
  ('pg-prod', 'app_ro', 'alice', false, NULL, NULL);

INSERT INTO privilege_changes (${PC_COLUMNS}) VALUES
  ('pg-prod', '2026-10-01 09:00:00+00', 'p1', 'postgres', NULL, 'create-role', 'mallory', NULL, 'scram-sha-256', NULL, NULL, NULL, NULL, NULL, 'create role mallory createrole login password <REDACTED>', true, NULL, 1),
  ('pg-prod', '2026-10-01 09:00:00+00', 'p1', 'postgres', NULL, 'set-attribute', 'mallory', 'rolcreaterole', 'true', NULL, NULL, NULL, NULL, NULL, 'create role mallory createrole login password <REDACTED>', true, NULL, 2),
  ('pg-prod', '2026-11-21 03:12:00.123+00', 'm1', 'mallory', NULL, 'create-role', 'backdoor', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'create role backdoor login password <REDACTED>', true, NULL, 3),
  ('pg-prod', '2026-11-21 03:12:00.123+00', 'm1', 'mallory', NULL, 'set-attribute', 'backdoor', 'rolcanlogin', 'true', NULL, NULL, NULL, NULL, NULL, 'create role backdoor login password <REDACTED>', true, NULL, 4),
  ('pg-prod', '2026-11-21 03:12:00.123+00', 'm1', 'mallory', NULL, 'set-password', 'backdoor', 'has_password', 'clear', NULL, NULL, NULL, NULL, NULL, 'create role backdoor login password <REDACTED>', true, '{"length":8,"classes":1}', 5),
  ('pg-prod', '2026-11-22 02:00:00+00', 'm1b', 'mallory', NULL, 'set-attribute', 'backdoor', 'rolsuper', 'true', NULL, NULL, NULL, NULL, NULL, 'alter role backdoor superuser', true, NULL, 6),
  ('pg-prod', '2026-11-23 10:00:00+00', 'm1c', 'mallory', NULL, 'grant-role', 'alice', NULL, NULL, 'azure_pg_admin', NULL, NULL, NULL, 'alice', 'grant azure_pg_admin to alice', true, NULL, 7),
  ('pg-prod', '2026-11-23 10:05:00+00', 'm1c', 'mallory', NULL, 'grant', NULL, NULL, NULL, NULL, ['SELECT'], 'table', 'public.salaries', 'PUBLIC', 'grant select on salaries to public', true, NULL, 8),
  ('pg-prod', '2026-11-23 10:30:00+00', 'm1c', 'mallory', NULL, 'revoke', NULL, NULL, NULL, NULL, ['SELECT'], 'table', 'public.salaries', 'PUBLIC', 'revoke select on salaries from public', true, NULL, 9),
  ('pg-prod', '2026-11-23 11:00:00+00', 's1', 'alice', NULL, 'default-grant', 'alice', NULL, NULL, NULL, ['SELECT'], 'table', 'reports', 'public', 'alter default privileges in schema reports grant select on tables to public', true, NULL, 10),
  ('pg-prod', '2026-11-23 20:00:00+00', 'm2', 'mallory', NULL, 'set-parameter', NULL, 'pgaudit.log', 'none', NULL, NULL, 'session', NULL, NULL, 'set pgaudit.log = ''none''', true, NULL, 11),
  ('pg-prod', '2026-11-23 20:05:00+00', 'm2', 'mallory', NULL, 'set-attribute', 'alice', 'rolsuper', 'true', NULL, NULL, NULL, NULL, NULL, 'alter role alice superuser', false, NULL, 12),
  ('pg-prod', '2026-11-24 09:00:00+00', 'p2', 'postgres', NULL, 'set-parameter', NULL, 'log_connections', 'off', NULL, NULL, 'system', NULL, NULL, 'alter system set log_connections = off', true, NULL, 13),
  ('pg-prod', '2026-11-24 09:10:00+00', 'p2', 'postgres', NULL, 'set-parameter', NULL, 'work_mem', '64MB', NULL, NULL, 'system', NULL, NULL, 'alter system set work_mem = ''64MB''', true, NULL, 14),
  ('pg-prod', '2026-11-24 09:15:00+00', 's1', 'alice', NULL, 'set-role', NULL, NULL, 'app_ro', NULL, NULL, 'session', NULL, NULL, 'set role app_ro', true, NULL, 15),
  ('pg-dev',  '2026-11-20 14:00:00+00', 'd1', 'dev_admin', NULL, 'set-password', 'dev_admin', 'has_password', 'scram-sha-256', NULL, NULL, NULL, NULL, NULL, 'alter role dev_admin password <REDACTED>', true, NULL, 16);

INSERT INTO sessions (server, session_id, pid, started_at, ended_at, user_name, database_name, application_name, client_addr, client_port, auth_method, ssl) VALUES
  ('pg-prod', 'a0',  100, '2026-06-01 12:00:00+00', '2026-06-01 12:30:00+00', 'alice',    'appdb',    'psql',              '10.0.0.5',    50001, 'scram-sha-256', true),
  ('pg-prod', 'p1',  101, '2026-10-01 08:55:00+00', NULL,                    'postgres', 'postgres', 'psql',              '10.0.0.2',    50002, 'scram-sha-256', true),
  ('pg-prod', 'm1',  102, '2026-11-21 03:10:00+00', NULL,                    'mallory',  'postgres', 'psql',              '203.0.113.7', 50003, 'scram-sha-256', false),
  ('pg-prod', 's1',  103, '2026-11-23 09:55:00+00', '2026-11-23 10:40:00+00', 'alice',    'appdb',    'psql',              '10.0.0.5',    50004, 'scram-sha-256', true),
  ('pg-prod', 'm2',  104, '2026-11-23 19:55:00+00', NULL,                    'mallory',  'postgres', 'pgAdmin 4',         '203.0.113.7', 50005, 'scram-sha-256', false),
  ('pg-prod', 'az1', 105, '2026-11-24 08:00:00+00', NULL,                    'azuresu',  'azure_maintenance', 'azure_maintenance', '127.0.0.1', 50006, 'trust', false),
  ('pg-prod', 'p2',  106, '2026-11-24 08:59:00+00', NULL,                    'postgres', 'postgres', 'psql',              '10.0.0.2',    50007, 'scram-sha-256', true),
  ('pg-dev',  'd1',  200, '2026-11-20 13:59:00+00', NULL,                    'dev_admin', 'devdb',   'DBeaver',           '10.1.0.9',    50008, 'scram-sha-256', NULL);

INSERT INTO auth_failures (server, logged_at, session_id, pid, user_name, database_name, client_addr, sqlstate, reason, role_exists, source, position) VALUES
  ('pg-prod', '2026-11-20 10:00:00+00', 'f0', 300, 'alice',     'appdb',    '10.0.0.5',      '28P01', 'password authentication failed', true,  'fixture', '1'),
  ('pg-prod', '2026-11-24 07:00:00+00', 'f1', 301, 'admin',     'postgres', '198.51.100.23', '28P01', 'password authentication failed', false, 'fixture', '2'),
  ('pg-prod', '2026-11-24 07:00:01+00', 'f2', 302, 'postgres',  'postgres', '198.51.100.23', '28P01', 'password authentication failed', true,  'fixture', '3'),
  ('pg-prod', '2026-11-24 07:00:02+00', 'f3', 303, 'reporting', 'postgres', '198.51.100.23', '28P01', 'password authentication failed', true,  'fixture', '4'),
  ('pg-prod', '2026-11-24 07:00:03+00', 'f4', 304, 'postgres',  'postgres', '198.51.100.23', '28P01', 'password authentication failed', true,  'fixture', '5'),
  ('pg-prod', '2026-11-24 10:00:00+00', 'f5', 305, 'alice',     'appdb',    '10.0.0.5',      '28P01', 'password authentication failed', true,  'fixture', '6');

INSERT INTO audit_events (server, logged_at, session_id, pid, audit_type, statement_id, substatement_id, class, command, object_type, object_name, statement, parameter, rows, user_name, database_name, client_addr, application_name, level, source, position) VALUES
  ('pg-prod', '2026-11-21 03:12:00.123+00', 'm1', 102, 'SESSION', 1, 1, 'ROLE', 'CREATE ROLE', NULL, NULL, 'create role backdoor login password <REDACTED>', '<none>', NULL, 'mallory', 'postgres', '203.0.113.7', 'psql', 'LOG', 'fixture', '10'),
  ('pg-prod', '2026-11-21 03:12:05+00', 'm1', 102, 'SESSION', 2, 1, 'READ', 'SELECT', 'TABLE', 'public.salaries', 'select * from salaries', '<none>', 10, 'mallory', 'postgres', '203.0.113.7', 'psql', 'LOG', 'fixture', '11'),
  ('pg-prod', '2026-11-23 10:00:00+00', 's1', 103, 'SESSION', 1, 1, 'READ', 'SELECT', NULL, NULL, 'select 1', '<none>', 1, 'alice', 'appdb', '10.0.0.5', 'psql', 'LOG', 'fixture', '12');

INSERT INTO control_plane_events (server, logged_at, operation, action, status, caller, caller_type, caller_ip, correlation_id, target, requested_value, requested_from, resource_id, source, position) VALUES
  ('pg-prod', '2026-11-21 03:05:00+00', 'microsoft.dbforpostgresql/flexibleservers/firewallrules/write', 'firewall-rule-write', 'start', 'mallory@contoso.com', 'upn', '203.0.113.7', 'c-fw', 'AllowAll', '0.0.0.0-255.255.255.255', 'request', '/subscriptions/8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10/resourcegroups/rg-data/providers/microsoft.dbforpostgresql/flexibleservers/pg-prod/firewallrules/allowall', 'fixture', '20'),
  ('pg-prod', '2026-11-21 03:05:40+00', 'microsoft.dbforpostgresql/flexibleservers/firewallrules/write', 'firewall-rule-write', 'success', 'mallory@contoso.com', 'upn', '203.0.113.7', 'c-fw', 'AllowAll', '0.0.0.0-255.255.255.255', 'start', '/subscriptions/8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10/resourcegroups/rg-data/providers/microsoft.dbforpostgresql/flexibleservers/pg-prod/firewallrules/allowall', 'fixture', '21'),
  ('pg-prod', '2026-11-21 03:06:00+00', 'microsoft.dbforpostgresql/flexibleservers/configurations/write', 'configuration-write', 'start', 'mallory@contoso.com', 'upn', '203.0.113.7', 'c-tls', 'require_secure_transport', 'OFF', 'request', '/subscriptions/8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10/resourcegroups/rg-data/providers/microsoft.dbforpostgresql/flexibleservers/pg-prod/configurations/require_secure_transport', 'fixture', '22'),
  ('pg-prod', '2026-11-21 03:06:20+00', 'microsoft.dbforpostgresql/flexibleservers/configurations/write', 'configuration-write', 'failure', 'mallory@contoso.com', 'upn', '203.0.113.7', 'c-tls', 'require_secure_transport', 'OFF', 'start', '/subscriptions/8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10/resourcegroups/rg-data/providers/microsoft.dbforpostgresql/flexibleservers/pg-prod/configurations/require_secure_transport', 'fixture', '23'),
  ('pg-prod', '2026-11-23 21:00:00+00', 'microsoft.insights/diagnosticsettings/delete', 'diagnostic-settings-delete', 'success', 'mallory@contoso.com', 'upn', '203.0.113.7', 'c-diag', 'to-eventhub', NULL, NULL, '/subscriptions/8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10/resourcegroups/rg-data/providers/microsoft.dbforpostgresql/flexibleservers/pg-prod/providers/microsoft.insights/diagnosticsettings/to-eventhub', 'fixture', '24'),
  ('pg-dev',  '2026-11-20 13:00:00+00', 'microsoft.dbforpostgresql/flexibleservers/restart/action', 'server-restart', 'success', '1f6b0c2a-5d3e-4e8f-9a71-2b4c6d8e0f13', 'appid', '20.50.1.2', 'c-rs', NULL, NULL, NULL, '/subscriptions/8d2f5a51-1c0e-4d7a-9c2e-3f6b1a7e9d10/resourcegroups/rg-data/providers/microsoft.dbforpostgresql/flexibleservers/pg-dev', 'fixture', '25');

INSERT INTO dead_letters VALUES
  ('eventhubs:hub/0', '17', 'event body is not valid JSON: Unexpected token', '{"records":[', '2026-11-24 08:00:00+00'),
  ('eventhubs:hub/0', '12', 'event body is not valid JSON: Unexpected token', 'xx', '2026-11-24 07:00:00+00'),
  ('eventhubs:hub/1', '5', 'record has no category', '{}', '2026-11-23 07:00:00+00'),
  ('eventhubs:hub/1', '1', 'record has no category', '{}', '2026-11-01 07:00:00+00');
INSERT INTO alerts (alert_id, rule_id, severity, server, first_seen, last_seen, actor, target, summary, status, dedup_key, count, acknowledged_at, acknowledged_by) VALUES
  (1, 'superuser-granted', 'critical', 'pg-prod', '2026-11-22 02:00:00+00', '2026-11-22 02:00:00+00', 'mallory', 'backdoor', 'mallory made backdoor superuser', 'open', 'a1', 1, NULL, NULL),
  (2, 'password-spray', 'high', 'pg-prod', '2026-11-24 07:00:00+00', '2026-11-24 07:00:03+00', NULL, '198.51.100.23', 'password spray from 198.51.100.23', 'acknowledged', 'a2', 4, '2026-11-24 08:00:00+00', 'soc'),
  (3, 'audit-disabled', 'high', 'pg-prod', '2026-11-23 20:00:00+00', '2026-11-23 20:00:00+00', 'mallory', 'pgaudit.log', 'pgaudit silenced in a session', 'open', 'a3', 1, NULL, NULL),
  (4, 'old-finding', 'low', 'pg-dev', '2026-11-01 00:00:00+00', '2026-11-01 00:00:00+00', 'dev_admin', 'dev_admin', 'an old finding', 'open', 'a4', 1, NULL, NULL);
INSERT INTO alert_changes (alert_id, server, session_id, logged_at, seq) VALUES
  (1, 'pg-prod', 'm1b', '2026-11-22 02:00:00+00', 6),
  (3, 'pg-prod', 'm2', '2026-11-23 20:00:00+00', 11);

`;

/** Creates the fixture store at `path` (migrated by openDatabase) and closes it. */
export async function buildInvestigationFixture(path: string): Promise<void> {
  const db = await openDatabase(path);
  try {
    await db.connection.run(FIXTURE_SQL);
  } finally {
    await closeDatabase(db);
  }
}
