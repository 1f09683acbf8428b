/**
 * A session's transactions judged by pgaudit statement id, whatever order its event bodies arrive in (issue 17):
 * Azure spreads one server's records over every partition of a hub and `run` reads the partitions at different
 * paces, so a transaction may span two bodies read out of order. One real store and one pipeline, as one leader;
 * whether a change took effect is read from `privilege_changes.effective`, and its alert from `alerts`.
 *
 * Exempt from the property (they carry no statement id): ERROR lines (placed after the session's last audit line
 * read, right only when both are in one body) and `log_statement` lines (followed in arrival order).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';

import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { createDetector } from '../../src/detect/index.js';
import { acknowledgeAlerts } from '../../src/detect/acknowledge-alerts.js';
import type { DecodeResult } from '../../src/contracts/log-record.js';
import { audit, login, record } from '../support/detection-records.js';

const T0 = new Date('2026-11-20T10:00:00Z');
const at = (ms: number) => new Date(T0.getTime() + ms);
const DISCONNECT = 'disconnection: session time: 0:00:01.000 user=dba database=appdb host=10.0.0.5 port=50000';

let dir: string;
let store: AuditStore;
let pipeline: IngestPipeline;
let burstPipeline: IngestPipeline;
let batches = 0;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'auditduck-tx-order-'));
  store = await AuditStore.open(join(dir, 'store.duckdb'));
  pipeline = await IngestPipeline.create(store, { observers: [createDetector({ exclude: { users: [], databases: [], clientAddrs: [] } })] });
  // A second leader's pipeline on the same store whose bursts are three changes (its servers are its own).
  burstPipeline = await IngestPipeline.create(store, {
    observers: [createDetector({ exclude: { users: [], databases: [], clientAddrs: [] }, rules: { 'privilege-burst': { threshold: 3 } } })],
  });
});
after(async () => {
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** Each body one batch, as a hub's partitions hand them over one at a time. */
async function read(bodies: readonly DecodeResult[][], by = pipeline): Promise<void> {
  for (const body of bodies) await by.processBatch([...body], { sourceKey: null, source: `eventhubs:hub/${batches % 4}`, position: String(++batches) });
}

async function effectiveOf(server: string): Promise<[string, boolean][]> {
  const reader = await store.connection.runAndReadAll(
    `SELECT statement, effective FROM privilege_changes WHERE server = '${server}' ORDER BY logged_at, seq`,
  );
  return reader.getRows().map(([statement, effective]) => [String(statement), Boolean(effective)]);
}

/** The rebuilt memberships (role_memberships) and the alerts the outbox may grow (alert_keys) of a server. */
async function derivedOf(server: string): Promise<{ memberships: string[]; keys: number }> {
  const m = await store.connection.runAndReadAll(`SELECT role_name || ' > ' || member FROM role_memberships WHERE server = '${server}' ORDER BY 1`);
  const k = await store.connection.runAndReadAll(`SELECT count(*)::INTEGER FROM alert_keys WHERE server = '${server}'`);
  return { memberships: m.getRows().map(([row]) => String(row)), keys: Number(k.getRows()[0]![0]) };
}

async function alertsOf(server: string): Promise<[string, string][]> {
  const reader = await store.connection.runAndReadAll(`SELECT rule_id, status FROM alerts WHERE server = '${server}' AND rule_id = 'admin-granted' ORDER BY alert_id`);
  return reader.getRows().map(([rule, status]) => [String(rule), String(status)]);
}

/** A server's alerts of a rule by what they are (not by server or id), and the privilege changes each stands on. */
async function raisedOf(server: string, rule: string): Promise<Record<string, unknown>[]> {
  const reader = await store.connection.runAndReadAll(
    `SELECT a.rule_id, a.dedup_key, a.summary, a.actor, a.target, a.severity, a.count::INTEGER AS count, a.status,
            (SELECT count(*)::INTEGER FROM alert_changes c WHERE c.alert_id = a.alert_id) AS changes
     FROM alerts a WHERE a.server = '${server}' AND a.rule_id = '${rule}' ORDER BY a.alert_id`,
  );
  return reader.getRowObjectsJS();
}

/**
 * A server's admin-granted alerts that stand (not retracted), by key, count and status (not by summary: a change read
 * before its session's login has no actor yet, whatever the order of its transaction's lines).
 */
async function standingOf(server: string): Promise<unknown[][]> {
  const reader = await store.connection.runAndReadAll(
    `SELECT dedup_key, count::INTEGER, status FROM alerts WHERE server = '${server}' AND rule_id = 'admin-granted' AND status <> 'retracted' ORDER BY dedup_key`,
  );
  return reader.getRows();
}

