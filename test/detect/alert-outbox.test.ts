/**
 * `AlertOutbox.record` writes a rule's findings of a batch in a few statements. What it stores must be what writing the
 * same findings one at a time stores: the same alerts raised, grown and left alone, with the same counts, times,
 * evidence and privilege changes, also when one call holds several findings of one key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import type { RuleIdentity } from '../../src/detect/alert-outbox.js';
import { outboxOf, recordFindings } from '../support/outbox-of.js';
import type { MergedFinding } from '../../src/detect/merge-findings.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/open-database.js';
import { loggingStatements } from '../support/statement-log.js';

const RULE: RuleIdentity = { id: 'admin-granted', severity: 'high', mitre: 'T1098', suppressMinutes: 60 };
const T0 = Date.parse('2026-11-20T10:00:00Z');

const finding: fc.Arbitrary<MergedFinding> = fc
  .record({
    server: fc.constantFrom('pg-1', 'pg-2'),
    key: fc.constantFrom('alice', 'bob', "o'brien", 'x\u0000y'),
    minute: fc.nat({ max: 600 }),
    span: fc.nat({ max: 30 }),
    count: fc.integer({ min: 1, max: 3 }),
    increment: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }),
    actor: fc.option(fc.constantFrom('admin', ''), { nil: null }),
    severity: fc.option(fc.constantFrom('critical' as const), { nil: undefined }),
    changes: fc.nat({ max: 2 }),
  })
  .map((r) => ({
    server: r.server,
    at: new Date(T0 + r.minute * 60_000),
    firstAt: new Date(T0 + (r.minute - r.span) * 60_000),
    actor: r.actor,
    target: r.key,
    summary: `granted admin to ${r.key}`,
    dedupKey: r.key,
    evidence: { minute: r.minute },
    samples: [{ minute: r.minute, note: 'a "quoted" \\ value' }],
    count: r.count,
    ...(r.increment === undefined ? {} : { increment: r.increment }),
    ...(r.severity === undefined ? {} : { severity: r.severity }),
    changes: Array.from({ length: r.changes }, (_, k) => ({ server: r.server, sessionId: k === 0 ? null : `s.${r.minute}`, loggedAt: new Date(T0 + r.minute * 60_000), seq: r.minute * 10 + k })),
  }));

/** The stored alerts and their changes, by what they are rather than by their ids. */
async function contents(db: Database): Promise<unknown[]> {
  const alerts = await db.connection.runAndReadAll(
    `SELECT rule_id, severity, server, first_seen::VARCHAR AS first_seen, last_seen::VARCHAR AS last_seen, actor, target, summary,
            evidence::VARCHAR AS evidence, mitre, status, dedup_key, count,
            (SELECT list(c.session_id || '/' || c.logged_at::VARCHAR || '/' || c.seq ORDER BY c.seq, c.session_id) FROM alert_changes c WHERE c.alert_id = a.alert_id) AS changes
     FROM alerts a ORDER BY server, dedup_key, first_seen, last_seen`,
  );
  return alerts.getRowObjectsJS();
}

/** The statements that read alerts' evidence back from the store. */
function readsOfEvidence(statements: readonly string[]): string[] {
  return statements.filter((sql) => /evidence[\s\S]*FROM alerts/.test(sql));
}

