/**
 * Privilege changes stored before their session's login was read (no actor), whose actor late attribution filled
 * in within this batch's transaction. A window keyed by actor judged them without one; `privilege-burst` looks at
 * them again (`BatchFacts.recountedChanges`), as at a change taken back into effect.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ChangeKey } from '../store/late-attribution.js';
import { sqlString } from '../store/sql-literal.js';
import { readChangesWithSession, type TakenIntoEffect } from './unjudged-changes.js';

/** The effective ones of `keys`, as `privilege_changes` holds them now, with their session's attribution. */
export async function readFilledChanges(connection: DuckDBConnection, keys: readonly ChangeKey[]): Promise<TakenIntoEffect[]> {
  if (keys.length === 0) return [];
  const values = keys.map((k) => `(${sqlString(k.server)}, ${sqlString(k.sessionId)}, ${k.loggedAtMicros.toString()}, ${String(k.seq)})`);
  const rows = await readChangesWithSession(connection, {
    join: `JOIN (VALUES ${values.join(', ')}) k(server, session_id, at_us, seq) ON p.server = k.server AND p.session_id = k.session_id AND epoch_us(p.logged_at) = k.at_us AND p.seq = k.seq`,
    where: 'true',
  });
  return rows.map((r) => r.taken);
}
