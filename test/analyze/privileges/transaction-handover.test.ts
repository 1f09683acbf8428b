/**
 * The transactions a hub's leader hands to the next one (docs/fleet.md): a session's lines are spread over the
 * hub's partitions, so its BEGIN and its COMMIT may be read by different leaders. Two real stores, each with its
 * pipeline, stand for the two leaders; whether a change took effect is read from the new leader's store.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { createPrivilegeAnalyzer } from '../../../src/analyze/privileges/privilege-analyzer.js';
import { MAX_HANDED_CHANGES } from '../../../src/analyze/privileges/privilege-analyzer/transaction-handover.js';
import { IngestPipeline } from '../../../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../../../src/store/audit-store.js';
import { audit, login, record } from '../../support/detection-records.js';
import type { ParsedEntry } from '../../../src/parse/parsed-entry.js';
import { loadStatementParser } from '../../../src/analyze/privileges/statement-changes.js';
import { sessionEntries } from './entries.js';

const T0 = new Date('2026-11-20T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

async function withLeaders(run: (a: IngestPipeline, b: IngestPipeline, bStore: AuditStore) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'auditduck-tx-handover-'));
  const stores = [await AuditStore.open(join(dir, 'a.duckdb')), await AuditStore.open(join(dir, 'b.duckdb'))];
  try {
    await run(await IngestPipeline.create(stores[0]!), await IngestPipeline.create(stores[1]!), stores[1]!);
  } finally {
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  }
}

const batch = (partition: number) => ({ sourceKey: null, source: `eventhubs:hub/${partition}`, position: '1' });

async function grants(store: AuditStore): Promise<[string, boolean][]> {
  const reader = await store.connection.runAndReadAll(`SELECT granted_role, effective FROM privilege_changes WHERE action = 'grant-role' ORDER BY logged_at`);
  return reader.getRows().map(([role, effective]) => [String(role), Boolean(effective)]);
}

before(() => loadStatementParser());

describe("open transactions handed to a hub's next leader", () => {
  it('keeps a change made after a COMMIT the last leader read: the disconnection does not roll it back', async () => {
    await withLeaders(async (a, b, bStore) => {
      const s = login({ user: 'dba', at: T0 });
      // Log order: BEGIN 1, UPDATE 2, COMMIT 3, GRANT 4, disconnection. A read the COMMIT; B the rest, after the takeover.
      await a.processBatch([audit('pg1', s.sessionId, at(30), 3, 'MISC', 'COMMIT', 'END;')], batch(0));
      b.sessionHandover.adopt(a.sessionHandover.encode('a'), { self: 'b', committed: () => true });
      await b.processBatch(
        [
          ...s.records,
          audit('pg1', s.sessionId, at(10), 1, 'MISC', 'BEGIN', 'BEGIN;'),
          audit('pg1', s.sessionId, at(20), 2, 'WRITE', 'UPDATE', 'UPDATE t SET a = 1;'),
          audit('pg1', s.sessionId, at(40), 4, 'ROLE', 'GRANT ROLE', 'GRANT pg_read_all_data TO report_1;'),
          record('pg1', at(50), s.sessionId, 'LOG', 'disconnection: session time: 0:00:00.050 user=dba database=appdb host=10.0.0.5 port=50000'),
        ],
        batch(1),
      );
      assert.deepEqual(await grants(bStore), [['pg_read_all_data', true]]);
    });
  });

  it('opens here a transaction the last leader saw begin: its disconnection undoes the change made in it', async () => {
    await withLeaders(async (a, b, bStore) => {
      const s = login({ user: 'dba', at: T0 });
      await a.processBatch([...s.records, audit('pg1', s.sessionId, at(10), 1, 'MISC', 'BEGIN', 'BEGIN;')], batch(0));
      b.sessionHandover.adopt(a.sessionHandover.encode('a'), { self: 'b', committed: () => true });
      await b.processBatch(
        [
          audit('pg1', s.sessionId, at(20), 2, 'ROLE', 'GRANT ROLE', 'GRANT pg_read_all_data TO report_2;'),
          record('pg1', at(50), s.sessionId, 'LOG', 'disconnection: session time: 0:00:00.050 user=dba database=appdb host=10.0.0.5 port=50000'),
        ],
        batch(1),
      );
      assert.deepEqual(await grants(bStore), [['pg_read_all_data', false]]);
    });
  });

  it('undoes a change made here at a ROLLBACK the last leader read, and keeps the one after it', async () => {
    await withLeaders(async (a, b, bStore) => {
      const s = login({ user: 'dba', at: T0 });
      await a.processBatch([audit('pg1', s.sessionId, at(30), 3, 'MISC', 'ROLLBACK', 'ROLLBACK;')], batch(0));
      b.sessionHandover.adopt(a.sessionHandover.encode('a'), { self: 'b', committed: () => true });
      await b.processBatch(
        [
          ...s.records,
          audit('pg1', s.sessionId, at(10), 1, 'MISC', 'BEGIN', 'BEGIN;'),
          audit('pg1', s.sessionId, at(20), 2, 'ROLE', 'GRANT ROLE', 'GRANT pg_monitor TO report_3;'),
          audit('pg1', s.sessionId, at(40), 4, 'ROLE', 'GRANT ROLE', 'GRANT pg_read_all_data TO report_3;'),
          record('pg1', at(50), s.sessionId, 'LOG', 'disconnection: session time: 0:00:00.050 user=dba database=appdb host=10.0.0.5 port=50000'),
        ],
        batch(1),
      );
      assert.deepEqual(await grants(bStore), [['pg_monitor', false], ['pg_read_all_data', true]]);
    });
  });

  it('hands over the BEGINs too: a change the next leader reads is undone by a ROLLBACK the last leader read after its BEGIN', async () => {
    await withLeaders(async (a, b, bStore) => {
      const s = login({ user: 'dba', at: T0 });
      // Log order: BEGIN 1, GRANT 2, ROLLBACK 3. A read BEGIN and ROLLBACK (nothing is open there); B the GRANT.
      await a.processBatch([...s.records, audit('pg1', s.sessionId, at(10), 1, 'MISC', 'BEGIN', 'BEGIN;'), audit('pg1', s.sessionId, at(30), 3, 'MISC', 'ROLLBACK', 'ROLLBACK;')], batch(0));
      b.sessionHandover.adopt(a.sessionHandover.encode('a'), { self: 'b', committed: () => true });
      await b.processBatch(
        [
          audit('pg1', s.sessionId, at(20), 2, 'ROLE', 'GRANT ROLE', 'GRANT pg_read_all_data TO report_4;'),
          record('pg1', at(50), s.sessionId, 'LOG', 'disconnection: session time: 0:00:00.050 user=dba database=appdb host=10.0.0.5 port=50000'),
        ],
        batch(1),
      );
      assert.deepEqual(await grants(bStore), [['pg_read_all_data', false]]);
    });
  });

  it("reads an older leader's handover (open since and ends, no begins)", () => {
    const judged = (row: unknown[], lines: (e: ReturnType<typeof sessionEntries>) => ParsedEntry[]): boolean[] => {
      const analyzer = createPrivilegeAnalyzer();
      assert.equal(analyzer.handover.adopt([row], 'b', () => true), 1);
      const e = sessionEntries('srv', 's1');
      const changes = lines(e).flatMap((entry) => analyzer.observe(entry, { userName: 'dba' }));
      return changes.map((c) => c.effective);
    };
    // Open there since BEGIN 1: the GRANT (id 2) read here is in it, and the disconnection rolls it back.
    assert.deepEqual(judged(['srv', 's1', 1, []], (e) => [e.audit('MISC', 'SET', 'set x = 1'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.disconnect()]), [false]);
    // Committed there at 3: the transaction read here from BEGIN 1 took effect.
    assert.deepEqual(judged(['srv', 's1', null, [[3, 0]]], (e) => [e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant a to b'), e.disconnect()]), [true]);
  });

  it('hands over a change its session\'s disconnection left ineffective: the COMMIT the next leader reads takes it into effect there, with no mark for a row it does not hold', () => {
    const e = sessionEntries('srv', 's1');
    const a = createPrivilegeAnalyzer();
    const [grant] = [e.audit('MISC', 'BEGIN', 'begin'), e.audit('ROLE', 'GRANT ROLE', 'grant pg_monitor to watcher'), e.disconnect()].flatMap((entry) => a.observe(entry, { userName: 'dba' }));
    assert.equal(grant!.effective, false);
    a.ineffective();
    const b = createPrivilegeAnalyzer();
    b.handover.adopt(a.handover.handOver('a'), 'b', () => true);
    assert.deepEqual(b.takenOver(), [], 'still open as far as B knows');
    b.observe(e.audit('MISC', 'COMMIT', 'commit'), { userName: 'dba' });
    const taken = b.takenOver();
    assert.deepEqual(taken.map(({ change, holder }) => [holder, change.grantedRole, change.grantee, change.actor, change.seq, change.effective, change.sessionId]), [['a', 'pg_monitor', 'watcher', 'dba', grant!.seq, true, 's1']]);
    assert.deepEqual(b.ineffective(), [], "A's store holds the row");
    // Handed on as effective: A, leading again, takes its row into effect as judged elsewhere.
    a.handover.adopt(b.handover.handOver('b'), 'a', () => true);
    assert.deepEqual(a.ineffective().map((m) => [m.seqs, m.effective, m.reason, m.elsewhere]), [[[grant!.seq], true, 'committed', true]]);
    // A new process of A (nothing followed) does the same from the handover alone.
    const a2 = createPrivilegeAnalyzer();
    a2.handover.adopt(b.handover.handOver('b'), 'a', () => true);
    assert.deepEqual(a2.ineffective().map((m) => [m.seqs, m.effective, m.elsewhere]), [[[grant!.seq], true, true]]);
    assert.deepEqual(a2.takenOver(), []);
  });

  it('does not take into effect at the next leader\'s COMMIT a handed change a ROLLBACK TO SAVEPOINT undid (savepoints are not handed over)', () => {
    const e = sessionEntries('srv', 's1');
    const a = createPrivilegeAnalyzer();
    const lines = [e.audit('MISC', 'BEGIN', 'begin'), e.audit('MISC', 'SAVEPOINT', 'savepoint p'), e.audit('ROLE', 'GRANT ROLE', 'grant pg_monitor to watcher'), e.audit('MISC', 'ROLLBACK', 'rollback to savepoint p'), e.disconnect()];
    const [grant] = lines.flatMap((entry) => a.observe(entry, { userName: 'dba' }));
    assert.equal(grant!.effective, false);
    const b = createPrivilegeAnalyzer();
    b.handover.adopt(a.handover.handOver('a'), 'b', () => true);
    b.observe(e.audit('MISC', 'COMMIT', 'commit'), { userName: 'dba' });
    assert.deepEqual(b.takenOver(), []);
  });

  it('hands over at most MAX_HANDED_CHANGES changes awaiting their transaction\'s end', () => {
    const a = createPrivilegeAnalyzer();
    const perSession = 1000;
    for (let k = 0; k * perSession <= MAX_HANDED_CHANGES; k++) {
      const e = sessionEntries('srv', `s${k}`);
      a.observe(e.audit('MISC', 'BEGIN', 'begin'), { userName: 'dba' });
      for (let i = 0; i < perSession; i++) a.observe(e.audit('ROLE', 'GRANT ROLE', 'grant pg_monitor to watcher'), { userName: 'dba' });
      a.observe(e.disconnect(), { userName: 'dba' });
    }
    const rows = a.handover.handOver('a') as unknown[][];
    assert.equal(rows.reduce((n, row) => n + (row[6] as unknown[]).length, 0), MAX_HANDED_CHANGES);
  });

  it('refuses a handed change of another shape with a clear error', () => {
    const analyzer = createPrivilegeAnalyzer();
    assert.throws(() => analyzer.handover.adopt([['pg1', 's1', null, [], [1], 1, [{ statementId: 2, holder: 'a' }]]], 'b', () => true), /a change of another shape/);
    assert.throws(() => analyzer.handover.adopt([['pg1', 's1', null, [], [1], 2, []]], 'b', () => true), /a session of another shape/);
  });

  it('refuses a handover of another shape with a clear error', () => {
    const analyzer = createPrivilegeAnalyzer();
    assert.throws(() => analyzer.handover.adopt({ not: 'a list' }, 'b', () => true), /the transaction handover is not a list/);
    assert.throws(() => analyzer.handover.adopt([['pg1', 's1', 'x', []]], 'b', () => true), /a session of another shape/);
    assert.deepEqual(analyzer.handover.handOver('b'), []);
  });
});
