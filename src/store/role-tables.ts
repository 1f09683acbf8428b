/**
 * Keeps `roles` and `role_memberships` equal to a replay of each server's effective privilege changes,
 * on top of the server's latest live snapshot when there is one (src/snapshot). Runs inside the batch's
 * transaction, for the servers whose changes the batch touched, and after each snapshot.
 */
import { DuckDBTimestampTZValue, DuckDBListValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { rebuildRoles } from '../analyze/roles/rebuild-roles.js';
import { ColumnarTable } from './columnar-table.js';
import { latestSnapshot, loadRoleBase } from './snapshot-tables.js';
import { ROLE_MEMBERSHIPS, ROLES } from './table-specs.js';

type Append = (table: string, rows: ColumnarTable<typeof ROLES> | ColumnarTable<typeof ROLE_MEMBERSHIPS>) => Promise<void>;

/** Replaces one server's `roles` and `role_memberships` with the replay of `changes` (its effective changes, in order). */
export async function writeRoleTables(connection: DuckDBConnection, server: string, changes: PrivilegeChange[], append: Append): Promise<void> {
  // A live snapshot is exact at its time: the replay starts from the latest one (src/snapshot).
  const snapshot = await latestSnapshot(connection, server);
  const base = snapshot ? await loadRoleBase(connection, snapshot) : undefined;
  const { roles, memberships } = rebuildRoles(changes, base ? { base } : {});
  const roleRows = new ColumnarTable('roles', ROLES);
  for (const r of roles) {
    roleRows.push([
      r.server, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
      r.rolconnlimit, r.rolvaliduntil, r.rolbypassrls, r.has_password, r.created_at, r.created_by, r.password_changed_at, r.uncertain,
    ]);
  }
  const memberRows = new ColumnarTable('role_memberships', ROLE_MEMBERSHIPS);
  for (const m of memberships) memberRows.push([m.server, m.role_name, m.member, m.admin_option, m.grantor, m.granted_at]);
  for (const table of ['roles', 'role_memberships']) {
    const del = await connection.prepare(`DELETE FROM ${table} WHERE server = $1`);
    del.bindVarchar(1, server);
    await del.run();
  }
  if (roleRows.size > 0) await append('roles', roleRows);
  if (memberRows.size > 0) await append('role_memberships', memberRows);
}

/** The effective changes of one server, in the order they happened, as the analyzer produced them. */
export async function readEffectiveChanges(connection: DuckDBConnection, server: string, until?: Date): Promise<PrivilegeChange[]> {
  const stmt = await connection.prepare(
    `SELECT * FROM privilege_changes WHERE server = $1 AND effective ${until ? 'AND logged_at <= $2' : ''} ORDER BY logged_at, seq`,
  );
  stmt.bindVarchar(1, server);
  if (until) stmt.bindTimestampTZ(2, new DuckDBTimestampTZValue(BigInt(until.getTime()) * 1000n));
  const rows = (await stmt.runAndReadAll()).getRowObjects();
  return rows.map(toChange);
}

function toChange(r: Record<string, DuckDBValue>): PrivilegeChange {
  return {
    server: str(r.server)!,
    loggedAt: date(r.logged_at)!,
    sessionId: str(r.session_id),
    actor: str(r.actor),
    actingRole: str(r.acting_role),
    action: str(r.action) as PrivilegeChange['action'],
    roleName: str(r.role_name),
    attribute: str(r.attribute),
    value: str(r.value),
    grantedRole: str(r.granted_role),
    privileges: list(r.privileges),
    objectType: str(r.object_type),
    objectName: str(r.object_name),
    grantee: str(r.grantee),
    withOption: r.with_option === null ? null : Boolean(r.with_option),
    grantor: str(r.grantor),
    statement: str(r.statement) ?? '',
    effective: Boolean(r.effective),
    truncated: Boolean(r.truncated),
    uncertain: list(r.uncertain),
    passwordStrength: r.password_strength === null ? null : JSON.parse(String(r.password_strength)),
    seq: Number(r.seq ?? 0),
  };
}

function str(v: DuckDBValue | undefined): string | null {
  return v === null || v === undefined ? null : String(v);
}

function date(v: DuckDBValue | undefined): Date | null {
  return v instanceof DuckDBTimestampTZValue ? new Date(Number(v.micros / 1000n)) : null;
}

function list(v: DuckDBValue | undefined): string[] | null {
  return v instanceof DuckDBListValue ? v.items.map((i) => String(i)) : null;
}
