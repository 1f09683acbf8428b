import type { SecretFinding } from '../../redact/secret-finding.js';

/**
 * What one statement changes, before the analyzer knows who, where and when. One value per atomic
 * change: a role attribute, a membership, one privilege set on one object for one grantee, a setting.
 */
export interface StatementChange {
  action: PrivilegeAction;
  /** The role the change is about (created, altered, dropped, the member of a role grant, FOR ROLE of default privileges). `CURRENT_USER`, `SESSION_USER`, `CURRENT_ROLE` stay as these keywords until the analyzer resolves them. */
  roleName: string | null;
  /** A `roles` column (`rolsuper` … `has_password`) or a parameter name for set/reset-parameter. */
  attribute: string | null;
  /** The new value as text; for passwords the kind (`clear`, `md5`, `scram-sha-256`, `null`, `unknown`), never the secret. */
  value: string | null;
  grantedRole: string | null;
  privileges: string[] | null;
  /** `table`, `schema`, `function`, … for grants; `system`, `database`, `role`, `session` for settings; `extension`. */
  objectType: string | null;
  objectName: string | null;
  /** Who receives or loses the privilege/membership; `PUBLIC` for public. */
  grantee: string | null;
  /** ADMIN OPTION (roles) or GRANT OPTION (objects). */
  withOption: boolean | null;
  /** GRANTED BY. */
  grantor: string | null;
  /** pgaudit cut the statement at `PASSWORD <REDACTED>`: only what came before is known. */
  truncated: boolean;
  /** On the password row of a truncated CREATE/ALTER ROLE: the attributes the hidden tail may have set (`memberships` for IN ROLE/ROLE/ADMIN). */
  uncertain: string[] | null;
  /** Strength of a clear-text password seen before redaction; the text itself is never kept. */
  passwordStrength: Omit<SecretFinding, 'kind'> | null;
}

export type PrivilegeAction =
  | 'create-role'
  | 'alter-role'
  | 'drop-role'
  | 'rename-role'
  | 'set-attribute'
  | 'set-password'
  | 'remove-password'
  | 'grant-role'
  | 'revoke-role'
  | 'revoke-admin-option'
  /** PostgreSQL 16+: REVOKE INHERIT|SET OPTION FOR; `attribute` names the option. */
  | 'revoke-role-option'
  | 'grant'
  | 'revoke'
  | 'revoke-grant-option'
  | 'default-grant'
  | 'default-revoke'
  | 'default-revoke-grant-option'
  | 'reassign-owned'
  | 'drop-owned'
  | 'set-role'
  | 'reset-role'
  | 'set-session-authorization'
  | 'set-parameter'
  | 'reset-parameter'
  | 'create-extension'
  | 'drop-extension';

/** A `privilege_changes` row (DESIGN.md) plus the analysis facts the rules and the rebuild need. */
export interface PrivilegeChange extends StatementChange {
  server: string;
  loggedAt: Date;
  sessionId: string | null;
  /** The session user (after SET SESSION AUTHORIZATION, that user); null when the session is not attributed yet. */
  actor: string | null;
  /** The current role after SET ROLE, when it differs from the session user. */
  actingRole: string | null;
  /** The redacted statement text. */
  statement: string;
  /** false once the change was rolled back or its transaction aborted (see the analyzer's `ineffective()`). */
  effective: boolean;
  /** Order of observation inside one analyzer; breaks ties between changes logged in the same millisecond. */
  seq: number;
}
