/**
 * The outbox looks up the alerts a finding may grow in `alert_keys` (migration 13), not in `alerts`. The key table
 * must therefore hold exactly the detection alerts that are not retracted, with their seen span, whatever happens to
 * them: raised, grown, acknowledged, retracted by a later rollback, written again by a replay, or written in a
 * batch whose transaction rolled back (a retry). And a store from before migration 13 gets its keys from its alerts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { AlertOutbox, type RuleIdentity } from '../../src/detect/alert-outbox.js';
import { AlertKeyIndex } from '../../src/detect/alert-key-index.js';
import { acknowledgeAlerts } from '../../src/detect/acknowledge-alerts.js';
import type { MergedFinding } from '../../src/detect/merge-findings.js';
import { migrations } from '../../src/store/migrations.js';
import { closeDatabase, openDatabase } from '../../src/store/open-database.js';
import type { InTransactionWriter } from '../../src/detect/written-batch.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { failedLogin } from '../support/detection-records.js';
import { openHarness } from './detection-harness.js';

const RULES: RuleIdentity[] = [
  { id: 'admin-granted', severity: 'high', mitre: 'T1098', suppressMinutes: 60 },
  { id: 'brute-force', severity: 'high', mitre: 'T1110', suppressMinutes: 5 },
];
const T0 = Date.parse('2026-11-20T10:00:00Z');

/** What the key table must hold: every detection alert (no dot in its rule id) that is not retracted. */
const EXPECTED_KEYS = `SELECT rule_id, server, dedup_key, alert_id, first_seen::VARCHAR AS f, last_seen::VARCHAR AS l FROM alerts
  WHERE status <> 'retracted' AND rule_id NOT LIKE '%.%' ORDER BY alert_id`;
const KEYS = `SELECT rule_id, server, dedup_key, alert_id, first_seen::VARCHAR AS f, last_seen::VARCHAR AS l FROM alert_keys ORDER BY alert_id`;

async function rows(c: DuckDBConnection, sql: string): Promise<unknown[]> {
  return (await c.runAndReadAll(sql)).getRowObjectsJson();
}

const finding = fc.record({ rule: fc.nat({ max: 1 }), server: fc.constantFrom('pg-1', 'pg-2'), key: fc.constantFrom('alice', 'bob', 'carol'), minute: fc.nat({ max: 240 }), span: fc.nat({ max: 10 }) });
type Spec = { rule: number; server: string; key: string; minute: number; span: number };

function merged(f: Spec, seq: number): MergedFinding {
  const at = new Date(T0 + f.minute * 60_000);
  return {
    server: f.server, at, firstAt: new Date(at.getTime() - f.span * 60_000), actor: 'admin', target: f.key, summary: `about ${f.key}`, dedupKey: f.key,
    evidence: {}, samples: [{ minute: f.minute }],
    // Each finding stands on one privilege change, so that a later rollback can retract it.
    changes: [{ server: f.server, sessionId: `s.${seq}`, loggedAt: at, seq }],
  };
}

/** One batch's findings through the outbox, as the detector writes them. */
async function record(outbox: AlertOutbox, c: DuckDBConnection, specs: Spec[], firstSeq: number): Promise<void> {
  const groups = RULES.map((rule, r) => ({ rule, findings: specs.flatMap((s, k) => (s.rule === r ? [merged(s, firstSeq + k)] : [])) })).filter((g) => g.findings.length > 0);
  await outbox.record(c, groups);
}