/** Keys of a server with more than one admin-granted alert. */
async function raisedTwice(server: string): Promise<string[]> {
  const reader = await store.connection.runAndReadAll(
    `SELECT dedup_key FROM alerts WHERE server = '${server}' AND rule_id = 'admin-granted' GROUP BY dedup_key HAVING count(*) > 1 ORDER BY 1`,
  );
  return reader.getRows().map(([key]) => String(key));
}

/** A = the login, BEGIN(1) and `grants` GRANTs (ids 2, 3, …), C = their COMMIT, D = the disconnection. */
function openTransaction(server: string, grants: readonly string[]) {
  const s = login({ server, user: 'dba', at: T0 });
  const id = s.sessionId;
  const A = [...s.records, audit(server, id, at(10), 1, 'MISC', 'BEGIN', 'BEGIN;'), ...grants.map((g, i) => audit(server, id, at(20 + i), 2 + i, 'ROLE', 'GRANT ROLE', g))];
  return { A, C: [audit(server, id, at(60), 2 + grants.length, 'MISC', 'COMMIT', 'COMMIT;')], D: [record(server, at(70), id, 'LOG', DISCONNECT)] };
}

/** The reproduction of issue 17: A = BEGIN(1) GRANT(2), B = COMMIT(3) BEGIN(4) GRANT(5), C = COMMIT(6), D = the disconnection. */
function issueBodies(server: string) {
  const s = login({ server, user: 'dba', at: T0 });
  const id = s.sessionId;
  return {
    A: [...s.records, audit(server, id, at(10), 1, 'MISC', 'BEGIN', 'BEGIN;'), audit(server, id, at(20), 2, 'ROLE', 'GRANT ROLE', 'GRANT pg_monitor TO report_1;')],
    B: [
      audit(server, id, at(30), 3, 'MISC', 'COMMIT', 'COMMIT;'),
      audit(server, id, at(40), 4, 'MISC', 'BEGIN', 'BEGIN;'),
      audit(server, id, at(50), 5, 'ROLE', 'GRANT ROLE', 'GRANT pg_read_all_data TO report_1;'),
    ],
    C: [audit(server, id, at(60), 6, 'MISC', 'COMMIT', 'COMMIT;')],
    D: [record(server, at(70), id, 'LOG', DISCONNECT)],
  };
}

