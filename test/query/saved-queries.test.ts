import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runReadOnly } from '../../src/query/read-only-query.js';
import type { PlainValue } from '../../src/query/row-values.js';
import { loadSavedQueries, parseSavedQuery, resolveParams, type SavedQuery } from '../../src/query/saved-queries.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/open-database.js';
import { buildInvestigationFixture, FIXTURE_NOW } from './investigation-fixture.js';

type Row = Record<string, PlainValue>;

interface Case {
  name: string;
  params?: Record<string, string>;
  /** Compare only these columns (wide queries); all columns otherwise. */
  pick?: string[];
  expected: Row[];
}

const T = (s: string) => new Date(s).toISOString();

/** Expected rows for every saved query on the fixture (FIXTURE_NOW = Tuesday 2026-11-24 12:00 UTC). */
const CASES: Case[] = [
  {
    name: 'admin-rights-now',
    expected: [
      { server: 'pg-dev', role_name: 'dev_admin', right_name: 'rolsuper', since: null, auth_kind: null, entra_type: null, managed_by: null },
      { server: 'pg-prod', role_name: 'alice', right_name: 'member of azure_pg_admin', since: T('2026-11-23T10:00:00Z'), auth_kind: null, entra_type: null, managed_by: null },
      { server: 'pg-prod', role_name: 'backdoor', right_name: 'rolsuper', since: T('2026-11-22T02:00:00Z'), auth_kind: null, entra_type: null, managed_by: null },
      { server: 'pg-prod', role_name: 'mallory', right_name: 'rolcreaterole', since: T('2026-10-01T09:00:00Z'), auth_kind: null, entra_type: null, managed_by: null },
      { server: 'pg-prod', role_name: 'postgres', right_name: 'rolsuper', since: null, auth_kind: null, entra_type: null, managed_by: null },
    ],
  },
  {
    name: 'admin-rights-now',
    params: { server: 'pg-prod', server_admin: 'alice' },
    pick: ['role_name', 'right_name'],
    expected: [
      { role_name: 'alice', right_name: 'member of azure_pg_admin' },
      { role_name: 'alice', right_name: 'server admin' },
      { role_name: 'backdoor', right_name: 'rolsuper' },
      { role_name: 'mallory', right_name: 'rolcreaterole' },
      { role_name: 'postgres', right_name: 'rolsuper' },
    ],
  },
  {
    name: 'admin-rights-now',
    params: { server: 'pg-dev' },
    expected: [{ server: 'pg-dev', role_name: 'dev_admin', right_name: 'rolsuper', since: null, auth_kind: null, entra_type: null, managed_by: null }],
  },
  {
    name: 'actor-changes',
    params: { actor: 'mallory' },
    pick: ['logged_at', 'action', 'role_name', 'effective'],
    expected: [
      { logged_at: T('2026-11-21T03:12:00.123Z'), action: 'create-role', role_name: 'backdoor', effective: true },
      { logged_at: T('2026-11-21T03:12:00.123Z'), action: 'set-attribute', role_name: 'backdoor', effective: true },
      { logged_at: T('2026-11-21T03:12:00.123Z'), action: 'set-password', role_name: 'backdoor', effective: true },
      { logged_at: T('2026-11-22T02:00:00Z'), action: 'set-attribute', role_name: 'backdoor', effective: true },
      { logged_at: T('2026-11-23T10:00:00Z'), action: 'grant-role', role_name: 'alice', effective: true },
      { logged_at: T('2026-11-23T10:05:00Z'), action: 'grant', role_name: null, effective: true },
      { logged_at: T('2026-11-23T10:30:00Z'), action: 'revoke', role_name: null, effective: true },
      { logged_at: T('2026-11-23T20:00:00Z'), action: 'set-parameter', role_name: null, effective: true },
      { logged_at: T('2026-11-23T20:05:00Z'), action: 'set-attribute', role_name: 'alice', effective: false },
    ],
  },
  {
    name: 'actor-changes',
    params: { actor: 'mallory', since: '2026-11-21T00:00:00Z', until: '2026-11-22T00:00:00Z' },
    pick: ['action', 'attribute', 'value'],
    expected: [
      { action: 'create-role', attribute: null, value: null },
      { action: 'set-attribute', attribute: 'rolcanlogin', value: 'true' },
      { action: 'set-password', attribute: 'has_password', value: 'clear' },
    ],
  },
  {
    name: 'role-history',
    params: { role: 'backdoor' },
    pick: ['logged_at', 'actor', 'action', 'attribute'],
    expected: [
      { logged_at: T('2026-11-21T03:12:00.123Z'), actor: 'mallory', action: 'create-role', attribute: null },
      { logged_at: T('2026-11-21T03:12:00.123Z'), actor: 'mallory', action: 'set-attribute', attribute: 'rolcanlogin' },
      { logged_at: T('2026-11-21T03:12:00.123Z'), actor: 'mallory', action: 'set-password', attribute: 'has_password' },
      { logged_at: T('2026-11-22T02:00:00Z'), actor: 'mallory', action: 'set-attribute', attribute: 'rolsuper' },
    ],
  },
  {
    name: 'public-grants',
    pick: ['logged_at', 'actor', 'action', 'privileges', 'object_name', 'revoked_later'],
    expected: [
      { logged_at: T('2026-11-23T10:05:00Z'), actor: 'mallory', action: 'grant', privileges: ['SELECT'], object_name: 'public.salaries', revoked_later: true },
      { logged_at: T('2026-11-23T11:00:00Z'), actor: 'alice', action: 'default-grant', privileges: ['SELECT'], object_name: 'reports', revoked_later: false },
    ],
  },
  {
    name: 'passwords-by-age',
    pick: ['server', 'role_name', 'age_days'],
    expected: [
      { server: 'pg-prod', role_name: 'postgres', age_days: null },
      { server: 'pg-prod', role_name: 'reporting', age_days: null },
      { server: 'pg-prod', role_name: 'alice', age_days: 176 },
      { server: 'pg-prod', role_name: 'mallory', age_days: 23 },
      { server: 'pg-dev', role_name: 'dev_admin', age_days: 4 },
      { server: 'pg-prod', role_name: 'backdoor', age_days: 3 },
    ],
  },
  {
    name: 'passwords-by-age',
    params: { min_age_days: '30', server: 'pg-prod' },
    pick: ['role_name', 'age_days'],
    expected: [
      { role_name: 'postgres', age_days: null },
      { role_name: 'reporting', age_days: null },
      { role_name: 'alice', age_days: 176 },
    ],
  },
  {
    name: 'login-roles-never-used',
    expected: [
      { server: 'pg-prod', role_name: 'backdoor', created_at: T('2026-11-21T03:12:00.123Z'), created_by: 'mallory', has_password: true, rolsuper: true },
      { server: 'pg-prod', role_name: 'reporting', created_at: null, created_by: null, has_password: true, rolsuper: false },
    ],
  },
  {
    name: 'failed-logins-by-user',
    expected: [
      { server: 'pg-prod', user_name: 'postgres', failures: 2, hosts: 1, first_failure: T('2026-11-24T07:00:01Z'), last_failure: T('2026-11-24T07:00:03Z'), role_exists: true },
      { server: 'pg-prod', user_name: 'admin', failures: 1, hosts: 1, first_failure: T('2026-11-24T07:00:00Z'), last_failure: T('2026-11-24T07:00:00Z'), role_exists: false },
      { server: 'pg-prod', user_name: 'alice', failures: 1, hosts: 1, first_failure: T('2026-11-24T10:00:00Z'), last_failure: T('2026-11-24T10:00:00Z'), role_exists: true },
      { server: 'pg-prod', user_name: 'reporting', failures: 1, hosts: 1, first_failure: T('2026-11-24T07:00:02Z'), last_failure: T('2026-11-24T07:00:02Z'), role_exists: true },
    ],
  },
  {
    name: 'failed-logins-by-user',
    params: { since: '7 days', server: 'pg-prod' },
    pick: ['user_name', 'failures'],
    expected: [
      { user_name: 'alice', failures: 2 },
      { user_name: 'postgres', failures: 2 },
      { user_name: 'admin', failures: 1 },
      { user_name: 'reporting', failures: 1 },
    ],
  },
  {
    name: 'failed-logins-by-host',
    expected: [
      { server: 'pg-prod', client_addr: '198.51.100.23', failures: 4, user_names: 3, users: ['admin', 'postgres', 'reporting'], first_failure: T('2026-11-24T07:00:00Z'), last_failure: T('2026-11-24T07:00:03Z') },
      { server: 'pg-prod', client_addr: '10.0.0.5', failures: 1, user_names: 1, users: ['alice'], first_failure: T('2026-11-24T10:00:00Z'), last_failure: T('2026-11-24T10:00:00Z') },
    ],
  },
  {
    name: 'sessions-without-tls',
    expected: [
      { server: 'pg-prod', user_name: 'mallory', database_name: 'postgres', client_addr: '203.0.113.7', application_name: 'pgAdmin 4', sessions: 1, first_started: T('2026-11-23T19:55:00Z'), last_started: T('2026-11-23T19:55:00Z') },
      { server: 'pg-prod', user_name: 'mallory', database_name: 'postgres', client_addr: '203.0.113.7', application_name: 'psql', sessions: 1, first_started: T('2026-11-21T03:10:00Z'), last_started: T('2026-11-21T03:10:00Z') },
    ],
  },
  {
    name: 'sessions-without-tls',
    params: { exclude_user: 'null' },
    pick: ['user_name', 'application_name'],
    expected: [
      { user_name: 'azuresu', application_name: 'azure_maintenance' },
      { user_name: 'mallory', application_name: 'pgAdmin 4' },
      { user_name: 'mallory', application_name: 'psql' },
    ],
  },
  {
    name: 'server-timeline',
    params: { server: 'pg-prod', since: '2026-11-21T00:00:00Z', until: '2026-11-22T00:00:00Z' },
    pick: ['logged_at', 'plane', 'kind', 'actor', 'source_addr', 'target', 'detail'],
    expected: [
      { logged_at: T('2026-11-21T03:05:00Z'), plane: 'control', kind: 'firewall-rule-write start', actor: 'mallory@contoso.com', source_addr: '203.0.113.7', target: 'AllowAll', detail: '0.0.0.0-255.255.255.255' },
      { logged_at: T('2026-11-21T03:05:40Z'), plane: 'control', kind: 'firewall-rule-write success', actor: 'mallory@contoso.com', source_addr: '203.0.113.7', target: 'AllowAll', detail: '0.0.0.0-255.255.255.255' },
      { logged_at: T('2026-11-21T03:06:00Z'), plane: 'control', kind: 'configuration-write start', actor: 'mallory@contoso.com', source_addr: '203.0.113.7', target: 'require_secure_transport', detail: 'OFF' },
      { logged_at: T('2026-11-21T03:06:20Z'), plane: 'control', kind: 'configuration-write failure', actor: 'mallory@contoso.com', source_addr: '203.0.113.7', target: 'require_secure_transport', detail: 'OFF' },
      { logged_at: T('2026-11-21T03:10:00Z'), plane: 'sql', kind: 'session', actor: 'mallory', source_addr: '203.0.113.7', target: 'postgres', detail: 'psql (no TLS)' },
      { logged_at: T('2026-11-21T03:12:00.123Z'), plane: 'sql', kind: 'ROLE CREATE ROLE', actor: 'mallory', source_addr: '203.0.113.7', target: null, detail: 'create role backdoor login password <REDACTED>' },
      { logged_at: T('2026-11-21T03:12:05Z'), plane: 'sql', kind: 'READ SELECT', actor: 'mallory', source_addr: '203.0.113.7', target: 'public.salaries', detail: 'select * from salaries' },
    ],
  },
  {
    name: 'control-plane-changes',
    pick: ['server', 'started_at', 'ended_at', 'action', 'target', 'status', 'requested_value', 'caller'],
    expected: [
      { server: 'pg-dev', started_at: T('2026-11-20T13:00:00Z'), ended_at: T('2026-11-20T13:00:00Z'), action: 'server-restart', target: null, status: 'success', requested_value: null, caller: '1f6b0c2a-5d3e-4e8f-9a71-2b4c6d8e0f13' },
      { server: 'pg-prod', started_at: T('2026-11-21T03:05:00Z'), ended_at: T('2026-11-21T03:05:40Z'), action: 'firewall-rule-write', target: 'AllowAll', status: 'success', requested_value: '0.0.0.0-255.255.255.255', caller: 'mallory@contoso.com' },
      { server: 'pg-prod', started_at: T('2026-11-21T03:06:00Z'), ended_at: T('2026-11-21T03:06:20Z'), action: 'configuration-write', target: 'require_secure_transport', status: 'failure', requested_value: 'OFF', caller: 'mallory@contoso.com' },
      { server: 'pg-prod', started_at: T('2026-11-23T21:00:00Z'), ended_at: T('2026-11-23T21:00:00Z'), action: 'diagnostic-settings-delete', target: 'to-eventhub', status: 'success', requested_value: null, caller: 'mallory@contoso.com' },
    ],
  },
  {
    name: 'control-plane-changes',
    params: { server: 'pg-prod', action: 'diagnostic-settings-delete' },
    pick: ['started_at', 'target', 'caller_ip'],
    expected: [{ started_at: T('2026-11-23T21:00:00Z'), target: 'to-eventhub', caller_ip: '203.0.113.7' }],
  },
  {
    name: 'security-setting-changes',
    pick: ['logged_at', 'actor', 'scope', 'parameter', 'value'],
    expected: [
      { logged_at: T('2026-11-23T20:00:00Z'), actor: 'mallory', scope: 'session', parameter: 'pgaudit.log', value: 'none' },
      { logged_at: T('2026-11-24T09:00:00Z'), actor: 'postgres', scope: 'system', parameter: 'log_connections', value: 'off' },
    ],
  },
  {
    name: 'first-time-users',
    expected: [{ server: 'pg-prod', user_name: 'azuresu', first_seen: T('2026-11-24T08:00:00Z'), sessions: 1, hosts: ['127.0.0.1'] }],
  },
  {
    name: 'first-time-users',
    params: { since: '4 days' },
    pick: ['server', 'user_name', 'first_seen', 'sessions'],
    expected: [
      { server: 'pg-dev', user_name: 'dev_admin', first_seen: T('2026-11-20T13:59:00Z'), sessions: 1 },
      { server: 'pg-prod', user_name: 'mallory', first_seen: T('2026-11-21T03:10:00Z'), sessions: 2 },
      { server: 'pg-prod', user_name: 'azuresu', first_seen: T('2026-11-24T08:00:00Z'), sessions: 1 },
    ],
  },
  {
    name: 'first-time-hosts',
    expected: [
      { server: 'pg-prod', client_addr: '198.51.100.23', first_seen: T('2026-11-24T07:00:00Z'), sessions: 0, failures: 4, users: ['admin', 'postgres', 'reporting'] },
      { server: 'pg-prod', client_addr: '127.0.0.1', first_seen: T('2026-11-24T08:00:00Z'), sessions: 1, failures: 0, users: ['azuresu'] },
    ],
  },
  {
    name: 'first-time-applications',
    expected: [
      { server: 'pg-prod', application_name: 'pgAdmin 4', first_seen: T('2026-11-23T19:55:00Z'), sessions: 1, users: ['mallory'] },
      { server: 'pg-prod', application_name: 'azure_maintenance', first_seen: T('2026-11-24T08:00:00Z'), sessions: 1, users: ['azuresu'] },
    ],
  },
  {
    name: 'session-activity',
    params: { session_id: 'm1' },
    pick: ['logged_at', 'statement_id', 'class', 'command', 'object_name', 'rows', 'user_name', 'client_addr'],
    expected: [
      { logged_at: T('2026-11-21T03:12:00.123Z'), statement_id: 1, class: 'ROLE', command: 'CREATE ROLE', object_name: null, rows: null, user_name: 'mallory', client_addr: '203.0.113.7' },
      { logged_at: T('2026-11-21T03:12:05Z'), statement_id: 2, class: 'READ', command: 'SELECT', object_name: 'public.salaries', rows: 10, user_name: 'mallory', client_addr: '203.0.113.7' },
    ],
  },
  {
    name: 'changes-outside-window',
    pick: ['logged_at', 'local_time', 'actor', 'action'],
    expected: [
      { logged_at: T('2026-11-21T03:12:00.123Z'), local_time: T('2026-11-21T03:12:00.123Z'), actor: 'mallory', action: 'create-role' },
      { logged_at: T('2026-11-21T03:12:00.123Z'), local_time: T('2026-11-21T03:12:00.123Z'), actor: 'mallory', action: 'set-attribute' },
      { logged_at: T('2026-11-21T03:12:00.123Z'), local_time: T('2026-11-21T03:12:00.123Z'), actor: 'mallory', action: 'set-password' },
      { logged_at: T('2026-11-22T02:00:00Z'), local_time: T('2026-11-22T02:00:00Z'), actor: 'mallory', action: 'set-attribute' },
      { logged_at: T('2026-11-23T20:00:00Z'), local_time: T('2026-11-23T20:00:00Z'), actor: 'mallory', action: 'set-parameter' },
      { logged_at: T('2026-11-23T20:05:00Z'), local_time: T('2026-11-23T20:05:00Z'), actor: 'mallory', action: 'set-attribute' },
    ],
  },
  {
    name: 'changes-outside-window',
    params: { window_end: '21:00', tz: 'Europe/Berlin', weekends: 'true', window_start: '04:00' },
    pick: ['logged_at', 'local_time', 'action'],
    expected: [
      // 03:12 UTC is 04:12 in Berlin (inside); 02:00 UTC Sunday is 03:00 (outside); 20:00 and 20:05 UTC are 21:00+ (outside).
      { logged_at: T('2026-11-22T02:00:00Z'), local_time: T('2026-11-22T03:00:00Z'), action: 'set-attribute' },
      { logged_at: T('2026-11-23T20:00:00Z'), local_time: T('2026-11-23T21:00:00Z'), action: 'set-parameter' },
      { logged_at: T('2026-11-23T20:05:00Z'), local_time: T('2026-11-23T21:05:00Z'), action: 'set-attribute' },
    ],
  },
  {
    name: 'rolled-back-changes',
    expected: [
      { server: 'pg-prod', logged_at: T('2026-11-23T20:05:00Z'), session_id: 'm2', client_addr: '203.0.113.7', application_name: 'pgAdmin 4', actor: 'mallory', action: 'set-attribute', role_name: 'alice', attribute: 'rolsuper', value: 'true', granted_role: null, grantee: null, statement: 'alter role alice superuser' },
    ],
  },
  {
    name: 'clear-text-passwords',
    expected: [
      { server: 'pg-prod', logged_at: T('2026-11-21T03:12:00.123Z'), actor: 'mallory', client_addr: '203.0.113.7', application_name: 'psql', session_id: 'm1', role_name: 'backdoor', password_kind: 'clear', password_strength: '{"length":8,"classes":1}', effective: true },
    ],
  },
  {
    name: 'dead-letters-by-reason',
    expected: [
      { reason: 'event body is not valid JSON: Unexpected token', source: 'eventhubs:hub/0', dead_letters: 2, first_position: '12', first_ingested: T('2026-11-24T07:00:00Z'), last_ingested: T('2026-11-24T08:00:00Z') },
      { reason: 'record has no category', source: 'eventhubs:hub/1', dead_letters: 1, first_position: '5', first_ingested: T('2026-11-23T07:00:00Z'), last_ingested: T('2026-11-23T07:00:00Z') },
    ],
  },
  {
    name: 'activity-totals',
    // open_alerts counts alert 4 too: open, though last seen weeks before the range (an open alert never ages out).
    expected: [{ audit_events: 3, privilege_changes: 13, failed_logins: 6, sessions: 6, open_alerts: 3 }],
  },
  {
    name: 'admin-through-memberships',
    pick: ['server', 'role_name', 'power_role', 'hops', 'via'],
    expected: [
      { server: 'pg-dev', role_name: 'dev_admin', power_role: 'dev_admin', hops: 0, via: 'dev_admin' },
      { server: 'pg-prod', role_name: 'alice', power_role: 'azure_pg_admin', hops: 1, via: 'alice → azure_pg_admin' },
      { server: 'pg-prod', role_name: 'azure_pg_admin', power_role: 'azure_pg_admin', hops: 0, via: 'azure_pg_admin' },
      { server: 'pg-prod', role_name: 'backdoor', power_role: 'backdoor', hops: 0, via: 'backdoor' },
      { server: 'pg-prod', role_name: 'mallory', power_role: 'mallory', hops: 0, via: 'mallory' },
      { server: 'pg-prod', role_name: 'postgres', power_role: 'postgres', hops: 0, via: 'postgres' },
    ],
  },
  {
    name: 'alert-list',
    pick: ['alert_id', 'status', 'severity', 'count', 'acknowledged_by'],
    expected: [
      { alert_id: 2, status: 'acknowledged', severity: 'high', count: 4, acknowledged_by: 'soc' },
      { alert_id: 3, status: 'open', severity: 'high', count: 1, acknowledged_by: null },
      { alert_id: 1, status: 'open', severity: 'critical', count: 1, acknowledged_by: null },
      // Last seen 2026-11-01, before the 7 days: listed because it is still open.
      { alert_id: 4, status: 'open', severity: 'low', count: 1, acknowledged_by: null },
    ],
  },
  {
    name: 'alert-list',
    params: { status: 'open' },
    pick: ['alert_id'],
    expected: [{ alert_id: 3 }, { alert_id: 1 }, { alert_id: 4 }],
  },
  {
    name: 'alerts-by-severity',
    expected: [
      { severity: 'critical', alerts: 1, open_alerts: 1 },
      { severity: 'high', alerts: 2, open_alerts: 1 },
      { severity: 'low', alerts: 1, open_alerts: 1 },
    ],
  },
  {
    name: 'audit-volume-over-time',
    expected: [
      { bucket: T('2026-11-21T03:00:00Z'), series: 'READ', events: 1 },
      { bucket: T('2026-11-21T03:00:00Z'), series: 'ROLE', events: 1 },
      { bucket: T('2026-11-23T10:00:00Z'), series: 'READ', events: 1 },
    ],
  },
  {
    name: 'auth-failures-over-time',
    expected: [
      { bucket: T('2026-11-20T10:00:00Z'), series: 'alice', failures: 1 },
      { bucket: T('2026-11-24T07:00:00Z'), series: 'admin', failures: 1 },
      { bucket: T('2026-11-24T07:00:00Z'), series: 'postgres', failures: 2 },
      { bucket: T('2026-11-24T07:00:00Z'), series: 'reporting', failures: 1 },
      { bucket: T('2026-11-24T10:00:00Z'), series: 'alice', failures: 1 },
    ],
  },
  {
    name: 'recent-privilege-changes',
    params: { max_rows: '3' },
    pick: ['logged_at', 'action', 'attribute'],
    expected: [
      { logged_at: T('2026-11-24T09:15:00Z'), action: 'set-role', attribute: null },
      { logged_at: T('2026-11-24T09:10:00Z'), action: 'set-parameter', attribute: 'work_mem' },
      { logged_at: T('2026-11-24T09:00:00Z'), action: 'set-parameter', attribute: 'log_connections' },
    ],
  },
  {
    name: 'role-alerts',
    params: { role: 'mallory' },
    pick: ['alert_id', 'rule_id', 'target'],
    expected: [
      { alert_id: 3, rule_id: 'audit-disabled', target: 'pgaudit.log' },
      { alert_id: 1, rule_id: 'superuser-granted', target: 'backdoor' },
    ],
  },
  {
    name: 'role-inventory',
    params: { server: 'pg-dev' },
    expected: [
      {
        server: 'pg-dev', rolname: 'dev_admin', rolsuper: true, rolcreaterole: false, rolcreatedb: false, rolcanlogin: true, rolreplication: false,
        rolbypassrls: false, rolinherit: true, rolconnlimit: -1, rolvaliduntil: null, has_password: true, created_at: null, created_by: null,
        password_changed_at: T('2026-11-20T14:00:00Z'), uncertain: [], auth_kind: null, entra_type: null, entra_oid: null, entra_admin: null,
        entra_mfa: null,
      },
    ],
  },
  {
    name: 'role-membership-graph',
    expected: [
      { server: 'pg-prod', member: 'alice', role_name: 'app_ro', admin_option: false, grantor: null, granted_at: null },
      { server: 'pg-prod', member: 'alice', role_name: 'azure_pg_admin', admin_option: false, grantor: 'mallory', granted_at: T('2026-11-23T10:00:00Z') },
    ],
  },
  {
    name: 'role-sessions',
    params: { role: 'alice' },
    pick: ['session_id', 'started_at', 'client_addr', 'ssl'],
    expected: [
      { session_id: 's1', started_at: T('2026-11-23T09:55:00Z'), client_addr: '10.0.0.5', ssl: true },
      { session_id: 'a0', started_at: T('2026-06-01T12:00:00Z'), client_addr: '10.0.0.5', ssl: true },
    ],
  },
  {
    name: 'recent-privilege-changes',
    params: { since: '3 days', max_rows: '3' },
    pick: ['logged_at', 'actor', 'client_addr', 'application_name', 'session_id'],
    expected: [
      { logged_at: T('2026-11-24T09:15:00Z'), actor: 'alice', client_addr: '10.0.0.5', application_name: 'psql', session_id: 's1' },
      { logged_at: T('2026-11-24T09:10:00Z'), actor: 'postgres', client_addr: '10.0.0.2', application_name: 'psql', session_id: 'p2' },
      { logged_at: T('2026-11-24T09:00:00Z'), actor: 'postgres', client_addr: '10.0.0.2', application_name: 'psql', session_id: 'p2' },
    ],
  },
  {
    name: 'actor-changes',
    params: { actor: 'mallory', server: 'pg-prod', since: '2026-11-23T00:00:00Z' },
    pick: ['logged_at', 'session_id', 'client_addr', 'application_name', 'action'],
    expected: [
      // Session m1c never logged its connection: where it came from is unknown, not guessed.
      { logged_at: T('2026-11-23T10:00:00Z'), session_id: 'm1c', client_addr: null, application_name: null, action: 'grant-role' },
      { logged_at: T('2026-11-23T10:05:00Z'), session_id: 'm1c', client_addr: null, application_name: null, action: 'grant' },
      { logged_at: T('2026-11-23T10:30:00Z'), session_id: 'm1c', client_addr: null, application_name: null, action: 'revoke' },
      { logged_at: T('2026-11-23T20:00:00Z'), session_id: 'm2', client_addr: '203.0.113.7', application_name: 'pgAdmin 4', action: 'set-parameter' },
      { logged_at: T('2026-11-23T20:05:00Z'), session_id: 'm2', client_addr: '203.0.113.7', application_name: 'pgAdmin 4', action: 'set-attribute' },
    ],
  },
  {
    name: 'role-addresses',
    params: { role: 'alice' },
    expected: [
      { server: 'pg-prod', client_addr: '10.0.0.5', sessions: 2, failures: 2, applications: ['psql'], first_seen: T('2026-06-01T12:00:00Z'), last_seen: T('2026-11-24T10:00:00Z') },
    ],
  },
  {
    name: 'session-info',
    params: { session_id: 'm2' },
    pick: ['server', 'user_name', 'client_addr', 'application_name', 'ssl', 'statements', 'privilege_changes', 'alerts'],
    expected: [{ server: 'pg-prod', user_name: 'mallory', client_addr: '203.0.113.7', application_name: 'pgAdmin 4', ssl: false, statements: 0, privilege_changes: 2, alerts: 1 }],
  },
  {
    name: 'session-changes',
    params: { session_id: 'm1' },
    pick: ['logged_at', 'action', 'role_name', 'attribute'],
    expected: [
      { logged_at: T('2026-11-21T03:12:00.123Z'), action: 'create-role', role_name: 'backdoor', attribute: null },
      { logged_at: T('2026-11-21T03:12:00.123Z'), action: 'set-attribute', role_name: 'backdoor', attribute: 'rolcanlogin' },
      { logged_at: T('2026-11-21T03:12:00.123Z'), action: 'set-password', role_name: 'backdoor', attribute: 'has_password' },
    ],
  },
  {
    name: 'session-alerts',
    params: { session_id: 'm2' },
    expected: [{ alert_id: 3, severity: 'high', status: 'open', summary: 'pgaudit silenced in a session', rule_id: 'audit-disabled', server: 'pg-prod', last_seen: T('2026-11-23T20:00:00Z') }],
  },
  {
    name: 'address-sessions',
    params: { client_addr: '203.0.113.7' },
    pick: ['session_id', 'user_name', 'application_name', 'privilege_changes'],
    expected: [
      { session_id: 'm2', user_name: 'mallory', application_name: 'pgAdmin 4', privilege_changes: 2 },
      { session_id: 'm1', user_name: 'mallory', application_name: 'psql', privilege_changes: 3 },
    ],
  },
  {
    name: 'address-failures',
    params: { client_addr: '198.51.100.23' },
    pick: ['user_name', 'failures', 'role_exists'],
    expected: [
      { user_name: 'postgres', failures: 2, role_exists: true },
      { user_name: 'admin', failures: 1, role_exists: false },
      { user_name: 'reporting', failures: 1, role_exists: true },
    ],
  },
  {
    name: 'setting-history',
    params: { parameter: 'pgaudit.log' },
    pick: ['logged_at', 'plane', 'value', 'actor', 'session_id', 'client_addr', 'application_name'],
    expected: [{ logged_at: T('2026-11-23T20:00:00Z'), plane: 'sql', value: 'none', actor: 'mallory', session_id: 'm2', client_addr: '203.0.113.7', application_name: 'pgAdmin 4' }],
  },
  {
    name: 'setting-history',
    params: { parameter: 'REQUIRE_SECURE_TRANSPORT' },
    pick: ['logged_at', 'plane', 'action', 'value', 'effective', 'actor', 'client_addr'],
    expected: [
      { logged_at: T('2026-11-21T03:06:00Z'), plane: 'control', action: 'configuration-write', value: 'OFF', effective: false, actor: 'mallory@contoso.com', client_addr: '203.0.113.7' },
      { logged_at: T('2026-11-21T03:06:20Z'), plane: 'control', action: 'configuration-write', value: 'OFF', effective: false, actor: 'mallory@contoso.com', client_addr: '203.0.113.7' },
    ],
  },
  {
    name: 'spray-sources',
    expected: [
      { server: 'pg-prod', client_addr: '198.51.100.23', user_names: 3, failures: 4, users: ['admin', 'postgres', 'reporting'], first_failure: T('2026-11-24T07:00:00Z'), last_failure: T('2026-11-24T07:00:03Z') },
    ],
  },
];

