/**
 * `LastLogins` answers what `dormant-role-login` used to read from `sessions` each batch (the latest start of
 * another session of the user before the login), kept from batch to batch: checked against that query, in the
 * same transaction, on random trails with logins out of order, sessions whose connection lines span batches, a
 * session a later line gives another user, restarts (a new process, the same store) and batches that roll back.
 */
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DecodeResult } from '../../src/contracts/log-record.js';
import { LastLogins, type LoginAsked } from '../../src/detect/last-logins.js';
import type { InTransactionWriter, WrittenBatch } from '../../src/detect/written-batch.js';
import { IngestPipeline } from '../../src/pipeline/ingest-pipeline.js';
import { runQueryOverRows } from '../../src/query/run-query.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { sqlString } from '../../src/store/sql-literal.js';
import { sessionKey } from '../../src/contracts/session-key.js';
import { record, sessionIdAt } from '../support/detection-records.js';
import { loggingStatements } from '../support/statement-log.js';
import { openHarness, NO_EXCLUSIONS, type Harness } from './detection-harness.js';

const T0 = Date.parse('2026-10-01T00:00:00.000Z');
const DAY = 86_400_000;
const USERS = ['app', 'report', 'ops'];

/** What the rule read before: the query over `sessions`, in the batch's transaction. */
async function previousByQuery(connection: DuckDBConnection, asked: readonly LoginAsked[]): Promise<(string | null)[]> {
  const rows = await runQueryOverRows(
    connection,
    { w_server: 'VARCHAR', w_user: 'VARCHAR', w_session: 'VARCHAR', w_at: 'TIMESTAMPTZ' },
    asked.map((a) => ({ w_server: a.server, w_user: a.user, w_session: a.sessionId, w_at: a.at })),
    (list) => `SELECT (SELECT max(s.started_at) FROM sessions s WHERE s.server = w.w_server AND s.user_name = w.w_user AND s.session_id <> w.w_session
                 AND s.started_at < w.w_at) AS last_login
       FROM ${list} w ORDER BY w.i`,
  );
  return rows.map((r) => (r.last_login as string | null) ?? null);
}

/** What `firstStoredAfter` read before: each user's earliest stored login of a session the batch brought no login of. */
async function firstStoredAfterByQuery(connection: DuckDBConnection, earliest: readonly LoginAsked[], batchSessions: ReadonlySet<string>): Promise<(string | null)[]> {
  const rows = await runQueryOverRows(
    connection,
    { w_server: 'VARCHAR', w_user: 'VARCHAR', w_at: 'TIMESTAMPTZ' },
    earliest.map((a) => ({ w_server: a.server, w_user: a.user, w_at: a.at })),
    (list) => `SELECT (SELECT arg_min(s.session_id, (s.started_at, s.session_id)) FROM sessions s
                 WHERE s.server = w.w_server AND s.user_name = w.w_user AND s.started_at IS NOT NULL
                   AND NOT list_contains(${`[${[...batchSessions].map(sqlString).join(', ')}]::VARCHAR[]`}, s.server || chr(0) || s.session_id)
                 HAVING min(s.started_at) > w.w_at) AS session_id
       FROM ${list} w ORDER BY w.i`,
  );
  return rows.map((r) => (r.session_id as string | null) ?? null);
}

