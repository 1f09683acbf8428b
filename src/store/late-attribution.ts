/**
 * Fills user, database, client and application into rows stored before their session's lines arrived.
 * Which sessions to look at is the analysis' (analyze/sessions/pending-attribution.ts); this is the SQL.
 * Only sessions that are both asked for and known in `sessions` are touched, and only rows from the
 * session's start on, so DuckDB's zone maps skip most of the table. Runs inside the batch's transaction.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { SessionRef } from '../analyze/sessions/pending-attribution.js';
import { appendRows } from './append-rows.js';
import { ColumnarTable } from './columnar-table.js';
import { SESSION_KEYS } from './table-specs.js';

export interface LateAttribution {
  /** Rows filled in, over audit events, auth failures and privilege changes. */
  rows: number;
  /** Servers with privilege changes whose actor was filled in: their role replay must read them again. */
  privilegeServers: string[];
  /** Sessions whose user is known now: nothing of them is pending any more. */
  completed: SessionRef[];
}

export async function attributeLate(connection: DuckDBConnection, candidates: readonly SessionRef[]): Promise<LateAttribution> {
  if (candidates.length === 0) return { rows: 0, privilegeServers: [], completed: [] };
  const keys = new ColumnarTable('attribution_keys', SESSION_KEYS);
  for (const { server, sessionId } of candidates) keys.push([server, sessionId]);
  await appendRows(connection, keys);
  // On failure the batch's ROLLBACK takes the keys away with everything else.
  const result = await attributeKeys(connection);
  await connection.run('DELETE FROM attribution_keys');
  return result;
}

async function attributeKeys(connection: DuckDBConnection): Promise<LateAttribution> {
  const known = (await connection.runAndReadAll(
    `SELECT s.server, s.session_id, s.user_name IS NOT NULL AS complete, min(s.started_at) OVER () AS since
     FROM sessions s JOIN attribution_keys k USING (server, session_id)`,
  )).getRows();
  if (known.length === 0) return { rows: 0, privilegeServers: [], completed: [] };
  const since = known[0]![3] === null ? null : String(known[0]![3]);
  // The literal bound lets DuckDB prune row groups by logged_at before joining.
  const bound = since === null ? '' : `AND t.logged_at >= TIMESTAMPTZ '${since}' - INTERVAL 1 MINUTE`;
  const audit = await connection.run(
    `UPDATE audit_events t SET user_name = coalesce(t.user_name, s.user_name), database_name = coalesce(t.database_name, s.database_name),
       client_addr = coalesce(t.client_addr, s.client_addr), application_name = coalesce(t.application_name, s.application_name)
     FROM sessions s JOIN attribution_keys k USING (server, session_id)
     WHERE t.server = s.server AND t.session_id = s.session_id AND (t.user_name IS NULL OR (t.application_name IS NULL AND s.application_name IS NOT NULL)) ${bound}`,
  );
  const auth = await connection.run(
    `UPDATE auth_failures t SET client_addr = coalesce(t.client_addr, s.client_addr), user_name = coalesce(t.user_name, s.user_name),
       database_name = coalesce(t.database_name, s.database_name)
     FROM sessions s JOIN attribution_keys k USING (server, session_id)
     WHERE t.server = s.server AND t.session_id = s.session_id AND (t.client_addr IS NULL OR t.user_name IS NULL) ${bound}`,
  );
  const privilege = await connection.runAndReadAll(
    `UPDATE privilege_changes t SET actor = s.user_name
     FROM sessions s JOIN attribution_keys k USING (server, session_id)
     WHERE t.server = s.server AND t.session_id = s.session_id AND t.actor IS NULL AND s.user_name IS NOT NULL ${bound}
     RETURNING t.server`,
  );
  const privilegeServers = privilege.getRows().map(([server]) => String(server));
  return {
    rows: Number(audit.rowsChanged) + Number(auth.rowsChanged) + privilegeServers.length,
    privilegeServers,
    completed: known.filter(([, , complete]) => complete).map(([server, sessionId]) => ({ server: String(server), sessionId: String(sessionId) })),
  };
}

/** Sessions with stored rows that still lack their user: what a new process is waiting to attribute. */
export async function readPendingAttribution(connection: DuckDBConnection): Promise<SessionRef[]> {
  const reader = await connection.runAndReadAll(
    `SELECT DISTINCT server, session_id FROM audit_events WHERE user_name IS NULL AND session_id IS NOT NULL
     UNION SELECT DISTINCT server, session_id FROM auth_failures WHERE client_addr IS NULL AND session_id IS NOT NULL
     UNION SELECT DISTINCT server, session_id FROM privilege_changes WHERE actor IS NULL AND session_id IS NOT NULL`,
  );
  return reader.getRows().map(([server, sessionId]) => ({ server: String(server), sessionId: String(sessionId) }));
}
