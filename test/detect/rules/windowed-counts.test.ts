/**
 * The windowed rules used to count with one SQL query each (issue 21 made them count over one read of the table
 * a batch, in JavaScript). Here the queries they ran are the reference: on random rows and windows (NULL keys,
 * times finer than a millisecond, ties, several servers) the counts, first times and lists must be the same.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { runQuery } from '../../../src/query/run-query.js';
import { sqlString } from '../../../src/store/sql-literal.js';
import { StoredWindows, type StoredTable } from '../../../src/detect/stored-windows.js';
import { distinctSorted, earliest, rowsInWindows, spanOf } from '../../../src/detect/rules/windowed-counts.js';
import { failuresFromHost, failuresOfUser } from '../../../src/detect/rules/authentication.js';
import { isPrivilegeChange } from '../../../src/detect/rules/change-control.js';
import { latestCreate } from '../../../src/detect/rules/role-lifecycle.js';
import type { PrivilegeAction } from '../../../src/analyze/privileges/privilege-change.js';

const T0 = Date.parse('2026-11-20T10:00:00Z');
const SERVERS = ['pg-a', 'pg-b'];
const NAMES = ['alice', 'bob', 'Émile', '𝔷eta', 'ﬀoo', 'zed', null];
const HOSTS = ['10.0.0.1', '10.0.0.2', '127.0.0.1', null];
const SQLSTATES = ['28P01', '28000', '57P03', null];
const ACTIONS: PrivilegeAction[] = ['create-role', 'drop-role', 'grant-role', 'set-role', 'set-parameter', 'reset-role', 'grant', 'set-attribute'];
const OBJECT_TYPES = ['session', 'role', 'database', null];
/** Row times: up to 20 minutes after T0, in microseconds, often on a whole millisecond (window ends are). */
const micros = fc.oneof(fc.integer({ min: 0, max: 1_200_000 }).map((ms) => ms * 1000), fc.integer({ min: 0, max: 1_200_000_000 }));
const window = fc.record({ server: fc.constantFrom(...SERVERS), key: fc.constantFrom(...NAMES.filter((n) => n !== null), ...HOSTS.filter((h) => h !== null)), atMs: fc.integer({ min: 0, max: 1_200_000 }) });

const authRow = fc.record({ server: fc.constantFrom(...SERVERS), at: micros, user: fc.constantFrom(...NAMES), host: fc.constantFrom(...HOSTS), sqlstate: fc.constantFrom(...SQLSTATES) });
const changeRow = fc.record({
  server: fc.constantFrom(...SERVERS), at: micros, actor: fc.constantFrom(...NAMES), action: fc.constantFrom(...ACTIONS),
  role: fc.constantFrom(...NAMES), objectType: fc.constantFrom(...OBJECT_TYPES), effective: fc.boolean(),
});

const ts = (us: number) => `make_timestamptz(${T0 * 1000 + us}::BIGINT)`;
const text = (v: string | null) => (v === null ? 'NULL' : sqlString(v));
const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** The query the windowed rules ran before (countInWindows), as it was. */
function oldCount(table: StoredTable, keyColumn: string, where: string, aggregates: string, windows: { server: string; key: string; at: Date }[], minutes: number): string {
  const span = minutes * 60_000;
  const values = windows.map((w, i) => `(${i}, ${sqlString(w.server)}, ${sqlString(w.key)}, ${sqlString(new Date(w.at.getTime() - span).toISOString())}::TIMESTAMPTZ, ${sqlString(w.at.toISOString())}::TIMESTAMPTZ)`);
  const ends = windows.map((w) => w.at.getTime());
  const from = sqlString(new Date(Math.min(...ends) - span).toISOString());
  const to = sqlString(new Date(Math.max(...ends)).toISOString());
  return `SELECT ${aggregates}
       FROM (VALUES ${values.join(', ')}) w(i, w_server, w_key, w_since, w_at)
       LEFT JOIN (SELECT * FROM ${table} WHERE logged_at > ${from}::TIMESTAMPTZ AND logged_at <= ${to}::TIMESTAMPTZ) r
         ON r.server = w.w_server AND r.${keyColumn} = w.w_key AND (${where})
         AND r.logged_at > w.w_since AND r.logged_at <= w.w_at
       GROUP BY w.i ORDER BY w.i`;
}