describe('transactions judged by statement id, not by arrival order', () => {
  it('keeps both grants effective when the bodies are read A, C, B, D', async () => {
    const { A, B, C, D } = issueBodies('pg-acbd');
    await read([A, C, B, D]);
    assert.deepEqual(await effectiveOf('pg-acbd'), [
      ['GRANT pg_monitor TO report_1;', true],
      ['GRANT pg_read_all_data TO report_1;', true],
    ]);
    assert.deepEqual(await alertsOf('pg-acbd'), [['admin-granted', 'open']]);
  });

  it('makes a grant effective again, and its alert open again, when its COMMIT arrives after the disconnection', async () => {
    const { A, B, C, D } = issueBodies('pg-abdc');
    await read([A, B, D]);
    assert.deepEqual(await effectiveOf('pg-abdc'), [
      ['GRANT pg_monitor TO report_1;', true],
      ['GRANT pg_read_all_data TO report_1;', false],
    ]);
    assert.deepEqual(await alertsOf('pg-abdc'), [['admin-granted', 'retracted']]);
    assert.deepEqual(await derivedOf('pg-abdc'), { memberships: ['pg_monitor > report_1'], keys: 0 });
    await read([C]);
    assert.deepEqual(await effectiveOf('pg-abdc'), [
      ['GRANT pg_monitor TO report_1;', true],
      ['GRANT pg_read_all_data TO report_1;', true],
    ]);
    assert.deepEqual(await alertsOf('pg-abdc'), [['admin-granted', 'open']]);
    assert.deepEqual(await derivedOf('pg-abdc'), { memberships: ['pg_monitor > report_1', 'pg_read_all_data > report_1'], keys: 1 });
  });

  it('brings an acknowledged alert back acknowledged, its acknowledgement intact, when its COMMIT arrives after the disconnection', async () => {
    const { A, B, C, D } = issueBodies('pg-ack');
    await read([A, B]);
    const [id] = (await store.connection.runAndReadAll(`SELECT alert_id FROM alerts WHERE server = 'pg-ack' AND rule_id = 'admin-granted'`)).getRows().map(([x]) => Number(x));
    assert.deepEqual(await acknowledgeAlerts(store.connection, [id!], 'analyst', 'ticket SEC-1', 'true-positive'), [id]);
    const acknowledgement = async () =>
      (await store.connection.runAndReadAll(`SELECT status, acknowledged_by, ack_comment, ack_classification, acknowledged_at::VARCHAR FROM alerts WHERE alert_id = ${id}`)).getRows()[0];
    const [, ...acked] = (await acknowledgement())!;
    await read([D]);
    assert.equal((await acknowledgement())![0], 'retracted');
    await read([C]);
    assert.deepEqual(await acknowledgement(), ['acknowledged', ...acked]);
    assert.deepEqual(await derivedOf('pg-ack'), { memberships: ['pg_monitor > report_1', 'pg_read_all_data > report_1'], keys: 1 });
  });

  for (const [k, [name, order]] of ([
    ['the disconnection read with it', (b: ReturnType<typeof openTransaction>) => [[...b.A, ...b.D]]],
    ['the disconnection read before it', (b: ReturnType<typeof openTransaction>) => [b.D, b.A]],
  ] as const).entries()) {
    it(`raises the alert of a grant stored ineffective (${name}) when its COMMIT arrives late, as the in-order read raises it, once`, async () => {
      const grant = ['GRANT pg_read_all_data TO report_9;'];
      const server = `pg-late-${k}`;
      const inOrder = openTransaction(`${server}-ordered`, grant);
      await read([inOrder.A, inOrder.C, inOrder.D]);
      const late = openTransaction(server, grant);
      await read(order(late));
      assert.deepEqual(await effectiveOf(server), [['GRANT pg_read_all_data TO report_9;', false]]);
      assert.deepEqual(await raisedOf(server, 'admin-granted'), []);
      await read([late.C]);
      assert.deepEqual(await effectiveOf(server), [['GRANT pg_read_all_data TO report_9;', true]]);
      const expected = await raisedOf(`${server}-ordered`, 'admin-granted');
      assert.equal(expected.length, 1);
      assert.deepEqual(await raisedOf(server, 'admin-granted'), expected);
      // Read again (a replayed body): the change is judged once.
      await read([late.C]);
      assert.deepEqual(await raisedOf(server, 'admin-granted'), expected);
    });
  }

  it('counts changes stored ineffective in a burst when their COMMIT arrives late, and a change counted before not twice', async () => {
    const grants = ['GRANT pg_monitor TO burst_1;', 'GRANT pg_monitor TO burst_2;', 'GRANT pg_monitor TO burst_3;'];
    const late = openTransaction('pg-burst-late', grants);
    await read([[...late.A, ...late.D]], burstPipeline);
    assert.deepEqual(await raisedOf('pg-burst-late', 'privilege-burst'), []);
    await read([late.C], burstPipeline);
    const burst = await raisedOf('pg-burst-late', 'privilege-burst');
    assert.deepEqual(burst.map((a) => [a.dedup_key, a.count, a.status]), [['dba', 3, 'open']]);
    // Counted when read (an open transaction), undone by the disconnection, made effective again: still three.
    const redone = openTransaction('pg-burst-redone', grants);
    await read([redone.A, redone.D, redone.C], burstPipeline);
    assert.deepEqual((await raisedOf('pg-burst-redone', 'privilege-burst')).map((a) => [a.dedup_key, a.count, a.status]), [['dba', 3, 'open']]);
  });

  it('raises a burst that a change counted when read, undone, then made effective again completes after another batch missed it', async () => {
    // Read A, D, E, C: E's grant is judged while A's two are undone, so its window holds one change; C makes
    // them effective again. The in-order read (A, C, D, E) has three changes in E's window: a burst.
    const server = 'pg-burst-gap';
    const redone = openTransaction(server, ['GRANT pg_monitor TO gap_1;', 'GRANT pg_monitor TO gap_2;']);
    const other = login({ server, user: 'dba', at: at(80) });
    const E = [...other.records, audit(server, other.sessionId, at(90), 1, 'ROLE', 'GRANT ROLE', 'GRANT pg_monitor TO gap_3;')];
    await read([redone.A, redone.D, E], burstPipeline);
    assert.deepEqual(await raisedOf(server, 'privilege-burst'), []);
    await read([redone.C], burstPipeline);
    assert.deepEqual((await raisedOf(server, 'privilege-burst')).map((a) => [a.dedup_key, a.status]), [['dba', 'open']]);
  });

  it('raises a burst that changes stored before their session was known complete, once their session\'s login arrives', async () => {
    // Read X, E, L: X's two grants are stored without their actor (their session's login is in L), E's grant is
    // judged with a window of one; L fills in X's actor. The in-order read (L, X, E) has three in E's window.
    const server = 'pg-burst-unattributed';
    const s = login({ server, user: 'dba', at: T0 });
    const X = [audit(server, s.sessionId, at(10), 1, 'ROLE', 'GRANT ROLE', 'GRANT pg_monitor TO fill_1;'), audit(server, s.sessionId, at(20), 2, 'ROLE', 'GRANT ROLE', 'GRANT pg_monitor TO fill_2;')];
    const other = login({ server, user: 'dba', at: at(80) });
    const E = [...other.records, audit(server, other.sessionId, at(90), 1, 'ROLE', 'GRANT ROLE', 'GRANT pg_monitor TO fill_3;')];
    await read([X, E], burstPipeline);
    assert.deepEqual(await raisedOf(server, 'privilege-burst'), []);
    await read([s.records], burstPipeline);
    assert.deepEqual((await raisedOf(server, 'privilege-burst')).map((a) => [a.dedup_key, a.status]), [['dba', 'open']]);
  });

  it('undoes a grant whose ROLLBACK arrives first, and keeps the one committed after it', async () => {
    const server = 'pg-rollback-first';
    const s = login({ server, user: 'dba', at: T0 });
    const id = s.sessionId;
    await read([
      [audit(server, id, at(30), 3, 'MISC', 'ROLLBACK', 'ROLLBACK;'), audit(server, id, at(40), 4, 'ROLE', 'GRANT ROLE', 'GRANT pg_monitor TO report_2;')],
      [...s.records, audit(server, id, at(10), 1, 'MISC', 'BEGIN', 'BEGIN;'), audit(server, id, at(20), 2, 'ROLE', 'GRANT ROLE', 'GRANT pg_read_all_data TO report_2;')],
      [record(server, at(70), id, 'LOG', DISCONNECT)],
    ]);
    assert.deepEqual(await effectiveOf(server), [
      ['GRANT pg_read_all_data TO report_2;', false],
      ['GRANT pg_monitor TO report_2;', true],
    ]);
  });

  it('stores the effective of every change, and raises its alert, as the in-order read does, whatever order the bodies arrive in (property)', async () => {
    let run = 0;
    const seen = new Set<boolean>();
    await fc.assert(
      fc.asyncProperty(sessionArbitrary, fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 8, maxLength: 8 }), fc.array(fc.nat(), { minLength: 60, maxLength: 60 }), async (steps, cuts, order) => {
        run++;
        const inOrder = `pg-prop-${run}-ordered`;
        const shuffled = `pg-prop-${run}-shuffled`;
        await read(bodiesOf(inOrder, steps, cuts));
        await read(permute(bodiesOf(shuffled, steps, cuts), order));
        const expected = await effectiveOf(inOrder);
        for (const [, effective] of expected) seen.add(effective);
        assert.deepEqual(await effectiveOf(shuffled), expected);
        // Each change is an admin grant to its own role: an alert stands for each effective one, raised once.
        assert.deepEqual(await standingOf(shuffled), await standingOf(inOrder));
        assert.deepEqual(await raisedTwice(shuffled), []);
      }),
      { numRuns: 60 },
    );
    assert.deepEqual([...seen].sort(), [false, true], 'the sessions generated have changes that took effect and changes that did not');
  });
});

