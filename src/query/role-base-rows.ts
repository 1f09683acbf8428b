/**
 * A live snapshot's rows as the base of a role replay (`RoleBase`): the SQL that reads them and the mapping,
 * shared by the ingest's replay (src/snapshot reads them on its connection) and `auditduck roles --at`
 * (through a QueryTarget, where values arrive as plain JSON).
 */
import type { RoleBase } from '../analyze/roles/rebuild-roles.js';

/** A column value of a snapshot row: as DuckDB gives it, or as the query API's plain JSON. */
type SnapshotValue = string | number | bigint | boolean | null | undefined | object;

/** The rows of a stored snapshot that make a replay base; both take the snapshot id as `$id`. */
export const ROLE_BASE_SQL = {
  roles: 'SELECT * FROM role_snapshots WHERE snapshot_id = $id ORDER BY rolname',
  memberships: 'SELECT * FROM membership_snapshots WHERE snapshot_id = $id ORDER BY role_name, member, grantor',
} as const;

/** The replay base made of a snapshot's rows (read with `ROLE_BASE_SQL`), however they were read. */
export function roleBaseFromRows(
  ref: { server: string; takenAt: Date },
  roles: readonly Record<string, SnapshotValue>[],
  members: readonly Record<string, SnapshotValue>[],
): RoleBase {
  return {
    server: ref.server,
    takenAt: ref.takenAt,
    roles: roles.map((r) => ({
      rolname: String(r.rolname), rolsuper: flag(r.rolsuper), rolinherit: flag(r.rolinherit), rolcreaterole: flag(r.rolcreaterole),
      rolcreatedb: flag(r.rolcreatedb), rolcanlogin: flag(r.rolcanlogin), rolreplication: flag(r.rolreplication),
      rolconnlimit: r.rolconnlimit === null || r.rolconnlimit === undefined ? null : Number(r.rolconnlimit), rolvaliduntil: text(r.rolvaliduntil),
      rolbypassrls: flag(r.rolbypassrls), has_password: flag(r.has_password), password_md5: flag(r.password_md5),
      // NULL auth_kind: pg_seclabels was not readable (or the snapshot predates migration 8): the trail's values stand.
      ...(r.auth_kind === null || r.auth_kind === undefined
        ? {}
        : { auth_kind: String(r.auth_kind), entra_type: text(r.entra_type), entra_oid: text(r.entra_oid), entra_admin: flag(r.entra_admin) }),
    })),
    memberships: members.map((m) => ({
      role_name: String(m.role_name), member: String(m.member), admin_option: flag(m.admin_option), grantor: text(m.grantor),
    })),
  };
}

function flag(v: SnapshotValue): boolean | null {
  return v === null || v === undefined ? null : v === true || v === 'true';
}

function text(v: SnapshotValue): string | null {
  return v === null || v === undefined ? null : String(v);
}