/** The batch's logins as `dormant-role-login` asks about them: each user's earliest, at its session's start. */
function earliestLogins(batch: WrittenBatch): { earliest: LoginAsked[]; batchSessions: Set<string> } {
  const merged = new Map((batch.mergedSessions ?? []).map((s) => [sessionKey(s.server, s.sessionId), s]));
  const earliest = new Map<string, LoginAsked>();
  const batchSessions = new Set<string>();
  for (const entry of batch.entries) {
    if (entry.kind !== 'session' || entry.session.event !== 'authorized' || entry.record.sessionId === null) continue;
    const key = sessionKey(entry.record.server, entry.record.sessionId);
    const session = merged.get(key);
    if (!session || session.userName === null) continue;
    batchSessions.add(key);
    const at = new Date(session.startedAtMicros === null ? entry.record.loggedAt.getTime() : Math.trunc(session.startedAtMicros / 1000));
    const known = earliest.get(`${session.server}\u0000${session.userName}`);
    if (!known || at < known.at) earliest.set(`${session.server}\u0000${session.userName}`, { server: session.server, user: session.userName, sessionId: session.sessionId, at });
  }
  return { earliest: [...earliest.values()], batchSessions };
}

/** Asks `LastLogins` and the query the same questions in every batch's transaction; a batch may be made to fail after. */
class Checker implements InTransactionWriter {
  readonly readsMergedSessions = true;
  lastLogins = new LastLogins();
  asks: LoginAsked[] = [];
  failNext = false;
  compared = 0;

  rolledBack(): void {
    this.lastLogins.forget();
  }

  async inTransaction(connection: DuckDBConnection, batch: WrittenBatch): Promise<void> {
    const got = await this.lastLogins.previous(connection, batch.mergedSessions, this.asks);
    assert.deepEqual(got, await previousByQuery(connection, this.asks), `batch ${batch.position}`);
    this.compared += this.asks.length;
    const { earliest, batchSessions } = earliestLogins(batch);
    const followed = await this.lastLogins.firstStoredAfter(connection, earliest, batchSessions);
    assert.deepEqual(
      followed.map((f) => f?.sessionId ?? null),
      await firstStoredAfterByQuery(connection, earliest, batchSessions),
      `stored logins after the batch's, batch ${batch.position}`,
    );
    if (this.failNext) {
      this.failNext = false;
      throw new Error('this batch rolls back');
    }
  }
}

type Step =
  | { kind: 'login'; user: number; day: number; ms: number; split: boolean }
  | { kind: 'disconnect'; session: number; user: number }
  | { kind: 'batch'; fails: boolean }
  | { kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('login' as const), user: fc.nat(USERS.length - 1), day: fc.nat(80), ms: fc.nat(999), split: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), session: fc.nat(40), user: fc.nat(USERS.length - 1) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('batch' as const), fails: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const) }) },
);