/** One line of a session in log order; `stmt` is a change (a distinct role per line). */
type Step =
  | { kind: 'begin' | 'commit' | 'rollback' | 'change' | 'set-role' | 'reset-role' }
  | { kind: 'savepoint' | 'release' | 'rollback-to'; name: string };

/** A session of transactions (committed, rolled back, one maybe left open at the end), with changes in and between them. */
const sessionArbitrary: fc.Arbitrary<Step[]> = fc
  .array(
    fc.oneof(
      fc.constant<Step[]>([{ kind: 'change' }]),
      fc.constant<Step[]>([{ kind: 'set-role' }]),
      fc.constant<Step[]>([{ kind: 'reset-role' }]),
      fc.tuple(
        fc.array(
          fc.oneof(
            { weight: 4, arbitrary: fc.constant<Step>({ kind: 'change' }) },
            { weight: 1, arbitrary: fc.constant<Step>({ kind: 'set-role' }) },
            { weight: 1, arbitrary: fc.constantFrom('a', 'b').map<Step>((name) => ({ kind: 'savepoint', name })) },
            { weight: 1, arbitrary: fc.constantFrom('a', 'b').map<Step>((name) => ({ kind: 'release', name })) },
            { weight: 1, arbitrary: fc.constantFrom('a', 'b').map<Step>((name) => ({ kind: 'rollback-to', name })) },
          ),
          { maxLength: 6 },
        ),
        fc.constantFrom('commit', 'rollback', 'commit', 'rollback', 'open'),
      ).map(([inside, end]) => [{ kind: 'begin' } as Step, ...inside, ...(end === 'open' ? [] : [{ kind: end } as Step])]),
    ),
    { minLength: 1, maxLength: 6 },
  )
  // Only the last transaction may be left open (a BEGIN inside a transaction changes nothing in PostgreSQL).
  .map((groups) => groups.flatMap((g, i) => (i < groups.length - 1 && g[0]!.kind === 'begin' && !['commit', 'rollback'].includes(g.at(-1)!.kind) ? [...g, { kind: 'commit' } as Step] : g)))
  .map(realistic);

