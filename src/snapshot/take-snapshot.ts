/**
 * One snapshot of one watched server: read it (connection and read-only transaction on the server),
 * then in one store transaction keep the snapshot, rebuild the server's `roles` on top of it, and record
 * its posture findings. Throws a ServerConnectError (with a reason that says what to check) when the
 * server cannot be reached; the caller decides whether to retry.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendRows } from '../store/append-rows.js';
import { readEffectiveChanges, writeRoleTables } from '../store/role-tables.js';
import type { ReplayBases } from './replay-bases.js';
import { insertPostureFindings, insertSnapshot, latestRoleBase, passwordChanges, type SnapshotRef } from './snapshot-tables.js';
import { postureFindings, type PostureFinding } from './posture.js';
import { readSnapshot, type ServerSnapshot } from './read-snapshot.js';
import { connectToServer, ServerConnectError, type PasswordProvider } from './server-connection.js';
import type { WatchedServer } from './watched-server.js';

export interface SnapshotResult extends SnapshotRef {
  roles: number;
  memberships: number;
  settings: number;
  unreadable: string[];
  findings: PostureFinding[];
}

export interface TakeSnapshotOptions {
  connection: DuckDBConnection;
  password: PasswordProvider;
  passwordMaxAgeDays: number;
  /** The bases the running pipeline replays roles on: told after the snapshot commits. */
  bases?: ReplayBases;
}

export async function takeSnapshot(server: WatchedServer, opts: TakeSnapshotOptions): Promise<SnapshotResult> {
  const client = await connectToServer(server, opts.password);
  let snapshot: ServerSnapshot;
  try {
    snapshot = await readSnapshot(client, server.name);
  } catch (error) {
    throw new ServerConnectError(server.name, `reading the catalogs as ${server.user} failed: ${(error as Error).message} (see docs/snapshots.md for the grants)`, { cause: error });
  } finally {
    await client.end().catch(() => undefined);
  }
  return storeSnapshot(opts.connection, snapshot, opts.passwordMaxAgeDays, opts.bases);
}

/**
 * Stores a snapshot read elsewhere (also what the tests use to store hand-made snapshots). `bases`, when a
 * pipeline writes the same store, is told once the snapshot is committed: its next batch replays on it.
 */
export async function storeSnapshot(connection: DuckDBConnection, snapshot: ServerSnapshot, passwordMaxAgeDays: number, bases?: ReplayBases): Promise<SnapshotResult> {
  await connection.run('BEGIN TRANSACTION');
  try {
    const ref = await insertSnapshot(connection, snapshot);
    const changes = await readEffectiveChanges(connection, snapshot.server);
    await writeRoleTables(connection, snapshot.server, changes, await latestRoleBase(connection, snapshot.server), (_table, rows) => appendRows(connection, rows));
    const findings = postureFindings({ snapshot, passwordChangedAt: await passwordChanges(connection, snapshot.server), passwordMaxAgeDays });
    await insertPostureFindings(connection, ref, findings);
    await connection.run('COMMIT');
    bases?.invalidate(snapshot.server);
    return {
      ...ref,
      roles: snapshot.roles.length,
      memberships: snapshot.memberships.length,
      settings: snapshot.settings.length,
      unreadable: snapshot.unreadable,
      findings,
    };
  } catch (error) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw new Error(`storing the snapshot of ${snapshot.server} failed, nothing of it was stored: ${(error as Error).message}`);
  }
}