const step = fc.oneof(
  fc.record({ kind: fc.constant('batch' as const), findings: fc.array(finding, { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('retried batch' as const), findings: fc.array(finding, { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('replay' as const), back: fc.nat({ max: 5 }) }),
  fc.record({ kind: fc.constant('acknowledge' as const), pick: fc.nat({ max: 20 }) }),
  fc.record({ kind: fc.constant('rollback' as const), pick: fc.nat({ max: 40 }) }),
  fc.record({ kind: fc.constant('redo' as const), pick: fc.nat({ max: 40 }) }),
);
type Step = typeof step extends fc.Arbitrary<infer S> ? S : never;

/** The alerts as a reader sees them, ids included. */
const ALERTS = `SELECT alert_id, rule_id, server, dedup_key, status, count, first_seen::VARCHAR AS f, last_seen::VARCHAR AS l, evidence::VARCHAR AS e FROM alerts ORDER BY alert_id`;

/**
 * Runs the steps on a store through `outboxFor` (called for each write: the same outbox, or a new one), as the
 * pipeline does: a batch rolled back makes the outbox forget. After each step, `check`.
 */
async function play(steps: readonly Step[], outboxFor: () => AlertOutbox, check: (c: DuckDBConnection, step: Step) => Promise<void>): Promise<void> {
  const db = await openDatabase(':memory:');
  const c = db.connection;
  try {
    await c.run(`INSERT INTO alerts (rule_id, severity, server, first_seen, last_seen, summary, dedup_key)
      VALUES ('drift.change-not-in-trail', 'high', 'pg-1', TIMESTAMPTZ '2026-11-20 10:00:00+00', TIMESTAMPTZ '2026-11-20 10:00:00+00', 'drift', 'alice')`);
    const batches: Spec[][] = [];
    let seq = 0;
    for (const s of steps) {
      if (s.kind === 'batch') {
        batches.push(s.findings);
        await record(outboxFor(), c, s.findings, seq);
        seq += s.findings.length;
      } else if (s.kind === 'retried batch') {
        // The batch's transaction fails after detection wrote its alerts: nothing of it may stay.
        const outbox = outboxFor();
        await c.run('BEGIN TRANSACTION');
        await record(outbox, c, s.findings, seq);
        await c.run('ROLLBACK');
        outbox.forget();
      } else if (s.kind === 'replay') {
        const again = batches[batches.length - 1 - Math.min(s.back, batches.length - 1)];
        if (again) await record(outboxFor(), c, again, 0);
      } else if (s.kind === 'acknowledge') {
        await acknowledgeAlerts(c, [s.pick + 1], 'tester');
      } else if (s.kind === 'rollback') {
        // A later batch rolls back the change an alert stands on: the alert is retracted.
        const [change] = await rows(c, `SELECT server, session_id, logged_at::VARCHAR AS logged_at, seq FROM alert_changes ORDER BY seq LIMIT 1 OFFSET ${s.pick}`);
        if (change) {
          const ch = change as { server: string; session_id: string; logged_at: string; seq: string };
          await c.run(`INSERT INTO privilege_changes (server, logged_at, session_id, action, effective, seq, source, position)
            VALUES ('${ch.server}', '${ch.logged_at}'::TIMESTAMPTZ, '${ch.session_id}', 'grant-role', false, ${ch.seq}, 't', '0')`);
          await outboxFor().retractUndone(c);
        }
      } else {
        // A change undone is effective again (its COMMIT read late): its retracted alert comes back and may grow.
        const [undone] = await rows(c, `SELECT seq FROM privilege_changes WHERE NOT effective ORDER BY seq LIMIT 1 OFFSET ${s.pick % 4}`);
        if (undone) {
          await c.run(`UPDATE privilege_changes SET effective = true WHERE seq = ${(undone as { seq: string }).seq}`);
          await outboxFor().reopenRedone(c);
        }
      }
      await check(c, s);
    }
  } finally {
    await closeDatabase(db);
  }
}

describe('the outbox key table (alert_keys)', () => {
  it('holds exactly the detection alerts not retracted, through growth, acknowledgement, retraction, replay and retries (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const outbox = new AlertOutbox();
        await play(steps, () => outbox, async (c, s) => assert.deepEqual(await rows(c, KEYS), await rows(c, EXPECTED_KEYS), `after ${s.kind}`));
      }),
      { numRuns: 40 },
    );
  });

  it('an outbox that holds its keys in memory stores what one reading them from alert_keys each write stores, late and replayed findings too (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 14 }), fc.integer({ min: 1, max: 300 }), async (steps, keepMinutes) => {
        // Findings span 240 minutes: a short hold leaves keys out of memory that a late finding needs again.
        const held = new AlertOutbox(new AlertKeyIndex(keepMinutes * 60_000_000));
        const seen: unknown[][] = [];
        await play(steps, () => held, async (c) => void seen.push(await rows(c, ALERTS)));
        let k = 0;
        await play(steps, () => new AlertOutbox(), async (c, s) => assert.deepEqual(seen[k++], await rows(c, ALERTS), `after ${s.kind} (step ${k})`));
      }),
      { numRuns: 30 },
    );
  });

  it("a batch rolled back after detection raised its alert leaves no key behind: the next batch's burst raises its own", async () => {
    const h = await openHarness();
    try {
      const failuresAt = (from: number) => Array.from({ length: 10 }, (_, k) => failedLogin({ user: 'victim', at: new Date(from + k * 1000) })).flat();
      const failing: InTransactionWriter = {
        async inTransaction() {
          throw new Error('this batch rolls back');
        },
      };
      const failsAfterDetection = await IngestPipeline.create(h.store, { observers: [h.detector, failing] });
      await assert.rejects(failsAfterDetection.processBatch(failuresAt(T0), { sourceKey: null, source: 'synthetic', position: 'x' }));
      await h.feed(failuresAt(T0 + 60_000));
      assert.deepEqual((await h.alerts('brute-force')).map((a) => [a.target, Number(a.count)]), [['victim', 10]]);
    } finally {
      await h.close();
    }
  });

  it('a retracted alert never grows again, an acknowledged one does', async () => {
    const db = await openDatabase(':memory:');
    const c = db.connection;
    try {
      const outbox = new AlertOutbox();
      await record(outbox, c, [{ rule: 0, server: 'pg-1', key: 'alice', minute: 0, span: 0 }, { rule: 0, server: 'pg-1', key: 'bob', minute: 0, span: 0 }], 0);
      const [alice, bob] = (await rows(c, `SELECT alert_id FROM alerts ORDER BY dedup_key`)).map((r) => Number((r as { alert_id: string }).alert_id));
      await acknowledgeAlerts(c, [bob!], 'tester');
      await c.run(`INSERT INTO privilege_changes (server, logged_at, session_id, action, effective, seq, source, position)
        SELECT server, logged_at, session_id, 'grant-role', false, seq, 't', '0' FROM alert_changes WHERE alert_id = ${alice}`);
      assert.equal((await outbox.retractUndone(c)).length, 1);
      await record(outbox, c, [{ rule: 0, server: 'pg-1', key: 'alice', minute: 10, span: 0 }, { rule: 0, server: 'pg-1', key: 'bob', minute: 10, span: 0 }], 10);
      const counts = await rows(c, `SELECT dedup_key, status, count FROM alerts ORDER BY alert_id`);
      assert.deepEqual(counts, [
        { dedup_key: 'alice', status: 'retracted', count: '1' },
        { dedup_key: 'bob', status: 'acknowledged', count: '2' },
        { dedup_key: 'alice', status: 'open', count: '1' },
      ]);
    } finally {
      await closeDatabase(db);
    }
  });

  it('a store from before migration 13 gets the keys of its alerts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-v12-'));
    try {
      const path = join(dir, 'v12.duckdb');
      const instance = await DuckDBInstance.create(path);
      const c = await instance.connect();
      for (const m of migrations.filter((m) => m.version <= 12)) await c.run(m.sql);
      await c.run(`CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMPTZ NOT NULL, description VARCHAR);
        INSERT INTO schema_version SELECT range, now(), 'v' || range FROM range(1, 13);
        INSERT INTO alerts (rule_id, severity, server, first_seen, last_seen, summary, dedup_key, status) VALUES
          ('admin-granted', 'high', 'pg-1', TIMESTAMPTZ '2026-11-20 10:00:00+00', TIMESTAMPTZ '2026-11-20 10:05:00+00', 's', 'alice', 'open'),
          ('admin-granted', 'high', 'pg-1', TIMESTAMPTZ '2026-11-20 11:00:00+00', TIMESTAMPTZ '2026-11-20 11:00:00+00', 's', 'bob', 'acknowledged'),
          ('brute-force', 'high', 'pg-2', TIMESTAMPTZ '2026-11-20 12:00:00+00', TIMESTAMPTZ '2026-11-20 12:00:00+00', 's', 'eve', 'retracted'),
          ('drift.change-not-in-trail', 'high', 'pg-1', TIMESTAMPTZ '2026-11-20 12:00:00+00', TIMESTAMPTZ '2026-11-20 12:00:00+00', 's', 'x', 'open')`);
      c.closeSync();
      instance.closeSync();
      const db = await openDatabase(path);
      try {
        const keys = await rows(db.connection, KEYS);
        assert.deepEqual(keys, await rows(db.connection, EXPECTED_KEYS));
        assert.deepEqual(keys.map((k) => (k as { dedup_key: string }).dedup_key), ['alice', 'bob']);
      } finally {
        await closeDatabase(db);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