describe('saved queries on the investigation fixture', () => {
  let dir: string;
  let db: Database;
  const queries = loadSavedQueries();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'auditduck-saved-'));
    await buildInvestigationFixture(join(dir, 'fixture.duckdb'));
    db = await openDatabase(join(dir, 'fixture.duckdb'), { readOnly: true });
  });
  after(async () => {
    await closeDatabase(db);
    rmSync(dir, { recursive: true, force: true });
  });

  test('there are at least 15 saved queries, each with a description, and every one has a case here', () => {
    assert.ok(queries.length >= 15, `only ${queries.length} saved queries`);
    for (const q of queries) {
      assert.ok(q.description.length > 20, `${q.name} says too little about what it answers`);
      assert.ok(CASES.some((c) => c.name === q.name), `${q.name} has no expected rows in CASES`);
    }
  });

  for (const c of CASES) {
    test(`${c.name} ${c.params ? JSON.stringify(c.params) : '(defaults)'} returns the expected rows`, async () => {
      const query = queries.find((q) => q.name === c.name) as SavedQuery;
      assert.ok(query, `no saved query ${c.name}`);
      const { rows } = await runReadOnly(db.connection, query.sql, resolveParams(query, c.params ?? {}, FIXTURE_NOW));
      const actual = c.pick ? rows.map((r) => Object.fromEntries(c.pick!.map((k) => [k, r[k] ?? null]))) : rows;
      assert.deepEqual(actual, c.expected);
    });
  }
});

