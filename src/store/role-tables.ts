/**
 * Keeps `roles` and `role_memberships` equal to a replay of each server's effective privilege changes,
 * on top of the server's latest live snapshot when there is one (src/snapshot reads it). Runs inside the
 * batch's transaction, for the servers whose changes the batch touched, and after each snapshot.
 */
import { DuckDBTimestampTZValue, DuckDBListValue, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { PrivilegeChange } from '../analyze/privileges/privilege-change.js';
import { rebuildRoles, type MembershipRow, type RoleBase, type RoleRow } from '../analyze/roles/rebuild-roles.js';
import { appendRows } from './append-rows.js';
import { ColumnarTable } from './columnar-table.js';
import { sqlString } from './sql-literal.js';
import { ROLE_MEMBERSHIPS, ROLES } from './table-specs.js';

type Append = (table: string, rows: ColumnarTable<typeof ROLES> | ColumnarTable<typeof ROLE_MEMBERSHIPS>) => Promise<void>;

/** What was last written for a server: each row by key, with its values, to write only what changed next time. */
export interface WrittenRoles {
  snapshotId: string | null;
  roles: Map<string, string>;
  memberships: Map<string, string>;
}

type RoleRowValues = Parameters<ColumnarTable<typeof ROLES>['push']>[0];
type MembershipRowValues = Parameters<ColumnarTable<typeof ROLE_MEMBERSHIPS>['push']>[0];

/**
 * Makes one server's `roles` and `role_memberships` the replay of `changes` (its effective changes, in
 * order) on `base` (its latest snapshot, if any). Given what it wrote last time (`previous`), it deletes and
 * inserts only the rows that differ: a batch usually touches a handful of roles of thousands.
 */
export async function writeRoleTables(
  connection: DuckDBConnection,
  server: string,
  changes: PrivilegeChange[],
  base: RoleBase | undefined,
  append: Append,
  previous?: WrittenRoles,
): Promise<WrittenRoles> {
  return writeRoleRows(connection, server, rebuildRoles(changes, base ? { base } : {}), base, append, previous);
}

/** Writes a replay's rows for one server: only those that differ from `previous` when it rests on the same snapshot. */
export async function writeRoleRows(
  connection: DuckDBConnection,
  server: string,
  { roles, memberships }: { roles: readonly RoleRow[]; memberships: readonly MembershipRow[] },
  base: RoleBase | undefined,
  append: Append,
  previous?: WrittenRoles,
): Promise<WrittenRoles> {
  const written: WrittenRoles = { snapshotId: base ? `${base.server}@${base.takenAt.toISOString()}` : null, roles: new Map(), memberships: new Map() };
  const roleRows = new Map<string, RoleRowValues>();
  for (const r of roles) {
    const row: RoleRowValues = [
      r.server, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
      r.rolconnlimit, r.rolvaliduntil, r.rolbypassrls, r.has_password, r.created_at, r.created_by, r.password_changed_at, r.uncertain,
      r.auth_kind, r.entra_type, r.entra_oid, r.entra_admin, r.entra_mfa,
    ];
    roleRows.set(r.rolname, row);
    written.roles.set(r.rolname, JSON.stringify(row));
  }
  const memberRows = new Map<string, MembershipRowValues>();
  for (const m of memberships) {
    const key = `${m.role_name}\u0000${m.member}`;
    const row: MembershipRowValues = [m.server, m.role_name, m.member, m.admin_option, m.grantor, m.granted_at];
    memberRows.set(key, row);
    written.memberships.set(key, JSON.stringify(row));
  }

  const incremental = previous !== undefined && previous.snapshotId === written.snapshotId;
  const staleRoles = incremental ? changedKeys(previous.roles, written.roles) : null;
  const staleMembers = incremental ? changedKeys(previous.memberships, written.memberships) : null;
  // Both tables' deletes in one round trip.
  const deletes =
    staleRoles === null || staleMembers === null
      ? [`DELETE FROM roles WHERE server = ${sqlString(server)}`, `DELETE FROM role_memberships WHERE server = ${sqlString(server)}`]
      : [deleteKeys('roles', ['rolname'], server, staleRoles.removed), deleteKeys('role_memberships', ['role_name', 'member'], server, staleMembers.removed)];
  const sql = deletes.filter((d) => d !== null).join('; ');
  if (sql !== '') await connection.run(sql);
  const roleTable = new ColumnarTable('roles', ROLES);
  for (const [key, row] of roleRows) if (staleRoles === null || staleRoles.added.has(key)) roleTable.push(row);
  const memberTable = new ColumnarTable('role_memberships', ROLE_MEMBERSHIPS);
  for (const [key, row] of memberRows) if (staleMembers === null || staleMembers.added.has(key)) memberTable.push(row);
  if (roleTable.size > 0) await append('roles', roleTable);
  if (memberTable.size > 0) await append('role_memberships', memberTable);
  return written;
}

/** Writes each server's role rows, remembering what it wrote so the next write touches only what changed. */
export class RoleTableWriter {
  private readonly written = new Map<string, WrittenRoles>();

  async write(connection: DuckDBConnection, server: string, rows: { roles: readonly RoleRow[]; memberships: readonly MembershipRow[] }, base: RoleBase | undefined): Promise<void> {
    const append: Append = (_table, table) => appendRows(connection, table);
    this.written.set(server, await writeRoleRows(connection, server, rows, base, append, this.written.get(server)));
  }

  /** What was written may not have committed: write each server in full next time. */
  forget(): void {
    this.written.clear();
  }
}

/** Keys whose row must go (gone or changed) and keys whose row must be written (new or changed). */
function changedKeys(before: Map<string, string>, after: Map<string, string>): { removed: Set<string>; added: Set<string> } {
  const removed = new Set<string>();
  const added = new Set<string>();
  for (const [key, value] of before) if (after.get(key) !== value) removed.add(key);
  for (const [key, value] of after) if (before.get(key) !== value) added.add(key);
  return { removed, added };
}

/** One DELETE for all the keys (a batch can change hundreds of roles), or none; a key's columns are joined with NUL. */
function deleteKeys(table: string, columns: string[], server: string, keys: ReadonlySet<string>): string | null {
  if (keys.size === 0) return null;
  const key = columns.join(` || chr(0) || `);
  return `DELETE FROM ${table} WHERE server = ${sqlString(server)} AND ${key} IN (${[...keys].map(sqlString).join(', ')})`;
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

/** A `privilege_changes` row (as `getRowObjects` reads it; other columns are ignored) as the analyzer produced it. */
export function toChange(r: Record<string, DuckDBValue>): PrivilegeChange {
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