describe('AlertOutbox.record', () => {
  it('stores what writing the findings one at a time stores (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(finding, { maxLength: 12 }), { minLength: 1, maxLength: 4 }), async (calls) => {
        const together = await openDatabase(':memory:');
        const oneByOne = await openDatabase(':memory:');
        try {
          for (const call of calls) {
            const a = await recordFindings(together.connection, RULE, call);
            assert.equal(a.length, call.length);
            for (const f of call) await recordFindings(oneByOne.connection, RULE, [f]);
          }
          assert.deepEqual(await contents(together), await contents(oneByOne));
        } finally {
          await closeDatabase(together);
          await closeDatabase(oneByOne);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("hands DuckDB the findings as bound rows: a batch of 300 findings runs the statements of a batch of 2, text for text", async () => {
    // A VALUES list in the text is parsed and bound value by value: for a few hundred findings that cost more than the writes.
    const statementsFor = async (n: number): Promise<string[]> => {
      const db = await openDatabase(':memory:');
      try {
        const findings = (at: number): MergedFinding[] =>
          Array.from({ length: n }, (_, k) => ({
            server: 'pg-1', at: new Date(at), actor: 'admin', target: `role${k}`, summary: `granted admin to role${k}`, dedupKey: `role${k}`, evidence: {},
            samples: [{ k }], changes: [{ server: 'pg-1', sessionId: `s.${k}`, loggedAt: new Date(at), seq: k }],
          }));
        const logged = loggingStatements(db.connection);
        // Raised, then grown by a second batch.
        await recordFindings(logged.connection, RULE, findings(T0));
        await recordFindings(logged.connection, RULE, findings(T0 + 60_000));
        const counts = (await db.connection.runAndReadAll('SELECT count(*), sum(count) FROM alerts')).getRows().map((r) => r.map(Number));
        assert.deepEqual(counts, [[n, 2 * n]]);
        return logged.statements;
      } finally {
        await closeDatabase(db);
      }
    };
    const few = await statementsFor(2);
    // Two findings of a grown alert name two ids in the read of their evidence; the ids of 300 are longer.
    const withoutIds = (statements: string[]) => statements.map((sql) => sql.replace(/IN \([\d, ]+\)/g, 'IN (…)'));
    assert.deepEqual(withoutIds(await statementsFor(300)), withoutIds(few));
  });

  it('grows the alert an earlier call raised within the window, and not a retracted one', async () => {
    const db = await openDatabase(':memory:');
    try {
      const base = { server: 'pg-1', actor: 'admin', target: 'alice', summary: 'granted admin to alice', dedupKey: 'alice', evidence: {}, samples: [{ n: 1 }] };
      const change = { server: 'pg-1', sessionId: 's.1', loggedAt: new Date(T0), seq: 1 };
      const [first] = await recordFindings(db.connection, RULE, [{ ...base, at: new Date(T0), changes: [change] }]);
      const [grown, other] = await recordFindings(db.connection, RULE, [{ ...base, at: new Date(T0 + 30 * 60_000) }, { ...base, dedupKey: 'bob', at: new Date(T0) }]);
      assert.equal(grown, first);
      assert.notEqual(other, first);
      // Retracted as the pipeline retracts: a later batch rolls back the change the alert stands on.
      await db.connection.run(`INSERT INTO privilege_changes (server, logged_at, session_id, action, effective, seq, source, position)
        VALUES ('pg-1', TIMESTAMPTZ '2026-11-20 10:00:00+00', 's.1', 'grant-role', false, 1, 't', '0')`);
      assert.equal((await outboxOf(db.connection).retractUndone(db.connection)).length, 1);
      const [afterRetraction] = await recordFindings(db.connection, RULE, [{ ...base, at: new Date(T0 + 40 * 60_000) }]);
      assert.notEqual(afterRetraction, first);
      const counts = (await db.connection.runAndReadAll('SELECT alert_id, count FROM alerts ORDER BY alert_id')).getRows().map(([id, n]) => [Number(id), Number(n)]);
      assert.deepEqual(counts, [[first, 2], [other, 1], [afterRetraction, 1]]);
    } finally {
      await closeDatabase(db);
    }
  });

  it('grows an alert it wrote without reading its evidence back, and reads it again after a rollback', async () => {
    const db = await openDatabase(':memory:');
    try {
      const logged = loggingStatements(db.connection);
      const outbox = outboxOf(logged.connection);
      const at = (minute: number): MergedFinding => ({
        server: 'pg-1', at: new Date(T0 + minute * 60_000), actor: 'admin', target: 'alice', summary: 'granted admin to alice', dedupKey: 'alice', evidence: {},
        samples: [{ minute }],
      });
      const evidenceReads = () => readsOfEvidence(logged.statements).length;
      const [id] = await recordFindings(logged.connection, RULE, [at(0)]);
      await recordFindings(logged.connection, RULE, [at(1)]);
      await recordFindings(logged.connection, RULE, [at(2)]);
      assert.equal(evidenceReads(), 0);
      // A rolled-back batch may have written evidence the store no longer holds: it is read from the store again.
      outbox.forget();
      await recordFindings(logged.connection, RULE, [at(3)]);
      assert.equal(evidenceReads(), 1);
      const evidence = (await db.connection.runAndReadAll(`SELECT evidence::VARCHAR FROM alerts WHERE alert_id = ${id}`)).getRows()[0]![0];
      assert.deepEqual(JSON.parse(String(evidence)), { samples: [0, 1, 2, 3].map((minute) => ({ minute })), omittedSamples: 0 });
    } finally {
      await closeDatabase(db);
    }
  });

  it('holds the evidence of the last 1,000 alerts it wrote, not more: an older one that grows is read', async () => {
    const db = await openDatabase(':memory:');
    try {
      const logged = loggingStatements(db.connection);
      const finding = (k: number, minute: number): MergedFinding => ({
        server: 'pg-1', at: new Date(T0 + minute * 60_000), actor: 'admin', target: `role${k}`, summary: `granted admin to role${k}`, dedupKey: `role${k}`,
        evidence: {}, samples: [{ k, minute }],
      });
      const ids = await recordFindings(logged.connection, RULE, Array.from({ length: 1_001 }, (_, k) => finding(k, 0)));
      await recordFindings(logged.connection, RULE, [finding(0, 1), finding(1_000, 1)]);
      const reads = readsOfEvidence(logged.statements);
      assert.deepEqual(reads.map((sql) => sql.match(/IN \(([\d, ]+)\)/)?.[1]), [String(ids[0])]);
    } finally {
      await closeDatabase(db);
    }
  });

  it('stores no secret in an alert: summary, actor, target and evidence pass the redactor', async () => {
    const secret = 'Sup3rS3cret';
    const db = await openDatabase(':memory:');
    try {
      const f: MergedFinding = {
        server: 'pg-1', at: new Date(T0), actor: `postgresql://u:${secret}@h/db`, target: 'r', dedupKey: 'k',
        summary: `ALTER ROLE r PASSWORD '${secret}'`, evidence: {},
        samples: [{ statement: `ALTER SYSTEM SET primary_conninfo = 'host=h password=${secret}'`, values: [`{"password":"${secret}"}`] }],
      };
      await recordFindings(db.connection, RULE, [f]);
      await recordFindings(db.connection, RULE, [{ ...f, at: new Date(T0 + 60_000) }]);
      const stored = JSON.stringify(await contents(db), (_k, v: unknown) => (typeof v === "bigint" ? String(v) : v));
      assert.ok(!stored.includes(secret), stored);
      assert.match(stored, /PASSWORD '<REDACTED>'/);
    } finally {
      await closeDatabase(db);
    }
  });
});
