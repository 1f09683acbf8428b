/**
 * The list of changes stored ineffective that no rule has judged (`unjudged_changes`) stays bounded: a change of a
 * session the analyzer no longer follows can never be taken into effect, so the oldest rows go past the bound.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PrivilegeChange } from '../../src/analyze/privileges/privilege-change.js';
import { takeUnjudged } from '../../src/detect/unjudged-changes.js';
import type { WrittenBatch } from '../../src/detect/written-batch.js';
import { AuditStore } from '../../src/store/audit-store.js';

const T0 = Date.parse('2026-11-20T00:00:00.000Z');

function rolledBack(i: number): PrivilegeChange {
  return { server: 'pg-1', sessionId: `s${i}`, loggedAt: new Date(T0 + i * 1000), seq: i, effective: false } as PrivilegeChange;
}

function batchOf(changes: PrivilegeChange[]): WrittenBatch {
  return { entries: [], attributions: [], privilegeChanges: changes, sessions: [], ineffective: [], controlPlaneEvents: [], source: 'test', position: '0' };
}

describe('unjudged changes', () => {
  let dir: string;
  let store: AuditStore;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-unjudged-'));
    store = await AuditStore.open(join(dir, 'store.duckdb'));
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps at most its bound of rows, the most recent ones, however many batches roll back', async () => {
    await takeUnjudged(store.connection, batchOf([1, 2, 3].map(rolledBack)), 4);
    await takeUnjudged(store.connection, batchOf([4, 5, 6].map(rolledBack)), 4);
    // A batch with nothing ineffective leaves the list as it is.
    await takeUnjudged(store.connection, batchOf([]), 1);
    const rows = (await store.connection.runAndReadAll('SELECT session_id FROM unjudged_changes ORDER BY logged_at')).getRows().map((r) => r[0]);
    assert.deepEqual(rows, ['s3', 's4', 's5', 's6']);
  });
});
