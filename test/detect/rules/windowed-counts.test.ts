/**
 * Windowed rules are defined on the set of stored rows, not on the order they arrive in (docs/detection.md): a hub's
 * partitions are read at different paces, so a server's rows reach the store out of time order. Each story here is
 * read out of order through the detector and a real DuckDB store; then random rows of every windowed rule, cut into
 * batches read in random orders, must raise the alert keys, with the counts, that the in-order read raises.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DecodeResult } from '../../../src/contracts/log-record.js';
import { audit, failedLogin, login, minutes } from '../../support/detection-records.js';
import { NO_EXCLUSIONS, openHarness, type Harness } from '../detection-harness.js';
import { batchesAt, reordered } from '../../support/partition-batches.js';
import { runQuery } from '../../../src/query/run-query.js';
import { newBursts } from '../../../src/detect/rules/windowed-counts.js';

const T0 = new Date('2026-11-20T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

let statementId = 0;
/** A session of `actor` that runs one role statement `ms` after T0. */
function roleStatement(actor: string, ms: number, command: string, statement: string, server = 'pg1'): DecodeResult[] {
  const s = login({ server, user: actor, at: at(ms - 10) });
  return [...s.records, audit(server, s.sessionId, at(ms), ++statementId, 'ROLE', command, statement)];
}

const failures = (user: string, fromMs: number, n: number, stepMs = 1000, host = '10.0.0.9') =>
  Array.from({ length: n }, (_, i) => failedLogin({ user, host, at: at(fromMs + i * stepMs) })).flat();

const WINDOWED = ['brute-force', 'password-spray', 'failures-then-success', 'privilege-burst', 'role-created-and-dropped'];

/** Alert keys of the windowed rules, each with the sum of its alerts' counts. */
async function keys(h: Harness): Promise<string[]> {
  const rows = (
    await runQuery(
      h.store.connection,
      `SELECT rule_id, server, dedup_key, sum(count)::BIGINT AS n FROM alerts WHERE status <> 'retracted' AND rule_id IN (${WINDOWED.map((r) => `'${r}'`).join(', ')})
       GROUP BY ALL ORDER BY ALL`,
    )
  ).rows;
  return rows.map((r) => `${r.rule_id}|${r.server}|${r.dedup_key} x${r.n}`);
}

