/**
 * `RoleAttributes` answers what the Entra rules used to read from `privilege_changes` each batch (a role's
 * attribute just before a change), kept from batch to batch: checked against that query, in the same transaction,
 * on random changes out of order, with ties in (logged_at, seq), rows a later batch rolls back or takes back into
 * effect (the analyzer's marks), a fresh process on the same store, and batches that roll back.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { PrivilegeChange } from '../../src/analyze/privileges/privilege-change.js';
import type { IneffectiveMark } from '../../src/analyze/privileges/privilege-analyzer.js';
import { RoleAttributes } from '../../src/detect/role-attributes.js';
import type { WrittenBatch } from '../../src/detect/written-batch.js';
import { runQueryOverRows } from '../../src/query/run-query.js';
import { AuditStore } from '../../src/store/audit-store.js';
import { sqlString } from '../../src/store/sql-literal.js';

const T0 = Date.parse('2026-11-01T00:00:00.000Z');
const ATTRIBUTES = ['auth_kind', 'entra_oid'];
const ROLES = ['alice', 'bob'];

/** What the rules read before: the query over `privilege_changes`, in the batch's transaction. */
async function beforeByQuery(connection: DuckDBConnection, changes: readonly PrivilegeChange[], attribute: string): Promise<(string | null | undefined)[]> {
  const rows = await runQueryOverRows(
    connection,
    { w_server: 'VARCHAR', w_role: 'VARCHAR', w_at: 'TIMESTAMPTZ', w_seq: 'BIGINT' },
    changes.map((c) => ({ w_server: c.server, w_role: c.roleName ?? '', w_at: c.loggedAt, w_seq: Number(c.seq) })),
    (list) => `SELECT w.i, r.action, r.value
       FROM ${list} w
       LEFT JOIN privilege_changes r ON r.server = w.w_server AND r.role_name = w.w_role AND r.effective
         AND (r.action IN ('create-role', 'drop-role') OR (r.action = 'set-attribute' AND r.attribute = ${sqlString(attribute)}))
         AND (r.logged_at < w.w_at OR (r.logged_at = w.w_at AND r.seq < w.w_seq))
       QUALIFY row_number() OVER (PARTITION BY w.i ORDER BY r.logged_at DESC, r.seq DESC) = 1
       ORDER BY w.i`,
  );
  return rows.map((row) => (row.action !== 'set-attribute' ? undefined : row.value === null ? null : String(row.value)));
}

const change = fc.record({
  role: fc.nat(ROLES.length - 1),
  kind: fc.constantFrom('create-role', 'drop-role', 'auth_kind', 'entra_oid', 'set-password'),
  value: fc.constantFrom('entra', 'password', 'oid-1', 'oid-2', null),
  minute: fc.nat(30),
  seq: fc.nat(3),
  session: fc.constantFrom('s1', 's2'),
  effective: fc.integer({ min: 0, max: 5 }).map((n) => n > 0),
});

type ChangeSpec = typeof change extends fc.Arbitrary<infer T> ? T : never;

const step = fc.record({
  changes: fc.array(change, { maxLength: 6 }),
  /** Indexes into the rows stored so far: a later batch rolls them back. */
  undo: fc.array(fc.nat(100), { maxLength: 2 }),
  /** Indexes into the rows stored so far: a later batch takes them back into effect (a COMMIT read after the disconnection). */
  redo: fc.array(fc.nat(100), { maxLength: 1 }),
  then: fc.constantFrom('commit', 'commit', 'commit', 'commit', 'rollback', 'restart'),
});

function toChange(c: ChangeSpec): PrivilegeChange {
  const attribute = c.kind === 'auth_kind' || c.kind === 'entra_oid' ? c.kind : null;
  return {
    server: 'pg1',
    loggedAt: new Date(T0 + c.minute * 60_000),
    sessionId: c.session,
    action: attribute ? 'set-attribute' : c.kind,
    roleName: ROLES[c.role]!,
    attribute,
    value: attribute ? c.value : null,
    effective: c.effective,
    seq: c.seq,
  } as PrivilegeChange;
}

async function insert(connection: DuckDBConnection, changes: readonly PrivilegeChange[]): Promise<void> {
  if (changes.length === 0) return;
  const rows = changes.map(
    (c) =>
      `('pg1', ${sqlString(c.loggedAt.toISOString())}::TIMESTAMPTZ, ${sqlString(c.sessionId!)}, ${sqlString(c.action)}, ${sqlString(c.roleName!)}, ` +
      `${c.attribute === null ? 'NULL' : sqlString(c.attribute)}, ${c.value === null ? 'NULL' : sqlString(c.value)}, ${c.effective}, ${c.seq}, 'stmt')`,
  );
  await connection.run(`INSERT INTO privilege_changes (server, logged_at, session_id, action, role_name, attribute, value, effective, seq, statement) VALUES ${rows.join(', ')}`);
}

/** As the store applies a later batch's rollbacks and restores (audit-store.ts, markIneffective). */
async function markIneffective(connection: DuckDBConnection, marks: readonly IneffectiveMark[]): Promise<void> {
  for (const m of marks) {
    await connection.run(
      `UPDATE privilege_changes SET effective = ${m.effective} WHERE server = ${sqlString(m.server)} AND session_id = ${sqlString(m.sessionId!)}
         AND seq IN (${m.seqs.join(', ')}) AND logged_at BETWEEN ${sqlString(m.from.toISOString())}::TIMESTAMPTZ AND ${sqlString(m.until.toISOString())}::TIMESTAMPTZ`,
    );
  }
}

describe('RoleAttributes', () => {
  it('gives the value before each change that the query over privilege_changes gives, batch after batch', async () => {
    let compared = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 25 }), fc.array(change, { minLength: 4, maxLength: 8 }), async (steps, probes) => {
        const store = await AuditStore.open(':memory:');
        const connection = store.connection;
        let kept = new RoleAttributes(ATTRIBUTES);
        const stored: PrivilegeChange[] = [];
        try {
          for (const s of steps) {
            const changes = s.changes.map(toChange);
            const mark = (i: number, effective: boolean): IneffectiveMark[] => {
              const c = stored[i % Math.max(1, stored.length)];
              return c ? [{ server: 'pg1', sessionId: c.sessionId, from: c.loggedAt, until: c.loggedAt, seqs: [c.seq], effective, reason: effective ? 'committed' : 'rollback' }] : [];
            };
            const ineffective: IneffectiveMark[] = [...s.undo.flatMap((i) => mark(i, false)), ...s.redo.flatMap((i) => mark(i, true))];
            await connection.run('BEGIN TRANSACTION');
            await insert(connection, changes);
            await markIneffective(connection, ineffective);
            const batch = { privilegeChanges: changes, ineffective } as unknown as WrittenBatch;
            await kept.begin(connection, batch);
            // Asked about the batch's own changes and about other places in the order.
            const asked = [...changes, ...probes.map(toChange)];
            for (const attribute of ATTRIBUTES) {
              assert.deepEqual(await kept.before(connection, asked, attribute), await beforeByQuery(connection, asked, attribute), attribute);
              compared += asked.length;
            }
            await kept.end(connection);
            if (s.then === 'rollback') {
              await connection.run('ROLLBACK');
              kept.forget();
            } else {
              await connection.run('COMMIT');
              stored.push(...changes);
              if (s.then === 'restart') kept = new RoleAttributes(ATTRIBUTES);
            }
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 60 },
    );
    assert.ok(compared > 0);
  });
});
