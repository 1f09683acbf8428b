/**
 * `AlertOutbox.record` writes every rule's findings of a batch together (the detector's one outbox write a batch).
 * What it stores must be what writing each rule's findings on its own, rule after rule, stores: a rule's
 * findings grow only its own alerts, even when another rule's share the server, key and time. Alerts are compared
 * by what they are: a rule with two findings of one key in a batch (two rounds) may now take its second id after
 * another rule's first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';

import type { RuleIdentity } from '../../src/detect/alert-outbox.js';
import { outboxOf, recordFindings } from '../support/outbox-of.js';
import type { MergedFinding } from '../../src/detect/merge-findings.js';
import { closeDatabase, openDatabase, type Database } from '../../src/store/open-database.js';

const RULES: RuleIdentity[] = [
  { id: 'admin-granted', severity: 'high', mitre: 'T1098', suppressMinutes: 60 },
  { id: 'login-role-created', severity: 'medium', mitre: 'T1136.001', suppressMinutes: 5 },
  { id: 'brute-force', severity: 'high', mitre: 'T1110.001', suppressMinutes: 120 },
];
const T0 = Date.parse('2026-11-20T10:00:00Z');

const finding: fc.Arbitrary<MergedFinding> = fc
  .record({ server: fc.constantFrom('pg-1', 'pg-2'), key: fc.constantFrom('alice', 'bob', "o'brien"), minute: fc.nat({ max: 300 }), count: fc.integer({ min: 1, max: 3 }), changes: fc.nat({ max: 2 }) })
  .map((r) => ({
    server: r.server,
    at: new Date(T0 + r.minute * 60_000),
    actor: 'admin',
    target: r.key,
    summary: `something about ${r.key}`,
    dedupKey: r.key,
    evidence: { minute: r.minute },
    samples: [{ minute: r.minute }],
    count: r.count,
    changes: Array.from({ length: r.changes }, (_, k) => ({ server: r.server, sessionId: `s.${r.minute}`, loggedAt: new Date(T0 + r.minute * 60_000), seq: r.minute * 10 + k })),
  }));

/** Alerts with their privilege changes, by what they are. */
async function contents(db: Database): Promise<unknown[]> {
  const alerts = await db.connection.runAndReadAll(
    `SELECT rule_id, severity, server, first_seen::VARCHAR AS first_seen, last_seen::VARCHAR AS last_seen, summary, evidence::VARCHAR AS evidence, dedup_key, count,
            (SELECT list(c.session_id || '/' || c.seq ORDER BY c.seq) FROM alert_changes c WHERE c.alert_id = a.alert_id) AS changes
     FROM alerts a ORDER BY rule_id, server, dedup_key, first_seen, last_seen`,
  );
  return alerts.getRowObjectsJS();
}

describe('AlertOutbox.record, several rules', () => {
  it("stores what writing each rule's findings in turn stores (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.array(finding, { maxLength: 6 }), { minLength: RULES.length, maxLength: RULES.length }), { minLength: 1, maxLength: 3 }), async (batches) => {
        const together = await openDatabase(':memory:');
        const ruleByRule = await openDatabase(':memory:');
        try {
          for (const perRule of batches) {
            const ids = await outboxOf(together.connection).record(together.connection, perRule.map((findings, r) => ({ rule: RULES[r]!, findings })));
            assert.deepEqual(ids.map((i) => i.length), perRule.map((f) => f.length));
            for (const [r, findings] of perRule.entries()) await recordFindings(ruleByRule.connection, RULES[r]!, findings);
          }
          assert.deepEqual(await contents(together), await contents(ruleByRule));
        } finally {
          await closeDatabase(together);
          await closeDatabase(ruleByRule);
        }
      }),
      { numRuns: 20 },
    );
  });
});