describe('windowed rules read out of order', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('role-created-and-dropped: a DROP stored before its CREATE', async () => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    await h.feed(roleStatement('dba', 10 * 60_000, 'DROP ROLE', 'DROP ROLE ghost;'));
    await h.feed(roleStatement('dba', 60_000, 'CREATE ROLE', 'CREATE ROLE ghost;'));
    const alerts = await h.alerts('role-created-and-dropped');
    assert.equal(alerts.length, 1, 'the CREATE completes the story the stored DROP began');
    assert.equal(alerts[0]!.dedup_key, 'ghost');
    assert.equal(new Date(String(alerts[0]!.first_seen)).toISOString(), at(60_000).toISOString());
  });

  it('role-created-and-dropped reads the creates and drops of its roles in the hours around a batch, not every privilege change in them', async (t) => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    // A grant or a CREATE ROLE of another role every two minutes for two hours: 60 privilege changes, no burst.
    const other = (i: number) => (i % 2 === 0 ? roleStatement('ops', i * 120_000 + 1000, 'GRANT', `GRANT SELECT ON t${i} TO app;`) : roleStatement('ops', i * 120_000 + 1000, 'CREATE ROLE', `CREATE ROLE r${i};`));
    await h.feed(Array.from({ length: 60 }, (_, i) => other(i)).flat());
    const queries = t.mock.method(h.store.connection, 'runAndReadAll');
    await h.feed([...roleStatement('dba', 60 * 60_000 + 500, 'CREATE ROLE', 'CREATE ROLE ghost;'), ...roleStatement('dba', 61 * 60_000 + 500, 'DROP ROLE', 'DROP ROLE ghost;')]);
    const windows = queries.mock.calls.filter((c) => /FROM privilege_changes WHERE logged_at >/.test(String(c.arguments[0])));
    assert.equal(windows.length, 1, 'one windowed read a batch');
    const rows = (await windows[0]!.result!).currentRowCount;
    // The burst rule's two windows either side (10 minutes) hold about 10 changes; the hours either side, all 60,
    // and 30 CREATEs of other roles.
    assert.ok(rows <= 20, `the windowed read returned ${rows} rows`);
    assert.equal((await h.alerts('role-created-and-dropped')).length, 1);
  });

  it("privilege-burst reads the changes of the batch's own actors around it, not every actor's", async (t) => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    // Another actor's grant every half minute for the 20 minutes before: 40 changes, under the burst threshold of 20
    // in 5 minutes, all within the span (two windows either side) a batch's change needs read.
    await h.feed(Array.from({ length: 40 }, (_, i) => roleStatement('ops', i * 30_000 + 1000, 'GRANT', `GRANT SELECT ON t${i} TO app;`)).flat());
    const queries = t.mock.method(h.store.connection, 'runAndReadAll');
    await h.feed(roleStatement('dba', 20 * 60_000 + 500, 'GRANT', 'GRANT SELECT ON audit TO report;'));
    const windows = queries.mock.calls.filter((c) => /FROM privilege_changes WHERE logged_at >/.test(String(c.arguments[0])));
    assert.equal(windows.length, 1, 'one windowed read a batch');
    const rows = (await windows[0]!.result!).currentRowCount;
    assert.ok(rows <= 2, `the windowed read returned ${rows} rows: ${rows - 1} of them another actor's`);
  });

  it("failures-then-success reads the later logins of the users who failed, not every user's", async (t) => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    // Another user's login every ten seconds for the ten minutes after the failure: the span of logins it may precede.
    await h.feed(Array.from({ length: 60 }, (_, i) => login({ user: 'app', at: at(i * 10_000 + 500) }).records).flat());
    const queries = t.mock.method(h.store.connection, 'runAndReadAll');
    await h.feed(failures('bob', 0, 1));
    const windows = queries.mock.calls.filter((c) => /FROM sessions WHERE started_at >/.test(String(c.arguments[0])));
    assert.equal(windows.length, 1, 'one windowed read a batch');
    const rows = (await windows[0]!.result!).currentRowCount;
    assert.ok(rows <= 1, `the windowed read returned ${rows} rows: the failure, and ${rows - 1} logins of another user`);
  });

  it('failures-then-success: failures stored after the login they precede', async () => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    await h.feed(login({ user: 'bob', at: at(5 * 60_000) }).records);
    await h.feed(failures('bob', 2 * 60_000, 3));
    const alerts = await h.alerts('failures-then-success');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.count, 1, 'one login after failures');
  });

  it('brute force: the earlier half of a burst stored after the later half', async () => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    await h.feed(failures('alice', 5_000, 5));
    await h.feed(failures('alice', 0, 5));
    assert.deepEqual(await keys(h), ['brute-force|pg1|alice x10']);
  });

  it('privilege-burst: the first changes of a burst stored after the last ones', async () => {
    h = await openHarness({ exclude: NO_EXCLUSIONS, rules: { 'privilege-burst': { threshold: 6 } } });
    const grant = (i: number) => roleStatement('ops', 1000 + i * 1000, 'GRANT', `GRANT SELECT ON t${i} TO app;`);
    await h.feed([4, 5, 6].flatMap(grant));
    await h.feed([1, 2, 3].flatMap(grant));
    assert.deepEqual(await keys(h), ['privilege-burst|pg1|ops x6']);
  });

  it('a row arriving after an alert, but older than its first row, grows the alert instead of raising another', async () => {
    h = await openHarness({ exclude: NO_EXCLUSIONS });
    await h.feed(failures('carol', 60_000, 10));
    await h.feed(failures('carol', 30_000, 1));
    const alerts = await h.alerts('brute-force');
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]!.count, 11);
    assert.equal(new Date(String(alerts[0]!.first_seen)).toISOString(), at(30_001).toISOString());
  });

  it('raises the keys and counts of the in-order read, whatever order the batches come in', async (t) => {
    const SERVERS = ['pg1', 'pg2'];
    const USERS = ['ann', 'ben', 'cat'];
    const HOSTS = ['10.0.0.1', '10.0.0.2'];
    // Three minutes of events, seconds apart: windows of one and two minutes hold several of them.
    const ms = fc.integer({ min: 0, max: 3 * 60 }).map((s) => s * 1000 + 100);
    const event = fc.oneof(
      fc.record({ kind: fc.constant('fail' as const), server: fc.constantFrom(...SERVERS), user: fc.constantFrom(...USERS), host: fc.constantFrom(...HOSTS), ms }),
      fc.record({ kind: fc.constant('login' as const), server: fc.constantFrom(...SERVERS), user: fc.constantFrom(...USERS), host: fc.constantFrom(...HOSTS), ms }),
      fc.record({ kind: fc.constantFrom('create' as const, 'drop' as const, 'grant' as const), server: fc.constantFrom(...SERVERS), user: fc.constantFrom('dba', 'ops'), host: fc.constant('x'), ms }),
    );
    const unit = (e: { kind: string; server: string; user: string; host: string; ms: number }, i: number): DecodeResult[] => {
      if (e.kind === 'fail') return failedLogin({ server: e.server, user: e.user, host: e.host, at: at(e.ms) });
      if (e.kind === 'login') return login({ server: e.server, user: e.user, host: e.host, at: at(e.ms) }).records;
      const role = `r${i % 2}`;
      if (e.kind === 'create') return roleStatement(e.user, e.ms, 'CREATE ROLE', `CREATE ROLE ${role};`, e.server);
      if (e.kind === 'drop') return roleStatement(e.user, e.ms, 'DROP ROLE', `DROP ROLE ${role};`, e.server);
      return roleStatement(e.user, e.ms, 'GRANT', `GRANT SELECT ON t${i} TO app;`, e.server);
    };
    const config = {
      exclude: NO_EXCLUSIONS,
      rules: {
        'brute-force': { threshold: 3, windowMinutes: 2 },
        'password-spray': { distinctUsers: 2, windowMinutes: 1 },
        'failures-then-success': { minFailures: 2, windowMinutes: 2 },
        'privilege-burst': { threshold: 3, windowMinutes: 2 },
        'role-created-and-dropped': { windowMinutes: 3 },
      },
    };
    const read = async (batches: DecodeResult[][]) => {
      const harness = await openHarness(config);
      try {
        for (const b of batches) await harness.feed(b);
        return await keys(harness);
      } finally {
        await harness.close();
      }
    };
    let raised = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(event, { minLength: 25, maxLength: 60 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        async (events, cuts, order) => {
          const units = events.map((e, i) => ({ e, i })).sort((a, b) => a.e.ms - b.e.ms).map(({ e, i }) => unit(e, i));
          const batches = batchesAt(units, cuts);
          const shuffled = reordered(batches, order);
          const inOrder = await read(batches);
          raised += inOrder.length;
          assert.deepEqual(await read(shuffled), inOrder, `in order: ${inOrder.join(', ')}`);
        },
      ),
      { numRuns: 12, endOnFailure: true },
    );
    t.diagnostic(`alert keys raised by the in-order reads: ${raised}`);
    assert.ok(raised >= 12, 'the rows raise alerts of several keys');
  });
});

