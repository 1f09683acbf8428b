/**
 * `auditduck roles`: the reconstructed pg_roles of each server, now (the `roles` table) or at any moment
 * (`at`): the latest snapshot taken at or before `at` as the base, the effective trail changes after it up
 * to `at` on top (no snapshot: the trail alone). Reads only through a QueryTarget, so it works on the
 * file and, while `auditduck run` holds it, through the running process's query API.
 */
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { rebuildRoles, type MembershipRow, type RoleBase, type RoleRow } from '../analyze/roles/rebuild-roles.js';
import { ROLE_BASE_SQL, roleBaseFromRows } from './role-base-rows.js';
import type { Rows } from './format-rows.js';
import type { QueryTarget } from './query-target.js';
import type { PlainValue } from './row-values.js';

export const ROLE_COLUMNS = [
  'server', 'rolname', 'rolsuper', 'rolinherit', 'rolcreaterole', 'rolcreatedb', 'rolcanlogin', 'rolreplication', 'rolconnlimit',
  'rolvaliduntil', 'rolbypassrls', 'has_password', 'created_at', 'created_by', 'password_changed_at', 'uncertain',
  'auth_kind', 'entra_type', 'entra_oid', 'entra_admin', 'entra_mfa',
] as const;

export const MEMBERSHIP_COLUMNS = ['server', 'role_name', 'member', 'admin_option', 'grantor', 'granted_at'] as const;

export interface RolesQuery {
  server?: string;
  at?: Date;
  memberships?: boolean;
}

export async function rolesAtTime(target: Pick<QueryTarget, 'run'>, q: RolesQuery): Promise<Rows> {
  const filter = q.server ? 'WHERE server = $server' : '';
  const params: Record<string, string> = q.server ? { server: q.server } : {};
  if (!q.at) {
    return q.memberships
      ? target.run(`SELECT ${MEMBERSHIP_COLUMNS.join(', ')} FROM role_memberships ${filter} ORDER BY server, role_name, member`, params)
      : target.run(`SELECT ${ROLE_COLUMNS.join(', ')} FROM roles ${filter} ORDER BY server, rolname`, params);
  }
  const at = q.at.toISOString();
  const servers = q.server
    ? [q.server]
    : (await target.run(`SELECT DISTINCT server FROM privilege_changes UNION SELECT DISTINCT server FROM snapshots ORDER BY 1`)).rows.map((r) => String(r.server));
  const roles: RoleRow[] = [];
  const memberships: MembershipRow[] = [];
  for (const server of servers) {
    const changes = (await target.run(
      `SELECT * FROM privilege_changes WHERE server = $server AND effective AND logged_at <= $at::TIMESTAMPTZ ORDER BY logged_at, seq`,
      { server, at },
    )).rows.map(toChange);
    const base = await baseAt(target, server, at);
    const rebuilt = rebuildRoles(changes, { at: q.at, ...(base ? { base } : {}) });
    roles.push(...rebuilt.roles);
    memberships.push(...rebuilt.memberships);
  }
  if (q.memberships) return { columns: [...MEMBERSHIP_COLUMNS], rows: memberships.map((m) => plainRow(MEMBERSHIP_COLUMNS, m)) };
  return { columns: [...ROLE_COLUMNS], rows: roles.map((r) => plainRow(ROLE_COLUMNS, r)) };
}

async function baseAt(target: Pick<QueryTarget, 'run'>, server: string, at: string): Promise<RoleBase | null> {
  const latest = (await target.run(
    `SELECT snapshot_id, taken_at FROM snapshots WHERE server = $server AND taken_at <= $at::TIMESTAMPTZ ORDER BY taken_at DESC LIMIT 1`,
    { server, at },
  )).rows[0];
  if (!latest) return null;
  const id = { id: String(latest.snapshot_id) };
  const roles = (await target.run(ROLE_BASE_SQL.roles, id)).rows;
  const members = (await target.run(ROLE_BASE_SQL.memberships, id)).rows;
  return roleBaseFromRows({ server, takenAt: new Date(String(latest.taken_at)) }, roles, members);
}

function toChange(r: Record<string, PlainValue>): PrivilegeChange {
  return {
    server: String(r.server),
    loggedAt: new Date(String(r.logged_at)),
    sessionId: str(r.session_id),
    actor: str(r.actor),
    actingRole: str(r.acting_role),
    action: String(r.action) as PrivilegeChange['action'],
    roleName: str(r.role_name),
    attribute: str(r.attribute),
    value: str(r.value),
    grantedRole: str(r.granted_role),
    privileges: Array.isArray(r.privileges) ? r.privileges.map(String) : null,
    objectType: str(r.object_type),
    objectName: str(r.object_name),
    grantee: str(r.grantee),
    withOption: bool(r.with_option),
    grantor: str(r.grantor),
    statement: str(r.statement) ?? '',
    effective: true,
    truncated: r.truncated === true,
    uncertain: Array.isArray(r.uncertain) ? r.uncertain.map(String) : null,
    passwordStrength: null,
    seq: Number(r.seq ?? 0),
  };
}

function plainRow(columns: readonly string[], row: RoleRow | MembershipRow): Record<string, PlainValue> {
  const out: Record<string, PlainValue> = {};
  for (const c of columns) {
    const v = (row as unknown as Record<string, unknown>)[c];
    out[c] = v instanceof Date ? v.toISOString() : (v as PlainValue) ?? null;
  }
  return out;
}

function str(v: PlainValue | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}

function bool(v: PlainValue | undefined): boolean | null {
  return v === null || v === undefined ? null : v === true || v === 'true';
}
