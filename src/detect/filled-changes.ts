/**
 * Privilege changes stored before their session's login was read (no actor), whose actor late attribution filled
 * in within this batch's transaction. A window keyed by actor judged them without one; `privilege-burst` looks at
 * them again (`BatchFacts.recountedChanges`), as at a change taken back into effect.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ChangeKey } from '../store/late-attribution.js';
import { boundRows } from '../store/bound-rows.js';
import { readChangesWithSession, type TakenIntoEffect } from './unjudged-changes.js';

/** The effective ones of `keys`, as `privilege_changes` holds them now, with their session's attribution. */
export async function readFilledChanges(connection: DuckDBConnection, keys: readonly ChangeKey[]): Promise<TakenIntoEffect[]> {
  if (keys.length === 0) return [];
  const joined = boundRows(
    { k_server: 'VARCHAR', k_session: 'VARCHAR', k_at_us: 'BIGINT', k_seq: 'BIGINT' },
    keys.map((k) => ({ k_server: k.server, k_session: k.sessionId, k_at_us: k.loggedAtMicros, k_seq: k.seq })),
  );
  const rows = await readChangesWithSession(connection, {
    join: `JOIN ${joined.sql} k ON p.server = k.k_server AND p.session_id = k.k_session AND epoch_us(p.logged_at) = k.k_at_us AND p.seq = k.k_seq`,
    joined,
    where: 'true',
  });
  return rows.map((r) => r.taken);
}
