/**
 * The session tracker remembers every open session and only the most recent ended ones, so its memory does not
 * grow with the length of the stream; a line of a session it forgot is attributed by the store at commit.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { SessionTracker } from '../../../src/analyze/sessions/session-tracker.js';
import type { DecodeResult } from '../../../src/contracts/log-record.js';
import { parseRecord } from '../../../src/parse/parse-record.js';
import { IngestPipeline } from '../../../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../../../src/store/audit-store.js';
import { audit, login, record } from '../../support/detection-records.js';

const T0 = new Date('2026-11-20T10:00:00Z');

function observeAll(tracker: SessionTracker, results: DecodeResult[]): void {
  for (const result of results) {
    if (result.kind !== 'record') continue;
    const { entry } = parseRecord(result.record);
    if (entry.kind === 'session') tracker.observe(entry);
  }
}

function disconnection(sessionId: string, at: Date): DecodeResult {
  return record('pg1', at, sessionId, 'LOG', 'disconnection: session time: 0:00:01.000 user=ignored database=appdb host=10.0.0.5 port=50000');
}

function userOf(tracker: SessionTracker, sessionId: string): string | null {
  return tracker.attribute({ server: 'pg1', sessionId, userName: null, databaseName: null, clientAddr: null, applicationName: null }).userName;
}

describe('SessionTracker', () => {
  it('forgets the oldest ended sessions beyond its bound and keeps every open one', () => {
    const tracker = new SessionTracker({ sessions: 100, endedSessions: 2 });
    const open = login({ user: 'still_connected_user', at: T0 });
    observeAll(tracker, open.records);
    const ended = ['first_ended_user', 'second_ended_user', 'third_ended_user'].map((user, i) => {
      const s = login({ user, at: new Date(T0.getTime() + (i + 1) * 1000) });
      observeAll(tracker, [...s.records, disconnection(s.sessionId, new Date(T0.getTime() + (i + 1) * 1000 + 500))]);
      return s.sessionId;
    });

    assert.equal(userOf(tracker, ended[0]!), null);
    assert.equal(userOf(tracker, ended[1]!), 'second_ended_user');
    assert.equal(userOf(tracker, ended[2]!), 'third_ended_user');
    assert.equal(userOf(tracker, open.sessionId), 'still_connected_user');
    const state = tracker.takeChanged().find((s) => s.sessionId === open.sessionId)!;
    assert.deepEqual([state.sslCipher, state.authIdentity, state.applicationName], ['TLS_AES_256_GCM_SHA384', 'still_connected_user', 'psql']);
  });

  it('lets the store attribute a late line of an ended session it no longer remembers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-sessions-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    try {
      const pipeline = await IngestPipeline.create(store, { analyzePrivileges: false });
      const early = login({ user: 'late_line_owner', at: T0 });
      await pipeline.processBatch([...early.records, disconnection(early.sessionId, new Date(T0.getTime() + 500))], { sourceKey: null, source: 'test', position: '1' });
      // More ended sessions than the tracker keeps (10,000) push the first one out of memory.
      const others: DecodeResult[] = [];
      for (let i = 0; i < 10_050; i++) {
        const at = new Date(T0.getTime() + 1000 + i * 10);
        const s = login({ user: 'someone_else', at });
        others.push(...s.records, disconnection(s.sessionId, new Date(at.getTime() + 5)));
      }
      await pipeline.processBatch(others, { sourceKey: null, source: 'test', position: '2' });
      assert.equal(userOf(pipeline.sessions, early.sessionId), null);

      const summary = await pipeline.processBatch([audit('pg1', early.sessionId, new Date(T0.getTime() + 400), 1, 'READ', 'SELECT', 'SELECT 1')], { sourceKey: null, source: 'test', position: '3' });
      assert.equal(summary.lateAttributed, 1);
      const rows = (await store.connection.runAndReadAll(`SELECT user_name, database_name, client_addr FROM audit_events WHERE session_id = '${early.sessionId}'`)).getRows();
      assert.deepEqual(rows, [['late_line_owner', 'appdb', '10.0.0.5']]);
    } finally {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
