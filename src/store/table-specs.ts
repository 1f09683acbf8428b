import type { ColumnSpec } from './columnar-table.js';

/** Column order of the tables the ingest appends to; it must match migrations.ts. */
/** Log records other than audit lines, and the audit lines the log_records view could not render back (migrations 6 and 7). */
export const LOG_LINES = [
  ['server', 'varchar'], ['logged_at', 'timestamptz'], ['session_id', 'varchar'], ['pid', 'integer'],
  ['level', 'varchar'], ['sqlstate', 'varchar'], ['message', 'varchar'], ['detail', 'varchar'], ['hint', 'varchar'],
  ['statement', 'varchar'], ['kind', 'varchar'], ['source', 'varchar'], ['position', 'varchar'],
] as const satisfies ColumnSpec;

export const AUDIT_EVENTS = [
  ['server', 'varchar'], ['logged_at', 'timestamptz'], ['session_id', 'varchar'], ['pid', 'integer'],
  ['audit_type', 'varchar'], ['statement_id', 'bigint'], ['substatement_id', 'bigint'], ['class', 'varchar'],
  ['command', 'varchar'], ['object_type', 'varchar'], ['object_name', 'varchar'], ['statement', 'varchar'],
  ['parameter', 'varchar'], ['rows', 'bigint'], ['user_name', 'varchar'], ['database_name', 'varchar'],
  ['client_addr', 'varchar'], ['application_name', 'varchar'], ['level', 'varchar'], ['source', 'varchar'],
  ['position', 'varchar'], ['line_stored', 'boolean'], ['sqlstate', 'varchar'],
] as const satisfies ColumnSpec;

export const SESSIONS = [
  ['server', 'varchar'], ['session_id', 'varchar'], ['pid', 'integer'], ['started_at', 'timestamptz'],
  ['ended_at', 'timestamptz'], ['user_name', 'varchar'], ['database_name', 'varchar'], ['application_name', 'varchar'],
  ['client_addr', 'varchar'], ['client_port', 'integer'], ['auth_method', 'varchar'], ['auth_identity', 'varchar'],
  ['ssl', 'boolean'], ['ssl_protocol', 'varchar'], ['ssl_cipher', 'varchar'], ['replication', 'boolean'],
  ['local_client', 'boolean'],
] as const satisfies ColumnSpec;

export const AUTH_FAILURES = [
  ['server', 'varchar'], ['logged_at', 'timestamptz'], ['session_id', 'varchar'], ['pid', 'integer'],
  ['user_name', 'varchar'], ['database_name', 'varchar'], ['client_addr', 'varchar'], ['sqlstate', 'varchar'],
  ['reason', 'varchar'], ['detail', 'varchar'], ['role_exists', 'boolean'], ['source', 'varchar'], ['position', 'varchar'],
] as const satisfies ColumnSpec;

export const DEAD_LETTERS = [
  ['source', 'varchar'], ['position', 'varchar'], ['reason', 'varchar'], ['raw', 'varchar'], ['ingested_at', 'timestamptz'],
] as const satisfies ColumnSpec;

/** What late attribution filled into a session's stored rows (migration 15). */
export const ATTRIBUTION_FILLS = [
  ['server', 'varchar'], ['session_id', 'varchar'], ['user_name', 'varchar'], ['database_name', 'varchar'],
  ['client_addr', 'varchar'], ['application_name', 'varchar'], ['filled_at', 'timestamptz'], ['source', 'varchar'],
  ['position', 'varchar'],
] as const satisfies ColumnSpec;

export const SESSION_KEYS = [['server', 'varchar'], ['session_id', 'varchar']] as const satisfies ColumnSpec;

export const INEFFECTIVE_MARKS = [
  ['server', 'varchar'], ['session_id', 'varchar'], ['from_ts', 'timestamptz'], ['until_ts', 'timestamptz'], ['seq', 'bigint'],
] as const satisfies ColumnSpec;

export const PRIVILEGE_CHANGES = [
  ['server', 'varchar'], ['logged_at', 'timestamptz'], ['session_id', 'varchar'], ['actor', 'varchar'],
  ['acting_role', 'varchar'], ['action', 'varchar'], ['role_name', 'varchar'], ['attribute', 'varchar'], ['value', 'varchar'],
  ['granted_role', 'varchar'], ['privileges', 'varchar[]'], ['object_type', 'varchar'], ['object_name', 'varchar'],
  ['grantee', 'varchar'], ['with_option', 'boolean'], ['grantor', 'varchar'], ['statement', 'varchar'], ['effective', 'boolean'],
  ['truncated', 'boolean'], ['uncertain', 'varchar[]'], ['password_strength', 'json'], ['seq', 'bigint'],
  ['source', 'varchar'], ['position', 'varchar'],
] as const satisfies ColumnSpec;

export const ROLES = [
  ['server', 'varchar'], ['rolname', 'varchar'], ['rolsuper', 'boolean'], ['rolinherit', 'boolean'], ['rolcreaterole', 'boolean'],
  ['rolcreatedb', 'boolean'], ['rolcanlogin', 'boolean'], ['rolreplication', 'boolean'], ['rolconnlimit', 'integer'],
  ['rolvaliduntil', 'varchar'], ['rolbypassrls', 'boolean'], ['has_password', 'boolean'], ['created_at', 'timestamptz'],
  ['created_by', 'varchar'], ['password_changed_at', 'timestamptz'], ['uncertain', 'varchar[]'],
  ['auth_kind', 'varchar'], ['entra_type', 'varchar'], ['entra_oid', 'varchar'], ['entra_admin', 'boolean'], ['entra_mfa', 'boolean'],
] as const satisfies ColumnSpec;

export const ROLE_MEMBERSHIPS = [
  ['server', 'varchar'], ['role_name', 'varchar'], ['member', 'varchar'], ['admin_option', 'boolean'], ['grantor', 'varchar'],
  ['granted_at', 'timestamptz'],
] as const satisfies ColumnSpec;

export const CONTROL_PLANE_EVENTS = [
  ['server', 'varchar'], ['logged_at', 'timestamptz'], ['operation', 'varchar'], ['action', 'varchar'], ['status', 'varchar'],
  ['caller', 'varchar'], ['caller_type', 'varchar'], ['caller_role', 'varchar'], ['caller_ip', 'varchar'],
  ['correlation_id', 'varchar'], ['target', 'varchar'], ['requested_value', 'varchar'], ['requested_from', 'varchar'],
  ['subscription', 'varchar'], ['resource_group', 'varchar'], ['resource_id', 'varchar'], ['category', 'varchar'],
  ['level', 'varchar'], ['result_signature', 'varchar'], ['status_code', 'varchar'], ['duration_ms', 'bigint'],
  ['properties', 'json'], ['source', 'varchar'], ['position', 'varchar'],
] as const satisfies ColumnSpec;