const OLD_FAILURES_OF_USER = `count(r.logged_at) AS n, min(r.logged_at) AS first, list(DISTINCT r.client_addr ORDER BY r.client_addr) FILTER (WHERE r.client_addr IS NOT NULL) AS hosts`;
const OLD_SPRAY = `count(DISTINCT r.user_name) AS users, count(r.logged_at) AS n, min(r.logged_at) AS first, list(DISTINCT r.user_name ORDER BY r.user_name) AS names`;
const OLD_IS_PRIVILEGE_CHANGE = `r.action NOT IN ('set-role', 'reset-role', 'set-session-authorization')
  AND NOT (r.action IN ('set-parameter', 'reset-parameter') AND r.object_type IS NOT DISTINCT FROM 'session')`;

describe('windowed counts over one read of the table, against the queries they replace', () => {
  let instance: DuckDBInstance;
  let c: DuckDBConnection;
  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    c = await instance.connect();
    await c.run(`CREATE TABLE auth_failures (server VARCHAR, logged_at TIMESTAMPTZ, user_name VARCHAR, client_addr VARCHAR, sqlstate VARCHAR);
      CREATE TABLE privilege_changes (server VARCHAR, logged_at TIMESTAMPTZ, actor VARCHAR, action VARCHAR, role_name VARCHAR, object_type VARCHAR, effective BOOLEAN)`);
  });
  after(() => {
    c.closeSync();
    instance.closeSync();
  });

  it('lists names in the order DuckDB sorts text (UTF-8 bytes), not JavaScript strings (UTF-16)', async () => {
    const names = ['zed', '𝔷eta', 'ﬀoo', 'Émile', 'alice', 'zed', null];
    const expected = (await runQuery(c, `SELECT list(DISTINCT x ORDER BY x) FILTER (WHERE x IS NOT NULL) AS l FROM (VALUES ${names.map((n) => `(${text(n)})`).join(', ')}) t(x)`)).rows[0]!.l;
    assert.deepEqual(distinctSorted(names), expected);
    assert.deepEqual(distinctSorted([null]), null);
  });

  async function fillAuth(rows: { server: string; at: number; user: string | null; host: string | null; sqlstate: string | null }[]) {
    await c.run('DELETE FROM auth_failures');
    if (rows.length > 0) {
      await c.run(`INSERT INTO auth_failures VALUES ${rows.map((r) => `(${sqlString(r.server)}, ${ts(r.at)}, ${text(r.user)}, ${text(r.host)}, ${text(r.sqlstate)})`).join(', ')}`);
    }
  }

  it('brute force and failures-then-success: failures of a user, their first time and hosts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(authRow, { maxLength: 60 }), fc.array(window, { minLength: 1, maxLength: 8 }), fc.constantFrom(1, 2.5, 5, 10), async (rows, ws, minutes) => {
        await fillAuth(rows);
        const windows = ws.map((w) => ({ server: w.server, key: w.key, at: new Date(T0 + w.atMs) }));
        const expected = (await runQuery(c, oldCount('auth_failures', 'user_name', `r.sqlstate IN ('28P01')`, OLD_FAILURES_OF_USER, windows, minutes))).rows;
        const span = spanOf('auth_failures', windows, minutes)!;
        const stored = (await StoredWindows.read(c, [span])).rows(span);
        const got = rowsInWindows(stored, windows, { keyOf: (r) => r.userName, where: (r) => r.sqlstate === '28P01', minutes }).map(failuresOfUser);
        assert.deepEqual(
          got.map((g) => ({ n: g.n, first: iso(g.first), hosts: g.hosts })),
          expected.map((e) => ({ n: Number(e.n), first: e.first, hosts: e.hosts })),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('password spray: failed logins from a host, the users they tried', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(authRow, { maxLength: 60 }), fc.array(window, { minLength: 1, maxLength: 8 }), fc.constantFrom(1, 10), async (rows, ws, minutes) => {
        await fillAuth(rows);
        const windows = ws.map((w) => ({ server: w.server, key: w.key, at: new Date(T0 + w.atMs) }));
        const expected = (await runQuery(c, oldCount('auth_failures', 'client_addr', `r.sqlstate IN ('28P01', '28000')`, OLD_SPRAY, windows, minutes))).rows;
        const span = spanOf('auth_failures', windows, minutes)!;
        const stored = (await StoredWindows.read(c, [span])).rows(span);
        const got = rowsInWindows(stored, windows, { keyOf: (r) => r.clientAddr, where: (r) => r.sqlstate === '28P01' || r.sqlstate === '28000', minutes }).map(failuresFromHost);
        // Only a window that raises an alert (n > 0 in it) shows its names and first time.
        assert.deepEqual(
          got.map((g) => ({ users: g.users, n: g.n, first: iso(g.first), names: g.n > 0 ? g.names : null })),
          expected.map((e) => ({ users: Number(e.users), n: Number(e.n), first: e.first, names: Number(e.n) > 0 ? e.names : null })),
        );
      }),
      { numRuns: 60 },
    );
  });

  async function fillChanges(rows: { server: string; at: number; actor: string | null; action: string; role: string | null; objectType: string | null; effective: boolean }[]) {
    await c.run('DELETE FROM privilege_changes');
    if (rows.length > 0) {
      await c.run(`INSERT INTO privilege_changes VALUES ${rows.map((r) => `(${sqlString(r.server)}, ${ts(r.at)}, ${text(r.actor)}, ${sqlString(r.action)}, ${text(r.role)}, ${text(r.objectType)}, ${r.effective})`).join(', ')}`);
    }
  }

  it('privilege burst: effective privilege changes of an actor and the first of them', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(changeRow, { maxLength: 60 }), fc.array(window, { minLength: 1, maxLength: 8 }), fc.constantFrom(1, 5), async (rows, ws, minutes) => {
        await fillChanges(rows);
        const windows = ws.map((w) => ({ server: w.server, key: w.key, at: new Date(T0 + w.atMs) }));
        const expected = (await runQuery(c, oldCount('privilege_changes', 'actor', `r.effective AND ${OLD_IS_PRIVILEGE_CHANGE}`, 'count(r.logged_at) AS n, min(r.logged_at) AS first', windows, minutes))).rows;
        const span = spanOf('privilege_changes', windows, minutes)!;
        const stored = (await StoredWindows.read(c, [span])).rows(span);
        const got = rowsInWindows(stored, windows, {
          keyOf: (r) => r.actor,
          where: (r) => r.effective && isPrivilegeChange({ action: r.action as PrivilegeAction, objectType: r.objectType }),
          minutes,
        });
        assert.deepEqual(
          got.map((g) => ({ n: g.length, first: iso(earliest(g)) })),
          expected.map((e) => ({ n: Number(e.n), first: e.first })),
        );
      }),
      { numRuns: 60 },
    );
  });

  it('role created and dropped: the latest CREATE before each drop, and who made it', async () => {
    const drop = fc.record({ server: fc.constantFrom(...SERVERS), role: fc.constantFrom(...NAMES.filter((n) => n !== null)), atMs: fc.integer({ min: 0, max: 1_200_000 }) });
    const creates = changeRow.map((r) => ({ ...r, action: 'create-role' as PrivilegeAction }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(changeRow, creates), { maxLength: 60 }), fc.array(drop, { minLength: 1, maxLength: 6 }), fc.constantFrom(1, 5, 2.5), async (rows, drops, minutes) => {
        await fillChanges(rows);
        const values = drops.map((d, i) => `(${i}, ${sqlString(d.server)}, ${sqlString(d.role)}, ${sqlString(new Date(T0 + d.atMs).toISOString())}::TIMESTAMPTZ)`);
        // arg_max over ties of the latest time picks any of them: ties are left out of the comparison of makers.
        const expected = (await runQuery(c, `SELECT max(r.logged_at) AS created_at, arg_max(r.actor, r.logged_at) AS created_by,
             count(*) FILTER (WHERE r.actor IS NOT NULL AND r.logged_at = (SELECT max(r2.logged_at) FROM privilege_changes r2 WHERE r2.server = w.w_server AND r2.role_name = w.w_role
               AND r2.action = 'create-role' AND r2.effective AND r2.actor IS NOT NULL AND r2.logged_at BETWEEN w.w_drop - to_milliseconds(${minutes * 60_000}::BIGINT) AND w.w_drop)) AS makers_at_latest
           FROM (VALUES ${values.join(', ')}) w(i, w_server, w_role, w_drop)
           LEFT JOIN privilege_changes r ON r.server = w.w_server AND r.role_name = w.w_role AND r.action = 'create-role' AND r.effective
             AND r.logged_at BETWEEN w.w_drop - to_milliseconds(${minutes * 60_000}::BIGINT) AND w.w_drop
           GROUP BY w.i, w.w_server, w.w_role, w.w_drop ORDER BY w.i`)).rows;
        const span = { table: 'privilege_changes' as const, fromMicros: (Math.min(...drops.map((d) => T0 + d.atMs)) - Math.round(minutes * 60_000)) * 1000 - 1, toMicros: (T0 + Math.max(...drops.map((d) => d.atMs))) * 1000 };
        const stored = (await StoredWindows.read(c, [span])).rows(span);
        drops.forEach((d, i) => {
          const got = latestCreate(stored, d.server, d.role, T0 + d.atMs, minutes);
          const e = expected[i]!;
          assert.equal(got?.created_at ?? null, e.created_at);
          if (Number(e.makers_at_latest) <= 1) assert.equal(got?.created_by ?? null, e.created_by);
        });
      }),
      { numRuns: 60 },
    );
  });
});
