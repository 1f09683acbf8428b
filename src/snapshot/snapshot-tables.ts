/**
 * Writing and reading the live snapshots (migration 3): one `snapshots` row per read of a server, its
 * roles, memberships, role-level settings and settings beside it, all keyed by `snapshot_id`.
 */
import { randomUUID } from 'node:crypto';
import { DuckDBListValue, DuckDBTimestampTZValue, LIST, VARCHAR, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { RoleBase } from '../analyze/roles/rebuild-roles.js';
import { ROLE_BASE_SQL, roleBaseFromRows } from '../query/role-base-rows.js';
import { appendRows } from '../store/append-rows.js';
import { ColumnarTable, type ColumnSpec } from '../store/columnar-table.js';
import type { DriftRow } from './drift.js';
import type { PostureFinding } from './posture.js';
import type { ServerSnapshot } from './read-snapshot.js';

const ROLE_SNAPSHOTS = [
  ['snapshot_id', 'varchar'], ['server', 'varchar'], ['taken_at', 'timestamptz'], ['rolname', 'varchar'], ['rolsuper', 'boolean'],
  ['rolinherit', 'boolean'], ['rolcreaterole', 'boolean'], ['rolcreatedb', 'boolean'], ['rolcanlogin', 'boolean'],
  ['rolreplication', 'boolean'], ['rolconnlimit', 'integer'], ['rolvaliduntil', 'varchar'], ['rolbypassrls', 'boolean'],
  ['has_password', 'boolean'], ['password_md5', 'boolean'],
  ['auth_kind', 'varchar'], ['entra_type', 'varchar'], ['entra_oid', 'varchar'], ['entra_admin', 'boolean'],
] as const satisfies ColumnSpec;

const MEMBERSHIP_SNAPSHOTS = [
  ['snapshot_id', 'varchar'], ['server', 'varchar'], ['taken_at', 'timestamptz'], ['role_name', 'varchar'], ['member', 'varchar'],
  ['grantor', 'varchar'], ['admin_option', 'boolean'], ['inherit_option', 'boolean'], ['set_option', 'boolean'],
] as const satisfies ColumnSpec;

const ROLE_SETTING_SNAPSHOTS = [
  ['snapshot_id', 'varchar'], ['server', 'varchar'], ['taken_at', 'timestamptz'], ['role_name', 'varchar'],
  ['database_name', 'varchar'], ['name', 'varchar'], ['value', 'varchar'],
] as const satisfies ColumnSpec;

const SETTING_SNAPSHOTS = [
  ['snapshot_id', 'varchar'], ['server', 'varchar'], ['taken_at', 'timestamptz'], ['name', 'varchar'], ['setting', 'varchar'], ['source', 'varchar'],
] as const satisfies ColumnSpec;

export interface SnapshotRef {
  snapshotId: string;
  server: string;
  takenAt: Date;
}

/** Appends one snapshot in the caller's transaction; returns its id. */
export async function insertSnapshot(connection: DuckDBConnection, snap: ServerSnapshot): Promise<SnapshotRef> {
  const id = randomUUID();
  const { server, takenAt } = snap;
  const head = await connection.prepare('INSERT INTO snapshots VALUES ($1, $2, $3, $4, $5, $6)');
  head.bindVarchar(1, id);
  head.bindVarchar(2, server);
  head.bindTimestampTZ(3, timestamptz(takenAt));
  head.bindInteger(4, snap.serverVersionNum);
  head.bindVarchar(5, snap.readAs);
  head.bindList(6, snap.unreadable, LIST(VARCHAR));
  await head.run();

  const roles = new ColumnarTable('role_snapshots', ROLE_SNAPSHOTS);
  for (const r of snap.roles) {
    roles.push([id, server, takenAt, r.rolname, r.rolsuper, r.rolinherit, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolreplication,
      r.rolconnlimit, r.rolvaliduntil, r.rolbypassrls, r.has_password, r.password_md5,
      r.auth_kind ?? null, r.entra_type ?? null, r.entra_oid ?? null, r.entra_admin ?? null]);
  }
  const members = new ColumnarTable('membership_snapshots', MEMBERSHIP_SNAPSHOTS);
  for (const m of snap.memberships) members.push([id, server, takenAt, m.role_name, m.member, m.grantor, m.admin_option, m.inherit_option, m.set_option]);
  const roleSettings = new ColumnarTable('role_setting_snapshots', ROLE_SETTING_SNAPSHOTS);
  for (const s of snap.roleSettings) roleSettings.push([id, server, takenAt, s.role_name, s.database_name, s.name, s.value]);
  const settings = new ColumnarTable('setting_snapshots', SETTING_SNAPSHOTS);
  for (const s of snap.settings) settings.push([id, server, takenAt, s.name, s.setting, s.source]);
  for (const table of [roles, members, roleSettings, settings]) await appendRows(connection, table);
  return { snapshotId: id, server, takenAt };
}

/** The server's snapshots in time order, optionally only those taken at or before `until`. */
export async function listSnapshots(connection: DuckDBConnection, server: string, until?: Date): Promise<SnapshotRef[]> {
  const stmt = await connection.prepare(
    `SELECT snapshot_id, server, taken_at FROM snapshots WHERE server = $1 ${until ? 'AND taken_at <= $2' : ''} ORDER BY taken_at, snapshot_id`,
  );
  stmt.bindVarchar(1, server);
  if (until) stmt.bindTimestampTZ(2, timestamptz(until));
  const rows = (await stmt.runAndReadAll()).getRowObjects();
  return rows.map((r) => ({ snapshotId: String(r.snapshot_id), server: String(r.server), takenAt: date(r.taken_at)! }));
}

/** Runs for every batch with privilege changes: one row, not the server's whole history of snapshots. */
export async function latestSnapshot(connection: DuckDBConnection, server: string, until?: Date): Promise<SnapshotRef | null> {
  const stmt = await connection.prepare(
    `SELECT snapshot_id, server, taken_at FROM snapshots WHERE server = $1 ${until ? 'AND taken_at <= $2' : ''} ORDER BY taken_at DESC, snapshot_id DESC LIMIT 1`,
  );
  stmt.bindVarchar(1, server);
  if (until) stmt.bindTimestampTZ(2, timestamptz(until));
  const r = (await stmt.runAndReadAll()).getRowObjects()[0];
  return r ? { snapshotId: String(r.snapshot_id), server: String(r.server), takenAt: date(r.taken_at)! } : null;
}

/** A live snapshot is exact at its time: a server's replay starts from its latest one. */
export async function latestRoleBase(connection: DuckDBConnection, server: string): Promise<RoleBase | undefined> {
  const snapshot = await latestSnapshot(connection, server);
  return snapshot ? readRoleBase(connection, snapshot) : undefined;
}

/** A stored snapshot as the base of a replay (rebuildRoles' `base`). */
export async function readRoleBase(connection: DuckDBConnection, ref: SnapshotRef): Promise<RoleBase> {
  const rows = async (sql: string) => (await connection.runAndReadAll(sql, { id: ref.snapshotId })).getRowObjects();
  return roleBaseFromRows(ref, await rows(ROLE_BASE_SQL.roles), await rows(ROLE_BASE_SQL.memberships));
}

export function timestamptz(d: Date): DuckDBTimestampTZValue {
  return new DuckDBTimestampTZValue(BigInt(d.getTime()) * 1000n);
}

function date(v: DuckDBValue | undefined): Date | null {
  return v instanceof DuckDBTimestampTZValue ? new Date(Number(v.micros / 1000n)) : null;
}

export function varcharList(v: DuckDBValue | undefined): string[] {
  return v instanceof DuckDBListValue ? v.items.map(String) : [];
}

const DRIFT = [
  ['server', 'varchar'], ['role', 'varchar'], ['kind', 'varchar'], ['attribute', 'varchar'], ['granted_role', 'varchar'],
  ['before', 'varchar'], ['after', 'varchar'], ['window_start', 'timestamptz'], ['window_end', 'timestamptz'], ['explained', 'boolean'],
  ['from_snapshot_id', 'varchar'], ['to_snapshot_id', 'varchar'], ['detected_at', 'timestamptz'],
] as const satisfies ColumnSpec;

const POSTURE_FINDINGS = [
  ['snapshot_id', 'varchar'], ['server', 'varchar'], ['taken_at', 'timestamptz'], ['check_id', 'varchar'], ['severity', 'varchar'],
  ['subject', 'varchar'], ['value', 'varchar'], ['summary', 'varchar'],
] as const satisfies ColumnSpec;

export async function insertPostureFindings(connection: DuckDBConnection, ref: SnapshotRef, findings: readonly PostureFinding[]): Promise<void> {
  const rows = new ColumnarTable('posture_findings', POSTURE_FINDINGS);
  for (const f of findings) rows.push([ref.snapshotId, ref.server, ref.takenAt, f.check_id, f.severity, f.subject, f.value, f.summary]);
  await appendRows(connection, rows);
}

/** Stores one evaluated window: its unexplained differences, and that it was evaluated (so it never is again). */
export async function insertDriftWindow(connection: DuckDBConnection, from: SnapshotRef, to: SnapshotRef, drift: readonly DriftRow[]): Promise<void> {
  const now = new Date();
  const rows = new ColumnarTable('drift', DRIFT);
  for (const d of drift) {
    rows.push([d.server, d.role, d.kind, d.attribute, d.granted_role, d.before, d.after, d.window_start, d.window_end, d.explained, from.snapshotId, to.snapshotId, now]);
  }
  await appendRows(connection, rows);
  const stmt = await connection.prepare('INSERT INTO drift_windows VALUES ($1, $2, $3, $4, $5, $6, now())');
  stmt.bindVarchar(1, from.server);
  stmt.bindVarchar(2, from.snapshotId);
  stmt.bindVarchar(3, to.snapshotId);
  stmt.bindTimestampTZ(4, timestamptz(from.takenAt));
  stmt.bindTimestampTZ(5, timestamptz(to.takenAt));
  stmt.bindInteger(6, drift.length);
  await stmt.run();
}

/** Windows between consecutive snapshots of a server not evaluated yet. */
export async function pendingDriftWindows(connection: DuckDBConnection, server: string): Promise<[SnapshotRef, SnapshotRef][]> {
  const snapshots = await listSnapshots(connection, server);
  const stmt = await connection.prepare('SELECT from_snapshot_id, to_snapshot_id FROM drift_windows WHERE server = $1');
  stmt.bindVarchar(1, server);
  const done = new Set((await stmt.runAndReadAll()).getRows().map(([f, t]) => `${String(f)}\u0000${String(t)}`));
  const out: [SnapshotRef, SnapshotRef][] = [];
  for (let i = 1; i < snapshots.length; i++) {
    const pair: [SnapshotRef, SnapshotRef] = [snapshots[i - 1]!, snapshots[i]!];
    if (!done.has(`${pair[0].snapshotId}\u0000${pair[1].snapshotId}`)) out.push(pair);
  }
  return out;
}

/** The latest time the stored trail of a server reaches (any log record), or null when it has none. */
export async function trailReachesTo(connection: DuckDBConnection, server: string): Promise<Date | null> {
  const stmt = await connection.prepare('SELECT max(logged_at) AS t FROM log_records WHERE server = $1');
  stmt.bindVarchar(1, server);
  return date((await stmt.runAndReadAll()).getRowObjects()[0]?.t);
}

export async function snapshotServers(connection: DuckDBConnection): Promise<string[]> {
  return (await connection.runAndReadAll('SELECT DISTINCT server FROM snapshots ORDER BY server')).getRows().map(([s]) => String(s));
}

/** When the trail last saw each role's password change (`roles.password_changed_at`). */
export async function passwordChanges(connection: DuckDBConnection, server: string): Promise<Map<string, Date | null>> {
  const stmt = await connection.prepare('SELECT rolname, password_changed_at FROM roles WHERE server = $1');
  stmt.bindVarchar(1, server);
  const rows = (await stmt.runAndReadAll()).getRowObjects();
  return new Map(rows.map((r) => [String(r.rolname), date(r.password_changed_at)]));
}