describe('saved query headers', () => {
  const text = [
    '-- Who did it.',
    '-- Second line.',
    "-- @param since time = '7 days' : start",
    '-- @param who text',
    "-- @param quote text = 'it''s' : a quoted default",
    '-- @param server text = null',
    "SELECT $who, $since, $quote, $server",
  ].join('\n');

  test('the description, parameters with types and defaults, and the SQL are read from the header', () => {
    const q = parseSavedQuery('who', text);
    assert.equal(q.description, 'Who did it. Second line.');
    assert.deepEqual(q.params.map((p) => [p.name, p.type, p.defaultValue]), [
      ['since', 'time', '7 days'], ['who', 'text', undefined], ['quote', 'text', "it's"], ['server', 'text', null],
    ]);
    assert.equal(q.sql, 'SELECT $who, $since, $quote, $server');
  });

  test('a time parameter becomes an ISO instant: a duration counts back from now, a time stays that time', () => {
    const q = parseSavedQuery('who', text);
    const now = new Date('2026-11-24T12:00:00Z');
    assert.deepEqual(resolveParams(q, { who: 'x' }, now), { since: '2026-11-17T12:00:00.000Z', who: 'x', quote: "it's", server: null });
    assert.equal(resolveParams(q, { who: 'x', since: '36h' }, now).since, '2026-11-23T00:00:00.000Z');
    assert.equal(resolveParams(q, { who: 'x', since: '2026-11-01' }, now).since, '2026-11-01T00:00:00.000Z');
  });

  test('a missing required parameter, an unknown one, or a bad value is an error that names it', () => {
    const q = parseSavedQuery('who', text);
    assert.throws(() => resolveParams(q, {}), /needs --param who=VALUE/);
    assert.throws(() => resolveParams(q, { who: 'x', nope: '1' }), /no parameter "nope"/);
    assert.throws(() => resolveParams(q, { who: 'x', since: 'yesterday-ish' }), /since="yesterday-ish" is not a time/);
  });

  test('a parameter used but not declared, or declared but not used, is refused when the file is read', () => {
    assert.throws(() => parseSavedQuery('x', '-- Something useful.\nSELECT $a'), /\$a is used but not declared/);
    assert.throws(() => parseSavedQuery('x', '-- Something useful.\n-- @param a = 1\nSELECT 1'), /a is declared but \$a is not used/);
    assert.throws(() => parseSavedQuery('x', 'SELECT 1'), /must say what the query answers/);
  });

  test('a value is bound as data, never spliced into the SQL', async () => {
    const db = await openDatabase(':memory:');
    try {
      const q = parseSavedQuery('echo', "-- Echo a value back.\n-- @param v text\nSELECT $v AS v");
      const evil = "x'; DROP TABLE audit_events; --";
      const { rows } = await runReadOnly(db.connection, q.sql, resolveParams(q, { v: evil }));
      assert.deepEqual(rows, [{ v: evil }]);
    } finally {
      await closeDatabase(db);
    }
  });
});