describe('LastLogins', () => {
  it('gives the previous login the query over sessions gives, batch after batch, across restarts and rollbacks', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-last-logins-'));
    let run = 0;
    let compared = 0;
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
          const path = join(dir, `store-${run++}.duckdb`);
          let store = await AuditStore.open(path);
          let checker = new Checker();
          let pipeline = await IngestPipeline.create(store, { observers: [checker] });
          const sessions: { id: string; at: number; user: number }[] = [];
          let pending: DecodeResult[] = [];
          let later: DecodeResult[] = [];
          let pid = 100;
          let position = 0;
          const flush = async (fails: boolean) => {
            // Asked of every user at each login's time and a few other times: who logged in before then.
            checker.asks = USERS.flatMap((user, u) => [
              ...sessions.filter((s) => s.user === u).map((s) => ({ server: 'pg1', user, sessionId: s.id, at: new Date(s.at) })),
              { server: 'pg1', user, sessionId: 'none', at: new Date(T0 + 90 * DAY) },
              { server: 'pg1', user, sessionId: 'none', at: new Date(T0 + 20 * DAY) },
            ]);
            checker.failNext = fails;
            const results = pending;
            pending = later;
            later = [];
            try {
              await pipeline.processBatch(results, { sourceKey: null, source: 'synthetic', position: String(++position) });
              assert.equal(fails, false, 'a batch made to fail rolls back');
            } catch (error) {
              if (!fails) throw error;
            }
          };
          try {
            for (const s of steps) {
              if (s.kind === 'login') {
                const at = T0 + s.day * DAY + s.ms;
                const id = sessionIdAt(new Date(at), pid++);
                sessions.push({ id, at, user: s.user });
                const lines = [
                  record('pg1', new Date(at), id, 'LOG', 'connection received: host=10.0.0.5 port=50000'),
                  record('pg1', new Date(at + 2), id, 'LOG', `connection authorized: user=${USERS[s.user]} database=appdb application_name=psql`),
                ];
                // Split: the authorized line comes a batch later, so the session is first stored without its user.
                pending.push(lines[0]!);
                (s.split ? later : pending).push(lines[1]!);
              } else if (s.kind === 'disconnect') {
                const session = sessions[s.session % Math.max(1, sessions.length)];
                if (!session) continue;
                // After a restart the tracker takes this line's user; the store's coalesce then changes the session's user.
                pending.push(record('pg1', new Date(session.at + 5000), session.id, 'LOG', `disconnection: session time: 0:00:05.000 user=${USERS[s.user]} database=appdb host=10.0.0.5 port=50000`));
              } else if (s.kind === 'batch') {
                await flush(s.fails);
              } else {
                await pipeline.drain();
                await store.close();
                store = await AuditStore.open(path);
                checker = new Checker();
                pipeline = await IngestPipeline.create(store, { observers: [checker] });
              }
            }
            await flush(false);
            await flush(false);
            compared += checker.compared;
          } finally {
            await pipeline.drain();
            await store.close();
            await rm(path, { force: true });
            await rm(`${path}.wal`, { force: true });
          }
        }),
        { numRuns: 25 },
      );
      assert.ok(compared > 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('LastLogins, what it reads', () => {
  it("reads `sessions` once after a start, then not at all for logins that follow every stored one, though the user's kept starts are the batch's own", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'auditduck-last-logins-reads-'));
    const store = await AuditStore.open(join(dir, 'store.duckdb'));
    const read: { previous: string[]; followed: string[]; answers: (string | null)[] }[] = [];
    let lastLogins = new LastLogins();
    const writer: InTransactionWriter = {
      readsMergedSessions: true,
      async inTransaction(connection, batch) {
        const { earliest, batchSessions } = earliestLogins(batch);
        const previous = loggingStatements(connection);
        const answers = await lastLogins.previous(previous.connection, batch.mergedSessions, earliest);
        const followed = loggingStatements(connection);
        const next = await lastLogins.firstStoredAfter(followed.connection, earliest, batchSessions);
        assert.deepEqual(next, [null]);
        read.push({ previous: previous.statements, followed: followed.statements, answers });
      },
    };
    const pipeline = await IngestPipeline.create(store, { observers: [writer] });
    try {
      let pid = 100;
      // Three logins a batch: more than the two starts kept of a user, so after the batch both are the batch's.
      for (let b = 0; b < 3; b++) {
        // A restart before the third: a new process knows nothing of the logins.
        if (b === 2) lastLogins = new LastLogins();
        const lines = [0, 1, 2].flatMap((k) => {
          const at = new Date(T0 + b * DAY + k * 60_000);
          const id = sessionIdAt(at, pid++);
          return [
            record('pg1', at, id, 'LOG', 'connection received: host=10.0.0.5 port=50000'),
            record('pg1', new Date(at.getTime() + 2), id, 'LOG', 'connection authorized: user=app database=appdb application_name=psql'),
          ];
        });
        await pipeline.processBatch(lines, { sourceKey: null, source: 'synthetic', position: String(b + 1) });
      }
      const lastOfDay = (day: number) => new Date(T0 + day * DAY + 2 * 60_000).toISOString();
      assert.deepEqual(
        read.map((r) => ({ previous: r.previous.length, followed: r.followed.length, answers: r.answers })),
        [
          { previous: 1, followed: 0, answers: [null] },
          { previous: 0, followed: 0, answers: [lastOfDay(0)] },
          { previous: 1, followed: 0, answers: [lastOfDay(1)] },
        ],
      );
    } finally {
      await pipeline.drain();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('dormant-role-login with the kept last logins', () => {
  let h: Harness | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const loginOf = (user: string, at: number): DecodeResult[] => {
    const id = sessionIdAt(new Date(at), Math.floor(at / 1000) % 60_000);
    return [
      record('pg1', new Date(at), id, 'LOG', 'connection received: host=10.0.0.5 port=50000'),
      record('pg1', new Date(at + 2), id, 'LOG', `connection authorized: user=${user} database=appdb application_name=psql`),
    ];
  };
  const config = { exclude: NO_EXCLUSIONS };

  it('fires on a last login many batches older than the batch, and after a restart as without one', async () => {
    dir = await mkdtemp(join(tmpdir(), 'auditduck-dormant-'));
    const path = join(dir, 'store.duckdb');
    h = await openHarness(config, path);
    await h.feed(loginOf('old_app', T0));
    for (let day = 1; day <= 5; day++) await h.feed(loginOf('busy', T0 + day * DAY));
    await h.close();
    // A new process on the same store: the last logins are read from it.
    h = await openHarness(config, path);
    await h.feed(loginOf('busy', T0 + 6 * DAY));
    await h.feed(loginOf('old_app', T0 + 40 * DAY));
    const dormant = await h.alerts('dormant-role-login');
    assert.deepEqual(dormant.map((a) => a.target), ['old_app']);
    assert.equal(JSON.parse(String(dormant[0]!.evidence)).samples[0].previousLogin, new Date(T0).toISOString());
  });

  it('a login arriving out of order counts back from its own time, and retracts the alert of the later login it precedes', async () => {
    h = await openHarness(config);
    await h.feed(loginOf('app', T0));
    await h.feed(loginOf('app', T0 + 50 * DAY));
    // Late: 35 days after the first login, 15 before the second: dormant by the first, and the second is not.
    await h.feed(loginOf('app', T0 + 35 * DAY));
    const dormant = await h.alerts('dormant-role-login');
    assert.deepEqual(
      dormant.map((a) => [a.status, JSON.parse(String(a.evidence)).samples[0].loggedAt]),
      [['retracted', new Date(T0 + 50 * DAY).toISOString()], ['open', new Date(T0 + 35 * DAY).toISOString()]],
    );
    assert.equal(JSON.parse(String(dormant[1]!.evidence)).samples[0].previousLogin, new Date(T0).toISOString());
  });

  it('judges every login of a batch, not only its first: a batch that holds both ends of a dormancy raises it', async () => {
    h = await openHarness(config);
    await h.feed(loginOf('app', T0));
    await h.feed([...loginOf('app', T0 + 40 * DAY), ...loginOf('app', T0 + 80 * DAY)]);
    const dormant = await h.alerts('dormant-role-login');
    assert.deepEqual(dormant.map((a) => JSON.parse(String(a.evidence)).samples[0].loggedAt).sort(), [new Date(T0 + 40 * DAY).toISOString(), new Date(T0 + 80 * DAY).toISOString()]);
  });

  it('a batch that rolls back leaves no login behind for the next one', async () => {
    h = await openHarness(config);
    await h.feed(loginOf('app', T0));
    const failing: InTransactionWriter = {
      async inTransaction() {
        throw new Error('this batch rolls back');
      },
    };
    const pipeline = await IngestPipeline.create(h.store, { observers: [h.detector, failing] });
    await assert.rejects(pipeline.processBatch(loginOf('app', T0 + 10 * DAY), { sourceKey: null, source: 'synthetic', position: 'x' }));
    // 35 days after the only stored login: dormant (the rolled-back login 10 days in would have made it 25).
    await h.feed(loginOf('app', T0 + 35 * DAY));
    assert.deepEqual((await h.alerts('dormant-role-login')).map((a) => a.target), ['app']);
  });
});
