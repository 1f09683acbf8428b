/**
 * Changes a hub's last leader stored ineffective (their session disconnected with the transaction open) and handed
 * over, that a COMMIT this leader read took into effect (`WrittenBatch.handedIntoEffect`): no rule judged them there,
 * and their rows stay in that leader's store. The rules judge them here, as a change taken back into effect within
 * one store is judged (unjudged-changes.ts), with who their session is as this store's `sessions` holds it.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { HandedChange } from '../analyze/privileges/privilege-analyzer.js';
import { sessionKey } from '../contracts/session-key.js';
import { boundRows } from '../store/bound-rows.js';
import type { TakenIntoEffect } from './unjudged-changes.js';

export async function attributeHanded(connection: DuckDBConnection, handed: readonly HandedChange[]): Promise<TakenIntoEffect[]> {
  if (handed.length === 0) return [];
  const keys = new Map<string, [string, string]>();
  for (const { change: c } of handed) if (c.sessionId !== null) keys.set(sessionKey(c.server, c.sessionId), [c.server, c.sessionId]);
  const who = new Map<string, TakenIntoEffect['session']>();
  if (keys.size > 0) {
    const k = boundRows({ k_server: 'VARCHAR', k_session: 'VARCHAR' }, [...keys.values()].map(([server, id]) => ({ k_server: server, k_session: id })));
    const rows = (
      await connection.runAndReadAll(
        `SELECT s.server, s.session_id, s.user_name, s.database_name, s.client_addr, s.application_name
         FROM sessions s JOIN ${k.sql} k ON s.server = k.k_server AND s.session_id = k.k_session`,
        k.values,
        k.types,
      )
    ).getRows();
    const text = (v: unknown) => (v === null || v === undefined ? null : String(v));
    for (const [server, id, userName, databaseName, clientAddr, applicationName] of rows) {
      who.set(sessionKey(String(server), String(id)), { userName: text(userName), databaseName: text(databaseName), clientAddr: text(clientAddr), applicationName: text(applicationName) });
    }
  }
  const nobody = { userName: null, databaseName: null, clientAddr: null, applicationName: null };
  return handed.map(({ change }) => ({ change, session: (change.sessionId === null ? undefined : who.get(sessionKey(change.server, change.sessionId))) ?? nobody }));
}