/** Only what PostgreSQL runs: RELEASE and ROLLBACK TO name a savepoint of the open transaction. */
function realistic(steps: readonly Step[]): Step[] {
  let points: string[] = [];
  return steps.filter((step) => {
    if (step.kind === 'begin' || step.kind === 'commit' || step.kind === 'rollback') points = [];
    if (step.kind === 'savepoint') points.push(step.name);
    if (step.kind !== 'release' && step.kind !== 'rollback-to') return true;
    const i = points.lastIndexOf(step.name);
    if (i < 0) return false;
    points.length = step.kind === 'release' ? i : i + 1;
    return true;
  });
}

/** The session's lines with ids 1, 2, … (a gap now and then, as for statements pgaudit did not log), cut into bodies. */
function bodiesOf(server: string, steps: readonly Step[], cuts: readonly number[]): DecodeResult[][] {
  const s = login({ server, user: 'dba', at: T0 });
  const id = s.sessionId;
  const lines: DecodeResult[] = [...s.records];
  let statementId = 0;
  steps.forEach((step, i) => {
    statementId += 1 + (i % 5 === 4 ? 1 : 0);
    const t = at(10 * (i + 1));
    switch (step.kind) {
      case 'begin':
        lines.push(audit(server, id, t, statementId, 'MISC', 'BEGIN', 'BEGIN;'));
        break;
      case 'commit':
        lines.push(audit(server, id, t, statementId, 'MISC', 'COMMIT', 'COMMIT;'));
        break;
      case 'rollback':
        lines.push(audit(server, id, t, statementId, 'MISC', 'ROLLBACK', 'ROLLBACK;'));
        break;
      case 'change':
        lines.push(audit(server, id, t, statementId, 'ROLE', 'GRANT ROLE', `GRANT pg_read_all_data TO report_${i};`));
        break;
      case 'set-role':
        lines.push(audit(server, id, t, statementId, 'MISC', 'SET', `SET ROLE admin_${i};`));
        break;
      case 'reset-role':
        lines.push(audit(server, id, t, statementId, 'MISC', 'RESET', 'RESET ROLE;'));
        break;
      case 'savepoint':
        lines.push(audit(server, id, t, statementId, 'MISC', 'SAVEPOINT', `SAVEPOINT ${step.name};`));
        break;
      case 'release':
        lines.push(audit(server, id, t, statementId, 'MISC', 'RELEASE', `RELEASE SAVEPOINT ${step.name};`));
        break;
      case 'rollback-to':
        lines.push(audit(server, id, t, statementId, 'MISC', 'ROLLBACK', `ROLLBACK TO SAVEPOINT ${step.name};`));
        break;
      default: {
        const never: never = step;
        return never;
      }
    }
  });
  lines.push(record(server, at(10 * (steps.length + 1)), id, 'LOG', DISCONNECT));
  const bodies: DecodeResult[][] = [];
  for (let from = 0, k = 0; from < lines.length; k++) {
    const size = cuts[k % cuts.length]!;
    bodies.push(lines.slice(from, from + size));
    from += size;
  }
  return bodies;
}

function permute<T>(items: readonly T[], order: readonly number[]): T[] {
  const left = [...items];
  const out: T[] = [];
  for (let k = 0; left.length > 0; k++) out.push(left.splice(order[k % order.length]! % left.length, 1)[0]!);
  return out;
}
