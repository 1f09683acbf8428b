/**
 * `dormant-role-login` is defined on the set of stored logins, as the windowed rules are (docs/detection.md): a
 * login is dormant when the role's previous login in time is `dormantDays` older. A hub's partitions are read at
 * different paces, so logins reach the store out of time order; an alert a later-arriving earlier login disproves
 * is retracted. Random logins (and the creation of one role: a role without an earlier login is dormant since its
 * creation) cut into batches read in random orders must leave open the alerts of the in-order read.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DecodeResult } from '../../../src/contracts/log-record.js';
import { audit, login } from '../../support/detection-records.js';
import { NO_EXCLUSIONS, openHarness } from '../detection-harness.js';
import { batchesAt, reordered } from '../../support/partition-batches.js';
import { runQuery } from '../../../src/query/run-query.js';

const T0 = new Date('2026-06-01T00:00:00Z').getTime();
const DAY = 86_400_000;

describe('dormant-role-login read out of order', () => {
  it('leaves open the alerts of the in-order read, whatever order the batches come in', async (t) => {
    const USERS = ['ann', 'ben', 'cal'];
    // Four months of logins, at random hours: gaps of a month and more between some of them.
    const hour = fc.integer({ min: 0, max: 120 * 24 }).map((h) => h * 3_600_000 + 1_000);
    const event = fc.oneof(
      { weight: 6, arbitrary: fc.record({ kind: fc.constant('login' as const), user: fc.constantFrom(...USERS), ms: hour }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('create' as const), user: fc.constant('cal'), ms: hour }) },
    );
    let statementId = 0;
    const unit = (e: { kind: 'login' | 'create'; user: string; ms: number }): DecodeResult[] => {
      if (e.kind === 'login') return login({ user: e.user, at: new Date(T0 + e.ms) }).records;
      const s = login({ user: 'dba', at: new Date(T0 + e.ms - 10) });
      return [...s.records, audit('pg1', s.sessionId, new Date(T0 + e.ms), ++statementId, 'ROLE', 'CREATE ROLE', `CREATE ROLE ${e.user} LOGIN;`)];
    };
    /** Every login an open alert stands on, as `user at`. */
    const read = async (batches: DecodeResult[][]): Promise<string[]> => {
      const h = await openHarness({ exclude: NO_EXCLUSIONS, rules: { 'dormant-role-login': { dormantDays: 30 } } });
      try {
        for (const b of batches) await h.feed(b);
        const rows = (await runQuery(h.store.connection, `SELECT target, evidence::VARCHAR AS evidence FROM alerts WHERE rule_id = 'dormant-role-login' AND status <> 'retracted' AND target <> 'dba'`)).rows;
        return rows.flatMap((r) => (JSON.parse(String(r.evidence)) as { samples: { loggedAt: string }[] }).samples.map((s) => `${r.target} ${s.loggedAt}`)).sort();
      } finally {
        await h.close();
      }
    };
    let raised = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(event, { minLength: 4, maxLength: 14, selector: (e) => e.ms }).filter((events) => events.filter((e) => e.kind === 'create').length <= 1),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        async (events, cuts, order) => {
          const units = [...events].sort((a, b) => a.ms - b.ms).map(unit);
          const batches = batchesAt(units, cuts);
          const shuffled = reordered(batches, order);
          const inOrder = await read(batches);
          raised += inOrder.length;
          assert.deepEqual(await read(shuffled), inOrder, `in order: ${inOrder.join(', ')}`);
        },
      ),
      { numRuns: 25, endOnFailure: true },
    );
    t.diagnostic(`dormant logins raised by the in-order reads: ${raised}`);
    assert.ok(raised >= 10, 'the logins raise alerts');
  });
});