describe('newBursts', () => {
  interface Row {
    server: string;
    atMicros: number;
    key: string | null;
    value: string | null;
  }
  /** The definition: rows some window (end − w, end] ending at a row of their key reaches the threshold in. */
  function covered(rows: readonly Row[], threshold: number, minutes: number, distinct: boolean): number {
    const w = Math.round(minutes * 60_000_000);
    const seen = new Set<Row>();
    for (const end of rows) {
      if (end.key === null) continue;
      const inWindow = rows.filter((r) => r.key === end.key && r.server === end.server && r.atMicros > end.atMicros - w && r.atMicros <= end.atMicros);
      const measure = distinct ? new Set(inWindow.map((r) => r.value).filter((v) => v !== null)).size : inWindow.length;
      if (measure >= threshold) for (const r of inWindow) seen.add(r);
    }
    return seen.size;
  }

  it('counts, summed over batches stored in any order, the rows some burst window covers', () => {
    const row = fc.record({
      server: fc.constantFrom('pg1', 'pg2'),
      // Whole seconds, often equal: ties end one window together.
      atMicros: fc.integer({ min: 0, max: 600 }).map((s) => s * 1_000_000),
      key: fc.constantFrom('a', 'b', null),
      value: fc.constantFrom('u1', 'u2', 'u3', null),
    });
    fc.assert(
      fc.property(
        fc.array(row, { minLength: 1, maxLength: 60 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom(0.5, 1, 2.5),
        fc.boolean(),
        (rows, batchOf, threshold, minutes, distinct) => {
          const batches = new Map<number, Row[]>();
          rows.forEach((r, i) => {
            const b = batchOf[i % batchOf.length]! % 5;
            batches.set(b, [...(batches.get(b) ?? []), r]);
          });
          const count = { keyOf: (r: Row) => r.key, where: () => true, minutes, threshold, ...(distinct ? { distinctBy: (r: Row) => r.value } : {}) };
          const stored: Row[] = [];
          let added = 0;
          for (const batch of batches.values()) {
            stored.push(...batch);
            for (const b of newBursts(stored, batch, count)) added += b.added;
          }
          assert.equal(added, covered(rows, threshold, minutes, distinct));
        },
      ),
      { numRuns: 300 },
    );
  });
});
