/** Sessions committed through the store's own merge, as a batch's session lines leave them. */
import type { SessionState } from '../../src/analyze/sessions/session-tracker.js';
import type { AuditStore } from '../../src/store/audit-store.js';

/** A session of pg-1 as a batch learned it: begun (`user` known, started 2026-11-20 10:00 UTC) or ended (only its end). */
export function session(id: string, seen: { user?: string; endedAt?: string }): SessionState {
  return {
    server: 'pg-1', sessionId: id, pid: null, startedAt: seen.user ? new Date('2026-11-20T10:00:00Z') : null, endedAt: seen.endedAt ? new Date(seen.endedAt) : null,
    userName: seen.user ?? null, databaseName: null, applicationName: null, clientAddr: null, clientPort: null, authMethod: null,
    authIdentity: null, ssl: null, sslProtocol: null, sslCipher: null, replication: null,
  };
}

/** One batch holding only these sessions, committed at `position` of source `test`. */
export async function commitSessions(store: AuditStore, position: number, sessions: SessionState[]): Promise<void> {
  const batch = store.newBatch();
  batch.setSessions(sessions);
  await store.commit(batch, { sourceKey: 'test', source: 'test', position: String(position) });
}
