/**
 * Privilege changes stored before their session's login was read (no actor), whose actor late attribution filled
 * in within this batch's transaction. A window keyed by actor judged them without one; `privilege-burst` looks at
 * them again (`BatchFacts.recountedChanges`), as at a change taken back into effect.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ChangeKey } from '../store/late-attribution.js';
import { sqlString } from '../store/sql-literal.js';
import { toChange } from '../store/role-tables.js';
import type { TakenIntoEffect } from './unjudged-changes.js';

/** The effective ones of `keys`, as `privilege_changes` holds them now, with their session's attribution. */
export async function readFilledChanges(connection: DuckDBConnection, keys: readonly ChangeKey[]): Promise<TakenIntoEffect[]> {
  if (keys.length === 0) return [];
  const values = keys.map((k) => `(${sqlString(k.server)}, ${sqlString(k.sessionId)}, ${k.loggedAtMicros.toString()}, ${String(k.seq)})`);
  const rows = (
    await connection.runAndReadAll(
      `SELECT p.*, s.user_name AS session_user_name, s.database_name AS session_database_name, s.client_addr AS session_client_addr,
              s.application_name AS session_application_name
       FROM privilege_changes p
       JOIN (VALUES ${values.join(', ')}) k(server, session_id, at_us, seq) ON p.server = k.server AND p.session_id = k.session_id AND epoch_us(p.logged_at) = k.at_us AND p.seq = k.seq
       LEFT JOIN sessions s ON s.server = p.server AND s.session_id = p.session_id
       WHERE p.effective
       ORDER BY p.logged_at, p.seq`,
    )
  ).getRowObjects();
  const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
  return rows.map((r) => ({
    change: toChange(r),
    session: { userName: text(r.session_user_name), databaseName: text(r.session_database_name), clientAddr: text(r.session_client_addr), applicationName: text(r.session_application_name) },
  }));
}
